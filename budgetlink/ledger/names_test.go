package ledger

import (
	"context"
	"testing"
)

func TestLineAndAuditNameTheirCases(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运", 100_000)
	c := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, bulkyDesc), bulkyItem)
	if _, err := e.LinkCase(ctx, xjkStaff, c.ID, line.ID, 30_000); err != nil {
		t.Fatal(err)
	}
	want := CaseName{Number: c.Number, Title: c.Title}

	t.Run("line", func(t *testing.T) {
		got, err := e.LineWithCases(ctx, xjkStaff, line.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Reservations) != 1 || got.Cases[c.ID] != want {
			t.Errorf("cases = %+v, want %s → %+v", got.Cases, c.ID, want)
		}
	})
	t.Run("audit", func(t *testing.T) {
		items, names, _, err := e.AuditWithCases(ctx, xjkStaff, AuditFilter{LineID: line.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 0 || names[c.ID] != want {
			t.Errorf("audit %d entries, names %+v; want %s → %+v", len(items), names, c.ID, want)
		}
	})
	t.Run("scope still applies", func(t *testing.T) {
		if _, err := e.LineWithCases(ctx, dsStaff, line.ID); err == nil {
			t.Error("another sub-district's staff read the line")
		}
	})
}
