package ledger

// Payments (直接支出): money a line spends without a case — the monthly
// wages of a personnel line (人员经费按实际) and the running costs of a
// quota line (公用经费按定额). Cases spend project money through their
// reservations; these lines are executed month by month by the finance
// office. A payment is an entry on the line like a reservation, summed
// into spent by Check (recomputed), written in one update conditional on
// the line's version and on available covering it, and idempotent by its
// id: paying the same id again returns the payment made.

import (
	"context"
	"time"

	"minsheng"
	"minsheng/budgetlink/catalog"
	"minsheng/internal/auth"
)

// Payment is one direct expenditure on a line.
type Payment struct {
	// ID is the caller's key for the payment (e.g. the payroll run), unique
	// on the line; it makes a repeated request harmless.
	ID        string `bson:"id" json:"id"`
	AmountFen int64  `bson:"amount_fen" json:"amount_fen"`
	// Note says what was paid ("2026年3月工资").
	Note   string    `bson:"note" json:"note"`
	PaidAt time.Time `bson:"paid_at" json:"paid_at"`
	By     string    `bson:"by" json:"by"`
	ByName string    `bson:"by_name" json:"by_name"`
	// Movement is the id of the payment's audit entry.
	Movement string `bson:"movement" json:"movement"`
}

// PaymentRequest asks for a direct expenditure on a line.
type PaymentRequest struct {
	LineID    string
	ID        string
	AmountFen int64
	Note      string
}

// maxPaymentIDLen bounds a payment's key.
const maxPaymentIDLen = 80

// Pay spends req.AmountFen of a personnel or running-cost line (按实际 or
// 按定额) without a case. Paying an id the line holds already returns that
// payment unchanged. Errors: EFORBIDDEN (not the line's staff, finance or
// admin); EINVALID (amount outside minsheng's bound, empty id or note, a
// project line, whose money is spent through cases); ENOTFOUND;
// ECONFLICT (not enough available, a frozen line, the same id with
// another amount).
func (s *Service) Pay(ctx context.Context, p auth.Principal, req PaymentRequest) (Payment, error) {
	fields := map[string]string{}
	if !minsheng.ValidAmount(req.AmountFen) || req.AmountFen == 0 {
		fields["amount_fen"] = "金额须大于 0 且不超过" + minsheng.MaxAmountText
	}
	if req.ID == "" || len(req.ID) > maxPaymentIDLen {
		fields["id"] = "请填写支付编号（不超过 80 个字符）"
	}
	if req.Note == "" {
		fields["note"] = "请说明支出内容"
	}
	if len(fields) > 0 {
		return Payment{}, minsheng.Invalid("支出参数有误", fields)
	}
	var paid Payment
	_, _, err := s.mutateLine(ctx, req.LineID, func(l *BudgetLine) (*lineChange, error) {
		if err := requireLinker(p, l.SubDistrict); err != nil {
			return nil, err
		}
		if err := s.payableItem(l); err != nil {
			return nil, err
		}
		for _, pm := range l.Payments {
			if pm.ID != req.ID {
				continue
			}
			if pm.AmountFen != req.AmountFen {
				return nil, minsheng.Errorf(minsheng.ECONFLICT, "支付编号 %s 已用于一笔 %s 的支出", req.ID, minsheng.Yuan(pm.AmountFen))
			}
			paid = pm
			return nil, nil
		}
		if l.AvailableFen < req.AmountFen {
			return nil, minsheng.Errorf(minsheng.ECONFLICT, "可用额度不足：本项目可用 %s，本次支出 %s", minsheng.Yuan(l.AvailableFen), minsheng.Yuan(req.AmountFen))
		}
		paid = Payment{ID: req.ID, AmountFen: req.AmountFen, Note: req.Note, PaidAt: s.now(), By: p.UserID, ByName: p.Name, Movement: newID("MV")}
		return &lineChange{
			reservations: l.Reservations,
			payments:     append(append([]Payment(nil), l.Payments...), paid),
			spent:        req.AmountFen,
			available:    -req.AmountFen,
			audit: AuditEntry{ID: paid.Movement, Kind: AuditSpend, AmountFen: req.AmountFen,
				By: p.UserID, ByName: p.Name, Note: req.Note},
		}, nil
	})
	return paid, err
}

// payableItem refuses a project line: its money is spent through cases.
func (s *Service) payableItem(l *BudgetLine) error {
	cat, err := s.Catalog(l.FiscalYear)
	if err != nil {
		return err
	}
	item, ok := cat.Item(l.ItemCode)
	if !ok || (item.BudgetMethod != catalog.CatalogActual && item.BudgetMethod != catalog.CatalogQuota) {
		return minsheng.Invalid("支出参数有误", map[string]string{"line_id": "项目经费按案件支出；直接支出只用于按实际或按定额核定的人员、公用经费"})
	}
	return nil
}
