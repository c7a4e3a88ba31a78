package planning

import (
	"context"

	"minsheng"
	"minsheng/budgetlink/ledger"
	"minsheng/internal/auth"
)

// StartRunNamed is StartRun with the run's cases named (RunReport.Cases).
// Errors: those of StartRun.
func (s *Service) StartRunNamed(ctx context.Context, p auth.Principal, req RunRequest) (RunReport, error) {
	r, err := s.StartRun(ctx, p, req)
	if err != nil {
		return r, err
	}
	return r, s.nameCases(ctx, &r)
}

// RunNamed is Run with the run's cases named. Errors: those of Run.
func (s *Service) RunNamed(ctx context.Context, p auth.Principal, id string) (RunReport, error) {
	r, err := s.Run(ctx, p, id)
	if err != nil {
		return r, err
	}
	return r, s.nameCases(ctx, &r)
}

// nameCases looks up every case a run funded, waitlisted, could not place
// or would fund by an adjustment, one _id read each. Naming is best effort:
// the run has been decided (and maybe applied) already, so a failed lookup
// is logged and leaves that case shown by id instead of failing the answer.
func (s *Service) nameCases(ctx context.Context, r *RunReport) error {
	var ids []string
	for _, l := range r.Lines {
		for _, d := range l.Funded {
			ids = append(ids, d.CaseID)
		}
		for _, d := range l.Waitlisted {
			ids = append(ids, d.CaseID)
		}
	}
	for _, a := range r.Adjustments {
		ids = append(ids, a.FundsCaseIDs...)
	}
	for _, u := range r.Unplaced {
		ids = append(ids, u.CaseID)
	}
	r.Cases = map[string]ledger.CaseName{}
	for _, id := range ids {
		if _, ok := r.Cases[id]; ok || id == "" {
			continue
		}
		c, err := s.cases.FindByID(ctx, id)
		if minsheng.ErrorCode(err) == minsheng.ENOTFOUND {
			continue
		}
		if err != nil {
			s.logger.WarnContext(ctx, "planning: unable to name a run's case", "run_id", r.RunID, "case_id", id, "err", err)
			return nil
		}
		r.Cases[id] = ledger.CaseName{Number: c.Number, Title: c.Title}
	}
	return nil
}
