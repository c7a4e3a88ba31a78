package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"minsheng"
	"minsheng/demo"
	"minsheng/internal/calendar"
)

// seed fills a store: --demo with the demo district (an empty store only),
// --cases N with N plain cases for scale tests (it only adds).
func seed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("seed", flag.ContinueOnError)
	flags.SetOutput(stderr)
	demoMode := flags.Bool("demo", false, "fill an empty store with the demo district (西城区, one fiscal year)")
	n := flags.Int("cases", 0, "generate this many plain cases (and matching budget lines) for scale tests; with --demo: about how many demo cases (at least 40 a sub-district)")
	subs := flags.Int("sub-districts", 0, "how many sub-districts get the cases (--cases: default 3, up to 15; --demo: 1–3 of "+strings.Join(demo.DefaultSubDistricts, ", ")+")")
	seedValue := flags.Uint64("seed", 1, "the same seed gives the same data")
	data := flags.String("data", "", "data directory (default MINSHENG_DATA or ./data)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if !*demoMode && *n <= 0 {
		fmt.Fprintln(stderr, "usage: minsheng seed --demo [--seed S] [--sub-districts K] [--cases N] | --cases N [--sub-districts K] [--seed S]")
		return errUsage
	}
	d, err := openForCommand(ctx, *data, getenv, stderr)
	if err != nil {
		return err
	}
	defer d.close(context.WithoutCancel(ctx))

	if *demoMode {
		opts := demo.Options{Seed: *seedValue}
		if *subs != 0 {
			if *subs < 1 || *subs > len(demo.DefaultSubDistricts) {
				return fmt.Errorf("--sub-districts must be 1–%d with --demo", len(demo.DefaultSubDistricts))
			}
			opts.SubDistricts = demo.DefaultSubDistricts[:*subs]
		}
		if *n > 0 {
			k := len(demo.DefaultSubDistricts)
			if len(opts.SubDistricts) > 0 {
				k = len(opts.SubDistricts)
			}
			opts.CasesPerSubDistrict = *n / k
		}
		fmt.Fprintln(stderr, "正在生成演示数据（西城区一个财年）… / seeding the demo district …")
		rep, err := demo.Seed(ctx, d.demoEnv(), opts)
		if err != nil {
			return errors.New(messageOf(err))
		}
		printDemo(stdout, rep)
		return nil
	}
	rep, err := demo.SeedCases(ctx, d.demoEnv(), demo.BulkOptions{Cases: *n, SubDistricts: *subs, Seed: *seedValue})
	if err != nil {
		return errors.New(messageOf(err))
	}
	fmt.Fprintf(stdout, "generated %d cases in %s (fiscal year %d, sub-districts %s, %d new budget lines)\n",
		rep.Cases, rep.Duration, rep.FiscalYear, strings.Join(rep.SubDistricts, ","), rep.Lines)
	if d.store.Embedded() {
		if size, err := dirSize(filepath.Join(d.cfg.DataDir, "db")); err == nil {
			fmt.Fprintf(stdout, "embedded database size: %.1f MB\n", float64(size)/(1<<20))
		}
	}
	return nil
}

// serveDemo is serve --demo: seed an empty store (or find the demo seeded
// before), refuse one with real data, and print the demo accounts.
func serveDemo(ctx context.Context, d *deps, stderr io.Writer) error {
	fmt.Fprintln(stderr, "\n  演示模式 / demo mode: 正在准备演示数据（首次启动需要几分钟）…")
	rep, err := demo.Ensure(ctx, d.demoEnv(), demo.Options{})
	if err != nil {
		return fmt.Errorf("--demo: %s", messageOf(err))
	}
	printDemo(stderr, rep)
	return nil
}

// demoEnv hands the demo the services' stores and settings.
func (d *deps) demoEnv() demo.Env {
	return demo.Env{Store: d.store, Org: d.org, Auth: d.auth, Photos: d.photos, Cases: d.casesCfg, Logger: d.logger}
}

// printDemo shows what the demo holds and how to sign in.
func printDemo(w io.Writer, rep *demo.Report) {
	state := "created"
	if rep.AlreadySeeded {
		state = "found (seeded before)"
	}
	fmt.Fprintf(w, "\n  演示数据 / demo district %s: fiscal year %d as of %s, seed %d\n", state, rep.FiscalYear,
		rep.AsOf.In(calendar.Zone()).Format("2006-01-02 15:04"), rep.Seed)
	statuses := make([]string, 0, len(rep.ByStatus))
	for s, n := range rep.ByStatus {
		statuses = append(statuses, fmt.Sprintf("%s %d", s, n))
	}
	slices.Sort(statuses)
	fmt.Fprintf(w, "  %d cases (%s), %d photos, %d budget lines, %d adjustments, %d reviews, %d allocation runs funding %d cases\n",
		rep.Cases, strings.Join(statuses, ", "), rep.Photos, rep.Lines, rep.Adjustments, rep.Reviews, rep.Runs, rep.Funded)
	fmt.Fprintln(w, "  演示账号 / demo accounts (demo mode only):")
	for _, a := range rep.Accounts {
		switch {
		case a.Role == "resident":
			fmt.Fprintf(w, "    %-22s SMS code %-14s %s (居民: POST /api/v1/auth/otp, then /otp/verify)\n", a.Phone, a.Secret, a.Name)
		case a.Username == "admin" && rep.AdminExisted:
			fmt.Fprintf(w, "    %-22s (kept its own password)     %s\n", a.Username, a.Name)
		default:
			fmt.Fprintf(w, "    %-22s password %-14s %s (%s %s)\n", a.Username, a.Secret, a.Name, a.Role, a.Scope)
		}
	}
	if rep.Cadres > 0 {
		fmt.Fprintf(w, "    … and %d more community cadres: username = community code (e.g. dashilan-shitou), same password\n", rep.Cadres)
	}
	fmt.Fprintln(w, "  Every API response carries X-Minsheng-Demo: 1.")
	fmt.Fprintln(w)
}

// messageOf is the user-facing text of an error: the Chinese message of a
// minsheng.Error with its fields, or the error itself.
func messageOf(err error) string {
	var e *minsheng.Error
	if !errors.As(err, &e) || e.Code == minsheng.EINTERNAL {
		return err.Error()
	}
	msg := e.Message
	for f, m := range minsheng.ErrorFields(err) {
		msg += fmt.Sprintf("; %s: %s", f, m)
	}
	return msg
}

// takeFlag removes a boolean flag (-name or --name) from args and reports
// whether it was there; serve's other flags come from the config table.
func takeFlag(args []string, name string) ([]string, bool) {
	out := make([]string, 0, len(args))
	found := false
	for _, a := range args {
		if a == "-"+name || a == "--"+name || a == "-"+name+"=true" || a == "--"+name+"=true" {
			found = true
			continue
		}
		out = append(out, a)
	}
	return out, found
}

func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			info, err := e.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}
