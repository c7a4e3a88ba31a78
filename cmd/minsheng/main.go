// Command minsheng runs the 民生 casework platform: `minsheng serve` starts
// the server; other subcommands manage users and check the ledger. All
// wiring between packages happens here.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "minsheng:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `minsheng — 民生: sub-district casework tied to budget lines

usage:
  minsheng serve [--demo] [flags]              run the server (flags: minsheng serve -h); --demo fills an
                                               empty store with the demo district and marks every response
  minsheng seed --demo [--seed S] [--sub-districts K] [--cases N]
                                               fill an empty store with the demo district (西城区, one year)
  minsheng seed --cases N [--sub-districts K] [--seed S]
                                               add N generated cases (and budget lines) for scale tests
  minsheng users add --username U --role R [--scope S] [--name N] [--password P]
                                               create an account (roles: cadre, subdistrict, finance, admin)
  minsheng users list [--role R] [--sub-district S]
  minsheng users disable|enable USERNAME        stop or allow sign-in; disabling ends every session
  minsheng users passwd USERNAME [--password P]  set a password (empty: generated, shown once); ends sessions
  minsheng users scope USERNAME [--role R] --scope S
                                               move an account to another community/sub-district or role;
                                               ends sessions (access tokens die on every instance within seconds)
  minsheng check [--json]                      recompute budget lines from their reservations, repair
                                               totals and case copies, report what was fixed (also run at start)
  minsheng health [URL]                        exit 0 when URL (default http://127.0.0.1:8080/readyz) answers 200;
                                               for container health checks, where the image has no curl
  minsheng help                                this text and the configuration table

Configuration comes from environment variables; flags of the same name override them.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "users":
		return users(ctx, args[1:], getenv, stdout, stderr)
	case "seed":
		return seed(ctx, args[1:], getenv, stdout, stderr)
	case "check":
		return check(ctx, args[1:], getenv, stdout, stderr)
	case "health":
		return health(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		printConfigHelp(stdout)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func health(ctx context.Context, args []string, stdout io.Writer) error {
	url := "http://127.0.0.1:8080/readyz"
	if len(args) > 0 {
		url = args[0]
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
