package ledger

import (
	"context"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/internal/auth"
)

func TestPay(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	const wages = "ZH-01-01" // 在职人员工资福利: 按实际

	t.Run("a month's wages are spent once, audited, and Check agrees", func(t *testing.T) {
		l := mustLine(t, s, "xinjiekou", wages, "工资", 1_200_000)
		req := PaymentRequest{LineID: l.ID, ID: "payroll-2026-03", AmountFen: 98_000, Note: "2026年3月工资"}
		pm, err := s.Pay(ctx, xjkStaff, req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.Pay(ctx, finance, req)
		if err != nil || again.Movement != pm.Movement {
			t.Errorf("repeat: got %+v, %v; want the first payment %s", again, err, pm.Movement)
		}
		got := mustGet(t, s, l.ID)
		if got.SpentFen != 98_000 || got.AvailableFen != 1_200_000-98_000 || len(got.Payments) != 1 {
			t.Errorf("line: spent %d available %d payments %d; want 98000, %d, 1", got.SpentFen, got.AvailableFen, len(got.Payments), 1_200_000-98_000)
		}
		wantInvariant(t, got)
		if n := auditCount(t, s, bson.M{"line_id": l.ID, "kind": AuditSpend}); n != 1 {
			t.Errorf("spend audit entries: got %d, want 1", n)
		}
		rep, err := s.Check(ctx)
		if err != nil || !rep.OK() {
			t.Errorf("check: %+v, %v; want clean", rep, err)
		}
		wantCode(t, func() error {
			_, err := s.Pay(ctx, finance, PaymentRequest{LineID: l.ID, ID: req.ID, AmountFen: 1, Note: "x"})
			return err
		}(), minsheng.ECONFLICT)
	})

	t.Run("refusals", func(t *testing.T) {
		l := mustLine(t, s, "xinjiekou", wages, "工资（拒绝）", 10_000)
		project := mustLine(t, s, "xinjiekou", "CG-02-01", "背街小巷整治", 10_000) // 依财力: spent through cases
		for _, tc := range []struct {
			name string
			req  PaymentRequest
			code string
		}{
			{name: "other sub-district's staff", req: PaymentRequest{LineID: l.ID, ID: "a", AmountFen: 1, Note: "n"}, code: minsheng.EFORBIDDEN},
			{name: "zero amount", req: PaymentRequest{LineID: l.ID, ID: "b", Note: "n"}, code: minsheng.EINVALID},
			{name: "no note", req: PaymentRequest{LineID: l.ID, ID: "c", AmountFen: 1}, code: minsheng.EINVALID},
			{name: "more than available", req: PaymentRequest{LineID: l.ID, ID: "d", AmountFen: 10_001, Note: "n"}, code: minsheng.ECONFLICT},
			{name: "a project line", req: PaymentRequest{LineID: project.ID, ID: "e", AmountFen: 1, Note: "n"}, code: minsheng.EINVALID},
			{name: "no such line", req: PaymentRequest{LineID: "nope", ID: "f", AmountFen: 1, Note: "n"}, code: minsheng.ENOTFOUND},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := xjkStaff
				if tc.code == minsheng.EFORBIDDEN {
					p = dsStaff
				}
				_, err := s.Pay(ctx, p, tc.req)
				wantCode(t, err, tc.code)
			})
		}
		for _, p := range []auth.Principal{cadre, resident} {
			_, err := s.Pay(ctx, p, PaymentRequest{LineID: l.ID, ID: "g", AmountFen: 1, Note: "n"})
			wantCode(t, err, minsheng.EFORBIDDEN)
		}
		if got := mustGet(t, s, l.ID); got.SpentFen != 0 || len(got.Payments) != 0 {
			t.Errorf("after refusals: spent %d, %d payments; want none", got.SpentFen, len(got.Payments))
		}
	})

	t.Run("concurrent payments never overspend", func(t *testing.T) {
		l := mustLine(t, s, "desheng", wages, "工资（并发）", 50_000)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = s.Pay(ctx, finance, PaymentRequest{LineID: l.ID, ID: string(rune('A' + i)), AmountFen: 10_000, Note: "月度工资"})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if minsheng.ErrorCode(err) != minsheng.ECONFLICT {
				t.Errorf("got %v, want conflict", err)
			}
		}
		got := mustGet(t, s, l.ID)
		if ok != 5 || got.SpentFen != 50_000 || got.AvailableFen != 0 {
			t.Errorf("got %d paid, spent %d, available %d; want 5, 50000, 0", ok, got.SpentFen, got.AvailableFen)
		}
		wantInvariant(t, got)
	})

	t.Run("Check recomputes spent from the payments", func(t *testing.T) {
		l := mustLine(t, s, "xinjiekou", wages, "工资（核查）", 100_000)
		if _, err := s.Pay(ctx, finance, PaymentRequest{LineID: l.ID, ID: "m1", AmountFen: 30_000, Note: "1月工资"}); err != nil {
			t.Fatal(err)
		}
		// A crash-like corruption: the totals lost the payment.
		if _, err := s.lines.UpdateOne(ctx, bson.M{"_id": l.ID}, bson.M{"$set": bson.M{"spent_fen": int64(0), "available_fen": int64(100_000)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Check(ctx); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, s, l.ID); got.SpentFen != 30_000 || got.AvailableFen != 70_000 {
			t.Errorf("after check: spent %d available %d; want 30000, 70000", got.SpentFen, got.AvailableFen)
		}
	})
}
