package ledger

import (
	"context"
	"sync"
	"testing"

	"minsheng"
)

func TestVoidLine(t *testing.T) {
	ctx := context.Background()
	s := newService(t)

	t.Run("a line that never moved money is voided once, with an audit entry", func(t *testing.T) {
		l := mustLine(t, s, "xinjiekou", bulkyItem, "录错的项目", 100_000)
		wantCode(t, s.VoidLine(ctx, dsStaff, l.ID, l.Version), minsheng.EFORBIDDEN)
		wantCode(t, s.VoidLine(ctx, finance, l.ID, l.Version+1), minsheng.ECONFLICT)
		if err := s.VoidLine(ctx, xjkStaff, l.ID, l.Version); err != nil {
			t.Fatalf("void: %v", err)
		}
		if _, err := s.FindLineByID(ctx, l.ID); minsheng.ErrorCode(err) != minsheng.ENOTFOUND {
			t.Errorf("after void: got %v, want not found", err)
		}
		wantCode(t, s.VoidLine(ctx, finance, l.ID, l.Version), minsheng.ENOTFOUND)
		// The line is gone, so its audit is read by sub-district.
		entries, _, err := s.Audit(ctx, finance, AuditFilter{SubDistrict: "xinjiekou"})
		var voids []AuditEntry
		for _, e := range entries {
			if e.LineID == l.ID {
				voids = append(voids, e)
			}
		}
		if err != nil || len(voids) != 1 || voids[0].Kind != AuditVoid || voids[0].ByName != xjkStaff.Name {
			t.Errorf("audit = %+v, %v; want one void entry by %s", voids, err, xjkStaff.Name)
		}
	})
	t.Run("a line with an adjustment is refused", func(t *testing.T) {
		l := mustLine(t, s, "xinjiekou", bulkyItem, "已调整的项目", 100_000)
		if _, err := s.Adjust(ctx, finance, AdjustmentRequest{Kind: AdjustIncrease, LineID: l.ID, AmountFen: 5_000, Reason: "追加"}); err != nil {
			t.Fatal(err)
		}
		l = mustGet(t, s, l.ID)
		wantCode(t, s.VoidLine(ctx, finance, l.ID, l.Version), minsheng.ECONFLICT)
		mustGet(t, s, l.ID)
	})
	t.Run("simultaneous voids: one wins, the others find it gone or changed", func(t *testing.T) {
		for round := range 5 {
			l := mustLine(t, s, "desheng", bulkyItem, "并发作废"+string(rune('A'+round)), 100_000)
			var wg sync.WaitGroup
			errs := make([]error, 12)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.VoidLine(ctx, finance, l.ID, l.Version)
				}()
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch minsheng.ErrorCode(err) {
				case "":
					won++
				case minsheng.ENOTFOUND, minsheng.ECONFLICT:
				default:
					t.Errorf("round %d: unexpected %v", round, err)
				}
			}
			if won != 1 {
				t.Errorf("round %d: %d voids succeeded, want 1", round, won)
			}
		}
	})
}
