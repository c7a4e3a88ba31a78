package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"minsheng"
	"minsheng/internal/auth"
)

// usersAdd creates an account from the shell. Without --password a random
// one is generated and printed once.
func usersAdd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newStoreCommand("users add", stderr)
	username := fs.String("username", "", "login name (3–32 lower-case letters, digits, _ . -)")
	role := fs.String("role", "", "cadre, subdistrict, finance or admin")
	scope := fs.String("scope", "", "community code for a cadre, sub-district code for subdistrict staff")
	name := fs.String("name", "", "display name")
	password := fs.String("password", "", "password (8–72 characters); empty: generated")
	d, err := fs.open(ctx, args, getenv, stderr)
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

// users dispatches "minsheng users …".
func users(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "add":
		return usersAdd(ctx, args[1:], getenv, stdout, stderr)
	case "list":
		return usersList(ctx, args[1:], getenv, stdout, stderr)
	case "disable", "enable", "passwd", "scope":
		return usersChange(ctx, args[0], args[1:], getenv, stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown users command %q", args[0])
}

// usersChange disables, enables, sets the password of or re-scopes one
// account named by its username, as auth.System.
func usersChange(ctx context.Context, verb string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newStoreCommand("users "+verb, stderr)
	var password, role, scope *string
	switch verb {
	case "passwd":
		password = fs.String("password", "", "new password (8–72 characters); empty: generated")
	case "scope":
		role = fs.String("role", "", "new role (cadre, subdistrict, finance, admin); empty: unchanged")
		scope = fs.String("scope", "", "community code for a cadre, sub-district code for subdistrict staff")
	}
	// The username may come before or after the flags.
	var username string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		username, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if username == "" && fs.NArg() > 0 {
		username = fs.Arg(0)
	}
	if username == "" {
		return fmt.Errorf("users %s: name the account: minsheng users %s USERNAME", verb, verb)
	}
	d, err := openForCommand(ctx, *fs.data, getenv, stderr)
	if err != nil {
		return err
	}
	defer d.store.Close(context.WithoutCancel(ctx))

	u, err := d.auth.FindUserByUsername(ctx, username)
	if err != nil {
		if minsheng.ErrorCode(err) == minsheng.ENOTFOUND {
			return fmt.Errorf("no account named %q", username)
		}
		return err
	}
	switch verb {
	case "disable", "enable":
		disabled := verb == "disable"
		if u, err = d.auth.UpdateUser(ctx, auth.System, u.ID, auth.UserUpdate{Disabled: &disabled}); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "%s %sd (disabled=%v); its sessions end within seconds\n", u.Username, verb, u.Disabled)
	case "passwd":
		pw := *password
		if pw == "" {
			pw = auth.RandomPassword()
		}
		if err := d.auth.SetPassword(ctx, auth.System, u.ID, pw); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "password of %s set; its sessions end within seconds\n", u.Username)
		if *password == "" {
			fmt.Fprintf(stdout, "password: %s (shown once)\n", pw)
		}
	case "scope":
		upd := auth.UserUpdate{Scope: scope}
		if *role != "" {
			r := auth.Role(*role)
			upd.Role = &r
		}
		if u, err = d.auth.UpdateUser(ctx, auth.System, u.ID, upd); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "%s is now %s community=%s sub_district=%s; its sessions end within seconds\n", u.Username, u.Role, u.Community, u.SubDistrict)
	}
	return nil
}

// usersList prints accounts, one a line, every page.
func usersList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newStoreCommand("users list", stderr)
	role := fs.String("role", "", "only this role")
	sd := fs.String("sub-district", "", "only this sub-district code")
	d, err := fs.open(ctx, args, getenv, stderr)
	if err != nil {
		return err
	}
	defer d.store.Close(context.WithoutCancel(ctx))
	f := auth.UserFilter{Role: auth.Role(*role), SubDistrict: *sd, Limit: 100}
	for {
		items, next, err := d.auth.FindUsers(ctx, auth.System, f)
		if err != nil {
			return cliError(err)
		}
		for _, u := range items {
			name := u.Username
			if name == "" {
				name = u.Phone
			}
			state := "enabled"
			if u.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, name, u.Role, u.SubDistrict, u.Community, state)
		}
		if next == "" {
			return nil
		}
		f.Cursor = next
	}
}

// cliError spells out a domain error with its fields as flags.
func cliError(err error) error {
	if minsheng.ErrorCode(err) == minsheng.EINTERNAL {
		return err
	}
	msg := minsheng.ErrorMessage(err)
	for f, m := range minsheng.ErrorFields(err) {
		msg += fmt.Sprintf("\n  --%s: %s", f, m)
	}
	return fmt.Errorf("%s", msg)
}
