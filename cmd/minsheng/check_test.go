package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minsheng/budgetlink"
	"minsheng/budgetlink/ledger"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

// TestCheckRefusesLiveDataDir (issue 8 item 11): `minsheng check` on the
// data directory of a running server refuses with a clear message instead
// of repairing what the server is still writing; once it stops, check runs.
func TestCheckRefusesLiveDataDir(t *testing.T) {
	data := filepath.Join(shortTempDir(t), "data")
	env := map[string]string{"MINSHENG_DATA": data, "MINSHENG_ADMIN_PASSWORD": "admin-password-1"}
	srv := startServer(t, env)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"check"}, envOf(env), &out, &errOut)
	if !errors.Is(err, store.ErrDataDirInUse) || !strings.Contains(err.Error(), "正被另一个 minsheng 进程使用") {
		t.Fatalf("check beside a live server: %v, want the data directory refused", err)
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"check"}, envOf(env), &out, &errOut); err != nil {
		t.Fatalf("check after stop: %v\n%s", err, errOut.String())
	}
}

// TestPoisonedLedgerDoesNotStopTheServer (issue 8 item 1): data the old
// code accepted — a line approved at int64 max, a pending adjustment of
// int64 max — written straight into the data directory. `minsheng check`
// exits 0 and reports what it froze and failed, and `serve` starts.
func TestPoisonedLedgerDoesNotStopTheServer(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(shortTempDir(t), "data")
	st, err := store.Open(ctx, store.Config{DataDir: data, Database: "minsheng", Logger: storetest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureIndexes(ctx, budgetlink.Indexes); err != nil {
		t.Fatal(err)
	}
	old := time.Now().UTC().Add(-time.Hour)
	lines := []ledger.BudgetLine{
		{ID: "BL-poison-approved", FiscalYear: 2026, SubDistrict: "jinrongjie", ItemCode: "SQ-05-04", ProjectName: "批复溢出",
			ApprovedFen: math.MaxInt64, AvailableFen: math.MaxInt64, Reservations: []ledger.Reservation{}, Adjustments: []ledger.LineDelta{}, CreatedAt: old, UpdatedAt: old},
		{ID: "BL-normal", FiscalYear: 2026, SubDistrict: "jinrongjie", ItemCode: "CG-01-02", ProjectName: "普通",
			ApprovedFen: 100_000, AvailableFen: 100_000, Reservations: []ledger.Reservation{}, Adjustments: []ledger.LineDelta{}, CreatedAt: old, UpdatedAt: old},
	}
	for _, l := range lines {
		if err := st.Collection("budget_lines").InsertOne(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []ledger.Adjustment{
		{ID: "ADJ-poison", Kind: ledger.AdjustIncrease, FiscalYear: 2026, SubDistricts: []string{"jinrongjie"},
			Entries: []ledger.AdjustmentEntry{{LineID: "BL-normal", DeltaFen: math.MaxInt64}}, AmountFen: math.MaxInt64,
			Reason: "溢出", State: ledger.AdjustmentPending, CreatedAt: old},
		{ID: "ADJ-one-fen", Kind: ledger.AdjustIncrease, FiscalYear: 2026, SubDistricts: []string{"jinrongjie"},
			Entries: []ledger.AdjustmentEntry{{LineID: "BL-poison-approved", DeltaFen: 1}}, AmountFen: 1,
			Reason: "再加一分", State: ledger.AdjustmentPending, CreatedAt: old},
	} {
		if err := st.Collection("budget_adjustments").InsertOne(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}

	env := map[string]string{"MINSHENG_DATA": data, "MINSHENG_ADMIN_PASSWORD": "admin-password-1"}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"check"}, envOf(env), &out, &errOut); err != nil {
		t.Fatalf("check on poisoned data: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{ledger.FixAdjustmentFailed, ledger.FixLineFrozen, "frozen: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	srv := startServer(t, env)
	if err := srv.stop(); err != nil {
		t.Fatalf("serve on poisoned data: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"check"}, envOf(env), &out, &errOut); err != nil {
		t.Fatalf("second check: %v\n%s", err, out.String())
	}
}
