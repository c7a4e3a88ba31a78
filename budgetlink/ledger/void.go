package ledger

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/internal/auth"
)

// AuditVoid is the audit entry of a voided line (作废): the line is gone,
// the entry keeps who removed it and what it held.
const AuditVoid = "void"

// VoidLine removes a line that never moved money — no reservation, no
// adjustment, nothing committed or spent, no audit entry — such as one
// created or imported by mistake. version is the line's version as read;
// every money movement bumps it, so a movement racing the void makes the
// void a conflict instead of deleting a line that now holds money.
// Finance and admin void any line, sub-district staff their own.
// Errors: EFORBIDDEN, ENOTFOUND, ECONFLICT (money moved, stale version).
func (s *Service) VoidLine(ctx context.Context, p auth.Principal, lineID string, version int64) error {
	if err := p.RequireRole(auth.RoleSubdistrict, auth.RoleFinance, auth.RoleAdmin); err != nil {
		return err
	}
	l, err := s.FindLineByID(ctx, lineID)
	if err != nil {
		return err
	}
	if err := p.RequireAccess(l.SubDistrict, ""); err != nil {
		return err
	}
	if l.Version != version {
		return minsheng.Errorf(minsheng.ECONFLICT, "预算项目已被修改，请刷新后重试")
	}
	if len(l.Reservations) > 0 || l.AdjustmentCount > 0 || l.CommittedFen != 0 || l.SpentFen != 0 || l.AdjustedFen != 0 {
		return minsheng.Errorf(minsheng.ECONFLICT, "预算项目“%s”已有资金变动，不能作废（可调减至零）", l.ProjectName)
	}
	moved, err := s.audit.Count(ctx, bson.M{"line_id": l.ID})
	if err != nil {
		return fmt.Errorf("budgetlink: unable to read audit of %s: %w", l.ID, err)
	}
	if moved > 0 {
		return minsheng.Errorf(minsheng.ECONFLICT, "预算项目“%s”已有资金流水，不能作废", l.ProjectName)
	}
	deleted, err := s.lines.DeleteOne(ctx, bson.M{"_id": l.ID, "version": l.Version})
	if err != nil {
		return fmt.Errorf("budgetlink: unable to void line %s: %w", l.ID, err)
	}
	if !deleted {
		return minsheng.Errorf(minsheng.ECONFLICT, "预算项目已被修改，请刷新后重试")
	}
	before := Totals{ApprovedFen: l.ApprovedFen, AvailableFen: l.AvailableFen}
	return s.writeAudit(ctx, AuditEntry{
		ID: "VOID-" + l.ID, Kind: AuditVoid, LineID: l.ID, FiscalYear: l.FiscalYear, SubDistrict: l.SubDistrict,
		AmountFen: -l.ApprovedFen, Before: before, By: p.UserID, ByName: p.Name, ByRole: p.Role, At: s.now(),
		Note: "作废预算项目：" + l.ProjectName,
	})
}
