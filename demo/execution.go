package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"minsheng/budgetlink/ledger"
	"minsheng/internal/auth"
)

// Month by month, the lines no case spends from are executed as a real
// year executes them: wages at their actual amounts on payday (人员经费按
// 实际), running costs at their quota's monthly share at the month's end
// (公用经费按定额), each through the ledger's Pay.

// personnelItems are paid monthly at actual amounts; runningItems at the
// quota's monthly share.
var (
	personnelItems = []string{"ZH-01-01", "ZH-01-02", "SQ-01-01"}
	runningItems   = []string{"ZH-02-01", "SQ-02-01", "SQ-03-05", "CG-01-01", "CG-01-02", "MS-02-01", "MS-02-02"}
)

// Paydays: wages on the 10th, running costs on the 25th.
const (
	wageDay    = 10
	runningDay = 25
)

// paydays are the days of s's year, up to s.end, on which day-of-month
// payments fall.
func (s *seeder) paydays(dom int) []time.Time {
	var out []time.Time
	for m := time.January; m <= time.December; m++ {
		t := time.Date(s.year, m, dom, 10, 0, 0, 0, zone)
		if t.After(s.end) {
			break
		}
		out = append(out, t)
	}
	return out
}

// execute pays every sub-district's personnel and running-cost lines for
// each month up to "now". A month's payment is its share of the line's
// budget (approved and adjusted), varied a little — wages by a few per
// cent (overtime, leave), running costs by more — and never more than the
// line has available after the cases linked to it.
func (s *seeder) execute(ctx context.Context) error {
	r := rand.New(rand.NewPCG(s.opts.Seed, 0xe7ec))
	for _, sd := range s.env.Org.District().SubDistricts {
		by, ok := s.staff[sd.Code]
		if !ok {
			by = s.finance
		}
		for _, group := range []struct {
			items    []string
			day      int
			lo, span float64
			what     string
		}{
			{personnelItems, wageDay, 0.97, 0.05, "工资福利（按实际）"},
			{runningItems, runningDay, 0.85, 0.2, "公用经费（按定额）"},
		} {
			days := s.paydays(group.day)
			for _, item := range group.items {
				l := s.lines[sd.Code][item]
				if l == nil {
					continue
				}
				if err := s.payMonths(ctx, r, by, l, days, group.lo, group.span, group.what); err != nil {
					return fmt.Errorf("%s %s: %w", sd.Code, item, err)
				}
			}
		}
	}
	return nil
}

// payMonths pays l on each of days.
func (s *seeder) payMonths(ctx context.Context, r *rand.Rand, by auth.Principal, l *ledger.BudgetLine, days []time.Time, lo, span float64, what string) error {
	cur, err := s.svc.budget.FindLineByID(ctx, l.ID)
	if err != nil {
		return err
	}
	avail := cur.AvailableFen
	share := float64(cur.BudgetFen()) / 12
	for _, d := range days {
		amount := int64(share * (lo + span*r.Float64()))
		amount -= amount % 100 // whole yuan
		amount = min(amount, avail)
		if amount <= 0 {
			continue
		}
		s.clk.set(d)
		month := d.Month()
		if _, err := s.svc.budget.Pay(ctx, by, ledger.PaymentRequest{
			LineID: l.ID, ID: fmt.Sprintf("%d-%02d", s.year, month), AmountFen: amount,
			Note: fmt.Sprintf("%d年%d月%s", s.year, month, what),
		}); err != nil {
			return err
		}
		avail -= amount
		s.rep.Payments++
	}
	return nil
}
