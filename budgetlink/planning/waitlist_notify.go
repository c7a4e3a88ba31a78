package planning

import (
	"context"
	"strings"

	"minsheng/cases"
)

// notifyWaitlisted tells the cadres of every need doc left waitlisted
// (cases.NotifyWaitlisted: once per run, case and cadre, so a resumed or
// re-POSTed run repeats nothing). It runs before the run is marked done,
// so a crash in between is finished by the next POST. A failure is logged
// and never fails the run: the money is decided, the message is a courtesy.
func (s *Service) notifyWaitlisted(ctx context.Context, doc *runDoc) {
	for _, ln := range doc.Lines {
		name := strings.TrimSpace(ln.ItemName + " " + ln.ProjectName)
		for _, d := range ln.Waitlisted {
			if err := s.cases.NotifyWaitlisted(ctx, cases.WaitlistNotice{RunID: doc.ID, CaseID: d.CaseID, Line: name,
				Rank: d.Rank, EstimateFen: d.EstimateFen, RemainingFen: ln.RemainingFen}); err != nil && ctx.Err() == nil {
				s.logger.Warn("planning: unable to notify a waitlisted case", "run", doc.ID, "case", d.CaseID, "err", err)
			}
		}
	}
}
