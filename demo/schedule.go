package demo

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"minsheng/budgetlink/catalog"
	"minsheng/cases"
	"minsheng/internal/auth"
)

// seqStep is a step at a gap after the previous one; boundary marks the
// first step after an allocation run (work on a funded case starts then).
type seqStep struct {
	gap      time.Duration
	name     string
	do       func(ctx context.Context) error
	boundary bool
}

func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

const day = 24 * time.Hour

// stepList collects a case's steps in order.
type stepList struct{ seq []seqStep }

// add appends a step at gap after the previous one.
func (l *stepList) add(gap time.Duration, name string, do func(ctx context.Context) error) {
	l.seq = append(l.seq, seqStep{gap: gap, name: name, do: do})
}

// schedule builds p's steps and places them in time. Merged duplicates are
// placed after their kept case, so the plan calls it in filing order of
// the kept ones first (plan sorts afterwards).
//
// The steps' gaps are drawn from p.rng as they are added, so the order of
// the adds (and of every draw) is what keeps the demo district the same.
func (s *seeder) schedule(p *casePlan) {
	if p.kind == kMerged && p.kept != nil && p.kept.steps == nil {
		s.schedule(p.kept)
	}
	if p.steps != nil {
		return
	}
	r := p.rng
	k := p.kind
	l := &stepList{}
	l.add(0, "file", func(ctx context.Context) error { return s.file(ctx, p) })
	l.add(between(r, 5*time.Minute, 40*time.Minute), "before photo", func(ctx context.Context) error {
		by := s.cadres[p.comm.Code]
		if p.filer != nil {
			by = *p.filer
		}
		return s.photo(ctx, p, by, cases.TagBefore)
	})
	staff, cadre := s.staff[p.sub], s.cadres[p.comm.Code]
	switch k {
	case kSubmittedFresh, kSubmittedLate:
	case kRejected:
		l.add(between(r, 2*time.Hour, 20*time.Hour), "reject", func(ctx context.Context) error {
			return s.set(s.svc.cases.Reject(ctx, staff, p.c.ID, p.c.Version, rejectReasons[r.IntN(len(rejectReasons))]))(p)
		})
	case kMerged:
		l.add(between(r, time.Hour, 8*time.Hour), "merge", func(ctx context.Context) error {
			if err := s.set(s.svc.cases.Merge(ctx, staff, p.c.ID, p.c.Version, p.kept.c.ID, "同一问题重复反映"))(p); err != nil {
				return err
			}
			// The kept case took the duplicate's voices and photos under a
			// new version: its next step states that one.
			return s.set(s.svc.cases.Get(ctx, s.admin, p.kept.c.ID))(p.kept)
		})
	default:
		s.handlingSteps(l, p, staff, cadre)
	}
	if k == kCancelled || k == kCancelledLinked {
		l.add(between(r, 3*day, 20*day), "cancel", func(ctx context.Context) error {
			return s.set(s.svc.cases.Cancel(ctx, staff, p.c.ID, p.c.Version, cancelReasons[r.IntN(len(cancelReasons))]))(p)
		})
	}
	s.place(p, l.seq)
}

// handlingSteps adds the steps of an accepted case, as far as its kind
// goes: acceptance, classification, co-signatures, assignment, the
// assessment and the link to a line, then the work (workSteps).
func (s *seeder) handlingSteps(l *stepList, p *casePlan, staff, cadre auth.Principal) {
	r := p.rng
	k := p.kind
	acceptGap := between(r, time.Hour, 20*time.Hour)
	if p.late {
		acceptGap = between(r, 26*time.Hour, 60*time.Hour)
	}
	l.add(acceptGap, "accept", func(ctx context.Context) error {
		return s.set(s.svc.cases.Accept(ctx, staff, p.c.ID, p.c.Version, ""))(p)
	})
	l.add(between(r, 5*time.Minute, 40*time.Minute), "classify", func(ctx context.Context) error {
		return s.set(s.svc.budget.ConfirmItem(ctx, staff, p.c.ID, p.c.Version, p.item))(p)
	})
	for _, c := range p.cosigners {
		l.add(between(r, time.Hour, 20*time.Hour), "co-sign", func(ctx context.Context) error {
			_, err := s.svc.cases.Cosign(ctx, *c, p.c.ID)
			return err
		})
	}
	if k == kAccepted {
		return
	}
	l.add(between(r, 2*time.Hour, 30*time.Hour), "assign", func(ctx context.Context) error {
		return s.set(s.svc.cases.Assign(ctx, staff, p.c.ID, p.c.Version, cadre.UserID, ""))(p)
	})
	if k == kAssigned || k == kCancelled {
		return
	}
	l.add(between(r, day, 4*day), "assess", func(ctx context.Context) error {
		return s.set(s.svc.cases.Assess(ctx, cadre, p.c.ID, p.c.Version, cases.Assessment{
			EstimateFen: p.estimate, Households: p.hh, Risk: p.risk, Elderly: p.elderly,
			Note: "现场查看，情况属实。",
		}))(p)
	})
	if k.linked() {
		l.add(between(r, day, 3*day), "link", func(ctx context.Context) error {
			ln := s.lines[p.sub][p.item]
			if ln == nil {
				return fmt.Errorf("no line for item %s", p.item)
			}
			_, err := s.svc.budget.LinkCase(ctx, staff, p.c.ID, ln.ID, 0)
			return err
		})
	}
	if k == kAssessedWaiting || k == kRunWaitlisted || k == kCancelledLinked {
		return
	}
	s.workSteps(l, p, cadre)
}

// workSteps adds the steps of a case whose work starts, as far as its
// kind goes: the start, a progress photo, the completion, and the
// verdicts, a dissatisfied one first for a reopened case.
func (s *seeder) workSteps(l *stepList, p *casePlan, cadre auth.Principal) {
	r := p.rng
	k := p.kind
	l.add(between(r, day, 6*day), "start", func(ctx context.Context) error {
		return s.set(s.svc.cases.Start(ctx, cadre, p.c.ID, p.c.Version, ""))(p)
	})
	l.seq[len(l.seq)-1].boundary = k.byRun()
	if k == kRunInProgress || k == kLinkedInProgress || k == kStalled {
		if r.IntN(2) == 0 {
			l.add(between(r, 2*day, 5*day), "progress photo", func(ctx context.Context) error {
				return s.photo(ctx, p, cadre, cases.TagProgress)
			})
		}
		return
	}
	sla := 30
	if item, ok := s.catalogItem(p.item); ok {
		sla = item.SLADays
	}
	work := time.Duration(float64(sla)*(0.2+r.Float64())*float64(day)) + between(r, 0, day)
	work = min(max(work, day), 80*day)
	s.completeSteps(l.add, p, cadre, work)
	if k == kRunCompleted || k == kCompleted {
		return
	}
	if k == kReopenClosed || k == kReopenOpen {
		l.add(between(r, day, 5*day), "verdict (dissatisfied)", func(ctx context.Context) error {
			return s.set(s.svc.cases.RecordVerdict(ctx, s.rater(p, cadre), cases.CaseRef{ID: p.c.ID}, p.c.Version,
				cases.Rating{Verdict: cases.VerdictDissatisfied, Comment: dissatisComments[r.IntN(len(dissatisComments))]}))(p)
		})
		if k == kReopenOpen {
			return
		}
		s.completeSteps(l.add, p, cadre, between(r, 3*day, 10*day))
		p.verdict, p.unresolved = cases.VerdictSatisfied, false
		p.comment = "返工后问题解决了"
	}
	l.add(between(r, day, 5*day), "verdict", func(ctx context.Context) error {
		return s.set(s.svc.cases.RecordVerdict(ctx, s.rater(p, cadre), cases.CaseRef{ID: p.c.ID}, p.c.Version,
			cases.Rating{Verdict: p.verdict, Resolved: resolvedAnswer(p), Comment: p.comment}))(p)
	})
}

// completeSteps adds an after-photo once the work is done and the
// completion with its actual cost.
func (s *seeder) completeSteps(add func(time.Duration, string, func(context.Context) error), p *casePlan, cadre auth.Principal, work time.Duration) {
	r := p.rng
	add(work, "after photo", func(ctx context.Context) error { return s.photo(ctx, p, cadre, cases.TagAfter) })
	add(between(r, 10*time.Minute, time.Hour), "complete", func(ctx context.Context) error {
		return s.set(s.svc.cases.Complete(ctx, cadre, p.c.ID, p.c.Version, p.actual, "已按要求完成。"))(p)
	})
}

// rater is who gives the verdict: the filer when they have an account and
// feel like it, otherwise the cadre recording it on the return visit (回访).
func (s *seeder) rater(p *casePlan, cadre auth.Principal) auth.Principal {
	if p.filer != nil && (p.filer == &s.resident || p.idx%2 == 0) {
		return *p.filer
	}
	return cadre
}

// place chooses p's filing time and the time of each step. A case paid by
// an allocation run is assessed before the run and started after it;
// every other case lies wholly before or wholly after the runs, so a run
// funds exactly the cases meant for it.
func (s *seeder) place(p *casePlan, seq []seqStep) {
	r := p.rng
	var pre, post time.Duration // spans before and from the boundary
	b := -1
	for i, st := range seq {
		if st.boundary {
			b = i
		}
		if b >= 0 {
			post += st.gap
		} else {
			pre += st.gap
		}
	}
	span := pre + post
	switch {
	case p.kind == kSubmittedFresh:
		p.filedAt = s.end.Add(-between(r, 2*time.Hour, 18*time.Hour))
	case p.kind == kSubmittedLate:
		p.filedAt = s.end.Add(-between(r, 30*time.Hour, 100*time.Hour))
	case p.kind == kMerged && p.kept != nil:
		// After the kept case's last step before the runs, so the merge
		// lands at the end of its timeline, and before the runs.
		last := p.kept.filedAt
		for _, st := range p.kept.steps {
			if st.at.Before(s.runAt) {
				last = maxTime(last, st.at)
			}
		}
		p.filedAt = last.Add(between(r, time.Hour, 12*time.Hour))
	case p.kind.byRun():
		p.filedAt = s.runAt.Add(-pre - between(r, day, 45*day))
		if p.filedAt.Before(s.start) {
			p.filedAt = s.start.Add(between(r, 0, 3*day))
		}
	default:
		last := s.end.Add(-span - time.Hour)
		if p.kind == kStalled {
			last = s.end.Add(-25*day - span) // past its 15-day deadline by now
		}
		preLen := max(s.runAt.Add(-span-time.Hour).Sub(s.start), 0)
		if p.kind == kAssessedWaiting {
			preLen = 0 // assessed after the runs: waits for the next one
		}
		postLen := max(last.Sub(s.runAt.Add(2*time.Hour)), 0)
		switch x := time.Duration(r.Int64N(int64(preLen+postLen) + 1)); {
		case preLen+postLen == 0:
			p.filedAt = s.start
		case x < preLen:
			p.filedAt = s.start.Add(x)
		default:
			p.filedAt = s.runAt.Add(2*time.Hour + x - preLen)
		}
	}
	p.filedAt = p.filedAt.UTC().Truncate(time.Minute)
	t := p.filedAt
	var scale float64 = 1
	for i, st := range seq {
		gap := st.gap
		if i == b {
			t = maxTime(t.Add(gap), s.runAt.Add(between(r, day, 6*day)))
			// Squeeze the rest into the time left before "now".
			if left := s.end.Add(-time.Hour).Sub(t); post-st.gap > left {
				scale = float64(left) / float64(post-st.gap)
			}
		} else {
			if b >= 0 && i > b {
				gap = time.Duration(float64(gap) * scale)
			}
			t = t.Add(gap)
		}
		p.steps = append(p.steps, step{at: t, name: st.name, do: st.do})
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// file submits the case as its filer would: a resident with an account, a
// cadre on behalf of one without, or anonymously.
func (s *seeder) file(ctx context.Context, p *casePlan) error {
	in := cases.NewCase{
		Area: p.tpl.area, Title: p.title, Description: p.desc, Community: p.comm.Code, Address: p.address,
		ContactName: p.contact, ContactPhone: p.phone, Households: p.hh,
		// Four in five residents choose 公开, so the public board has the
		// funded needs to show; the rest stay private (不公开).
		Public: p.public(),
	}
	var by auth.Principal
	switch {
	case p.filer != nil:
		by = *p.filer
	case p.anonymous:
		in.IdempotencyKey = fmt.Sprintf("demo-anon-%06d", p.idx)
	default:
		by = s.cadres[p.comm.Code]
	}
	place(s.env.Org, s.opts.Seed, p, p.filer == nil && !p.anonymous, &in)
	c, _, err := s.svc.cases.Submit(ctx, by, in)
	if err != nil {
		return err
	}
	p.c = c
	return nil
}

// photo uploads a generated photo through the real pipeline.
func (s *seeder) photo(ctx context.Context, p *casePlan, by auth.Principal, tag cases.PhotoTag) error {
	// Before and after share the seed: the same place, put right. A
	// progress photo is another view of it.
	seed := s.opts.Seed<<32 | uint64(p.idx)
	if tag == cases.TagProgress {
		seed ^= 0x5a5a5a
	}
	img := drawPhoto(seed, sceneOf(p.tpl), tag == cases.TagAfter)
	c, err := s.svc.cases.AddPhoto(ctx, by, p.c.ID, tag, bytes.NewReader(img))
	if err != nil {
		return err
	}
	p.c = c
	return nil
}

// set keeps the case a step returned, so the next step states its version.
func (s *seeder) set(c *cases.Case, err error) func(p *casePlan) error {
	return func(p *casePlan) error {
		if err != nil {
			return err
		}
		p.c = c
		return nil
	}
}

func (s *seeder) catalogItem(code string) (catalog.CatalogItem, bool) {
	if s.catalog == nil {
		cat, err := catalog.LoadCatalog(s.year)
		if err != nil {
			return catalog.CatalogItem{}, false
		}
		s.catalog = cat
	}
	return s.catalog.Item(code)
}

// resolvedAnswer is the 回访's "问题是否解决" answer: asked on every
// return visit, "no" for the few 基本满意 cases whose problem remains.
func resolvedAnswer(p *casePlan) *bool {
	yes := p.verdict != cases.VerdictDissatisfied && !p.unresolved
	return &yes
}
