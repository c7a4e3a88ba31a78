package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"minsheng"
	"minsheng/internal/auth"
)

// usersAdd creates an account from the shell. Without --password a random
// one is generated and printed once.
func usersAdd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("users add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	username := fs.String("username", "", "login name (3–32 lower-case letters, digits, _ . -)")
	role := fs.String("role", "", "cadre, subdistrict, finance or admin")
	scope := fs.String("scope", "", "community code for a cadre, sub-district code for subdistrict staff")
	name := fs.String("name", "", "display name")
	password := fs.String("password", "", "password (8–72 characters); empty: generated")
	data := fs.String("data", "", "data directory (default MINSHENG_DATA or ./data)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := openForCommand(ctx, *data, getenv, stderr)
	if err != nil {
		return err
	}
	defer d.store.Close(context.WithoutCancel(ctx))

	pw := *password
	if pw == "" {
		pw = auth.RandomPassword()
	}
	u, err := d.auth.CreateUser(ctx, auth.NewUser{Username: *username, Password: pw, Name: *name, Role: auth.Role(*role), Scope: *scope})
	if err != nil {
		msg := minsheng.ErrorMessage(err)
		for f, m := range minsheng.ErrorFields(err) {
			msg += fmt.Sprintf("\n  --%s: %s", f, m)
		}
		return fmt.Errorf("%s", msg)
	}
	fmt.Fprintf(stdout, "created %s (%s) id=%s", u.Username, u.Role, u.ID)
	if u.Community != "" {
		fmt.Fprintf(stdout, " community=%s", u.Community)
	}
	if u.SubDistrict != "" {
		fmt.Fprintf(stdout, " sub_district=%s", u.SubDistrict)
	}
	fmt.Fprintln(stdout)
	if *password == "" {
		fmt.Fprintf(stdout, "password: %s (shown once)\n", pw)
	}
	return nil
}
