package cases_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/auth"
)

// stepFunc performs one workflow step on c as p with valid input.
type stepFunc func(e env, p auth.Principal, c *cases.Case) (*cases.Case, error)

var steps = map[cases.Action]stepFunc{
	cases.ActAccept: func(e env, p auth.Principal, c *cases.Case) (*cases.Case, error) {
		return e.svc.Accept(context.Background(), p, c.ID, c.Version, "")
	},
	cases.ActReject: func(e env, p auth.Principal, c *cases.Case) (*cases.Case, error) {
		return e.svc.Reject(context.Background(), p, c.ID, c.Version, "不属于街道职责")
	},
	cases.ActAssign: func(e env, p auth.Principal, c *cases.Case) (*cases.Case, error) {
		return e.svc.Assign(context.Background(), p, c.ID, c.Version, cadre.UserID, "")
	},
	cases.ActAssess: func(e env, p auth.Principal, c *cases.Case) (*cases.Case, error) {
		return e.svc.Assess(context.Background(), p, c.ID, c.Version, cases.Assessment{EstimateFen: 120000, Households: 8, Risk: 1})
	},
	cases.ActStart: func(e env, p auth.Principal, c *cases.Case) (*cases.Case, error) {
		return e.svc.Start(context.Background(), p, c.ID, c.Version, "")
	},
	cases.ActComplete: func(e env, p auth.Principal, c *cases.Case) (*cases.Case, error) {
		return e.svc.Complete(context.Background(), p, c.ID, c.Version, 110000, "")
	},
	cases.ActVerdict: func(e env, p auth.Principal, c *cases.Case) (*cases.Case, error) {
		return e.svc.RecordVerdict(context.Background(), p, cases.CaseRef{ID: c.ID}, c.Version, cases.Rating{Verdict: cases.VerdictBasicallySatisfied})
	},
	cases.ActCancel: func(e env, p auth.Principal, c *cases.Case) (*cases.Case, error) {
		return e.svc.Cancel(context.Background(), p, c.ID, c.Version, "居民撤回")
	},
}

// withAfterPhoto adds an after-photo so Complete can succeed.
func (e env) withAfterPhoto(t *testing.T, c *cases.Case) {
	t.Helper()
	if _, err := e.svc.AddPhoto(context.Background(), cadre, c.ID, cases.TagAfter, bytesReader(jpeg(t))); err != nil {
		t.Fatal(err)
	}
}

func TestTransitions(t *testing.T) {
	tests := []struct {
		from cases.Status
		act  cases.Action
		p    string
		to   cases.Status
	}{
		{cases.StatusSubmitted, cases.ActAccept, "staff", cases.StatusAccepted},
		{cases.StatusSubmitted, cases.ActAccept, "admin", cases.StatusAccepted},
		{cases.StatusSubmitted, cases.ActReject, "staff", cases.StatusRejected},
		{cases.StatusSubmitted, cases.ActCancel, "staff", cases.StatusCancelled},
		{cases.StatusAccepted, cases.ActAssign, "staff", cases.StatusAssigned},
		{cases.StatusAccepted, cases.ActCancel, "admin", cases.StatusCancelled},
		{cases.StatusAssigned, cases.ActAssign, "staff", cases.StatusAssigned},
		{cases.StatusAssigned, cases.ActAssess, "cadre", cases.StatusAssessed},
		{cases.StatusAssigned, cases.ActCancel, "staff", cases.StatusCancelled},
		{cases.StatusAssessed, cases.ActAssess, "cadre", cases.StatusAssessed},
		{cases.StatusAssessed, cases.ActStart, "cadre", cases.StatusInProgress},
		{cases.StatusInProgress, cases.ActComplete, "cadre", cases.StatusCompleted},
		{cases.StatusInProgress, cases.ActCancel, "staff", cases.StatusCancelled},
		{cases.StatusCompleted, cases.ActVerdict, "resident", cases.StatusClosed},
		{cases.StatusCompleted, cases.ActVerdict, "cadre", cases.StatusClosed},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(string(tt.from)+"/"+string(tt.act)+"/"+tt.p, func(t *testing.T) {
			c := e.to(t, tt.from)
			if tt.act == cases.ActComplete {
				e.withAfterPhoto(t, c)
				c, _ = e.svc.FindByID(context.Background(), c.ID)
			}
			got, err := steps[tt.act](e, principalBy[tt.p], c)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.to {
				t.Errorf("status = %s, want %s", got.Status, tt.to)
			}
			if got.Version != c.Version+1 {
				t.Errorf("version = %d, want %d", got.Version, c.Version+1)
			}
			last := got.Timeline[len(got.Timeline)-1]
			if last.Action != tt.act || last.From != tt.from || last.To != tt.to || last.Actor != principalBy[tt.p].UserID {
				t.Errorf("last event = %+v, want %s %s→%s by %s", last, tt.act, tt.from, tt.to, principalBy[tt.p].UserID)
			}
			if len(got.Timeline) != len(c.Timeline)+1 {
				t.Errorf("timeline grew from %d to %d, want by one", len(c.Timeline), len(got.Timeline))
			}
			for i := range c.Timeline {
				if got.Timeline[i].Action != c.Timeline[i].Action || !got.Timeline[i].At.Equal(c.Timeline[i].At) {
					t.Errorf("event %d changed: %+v → %+v", i, c.Timeline[i], got.Timeline[i])
				}
			}
		})
	}
}

func TestTransitionEffects(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	t.Run("accept starts the completion deadline", func(t *testing.T) {
		c := e.to(t, cases.StatusAccepted)
		want := e.clock.Now().AddDate(0, 0, cases.DefaultSLADays)
		if c.CompletionDueAt == nil || !c.CompletionDueAt.Equal(want) || c.AcceptedAt == nil {
			t.Errorf("completion due = %v, want %v", c.CompletionDueAt, want)
		}
	})
	t.Run("assign records the cadre", func(t *testing.T) {
		c := e.to(t, cases.StatusAssigned)
		if c.AssignedTo != cadre.UserID || c.AssignedName != cadre.Name {
			t.Errorf("assigned = %q %q, want %q %q", c.AssignedTo, c.AssignedName, cadre.UserID, cadre.Name)
		}
	})
	t.Run("assess records the estimate in fen", func(t *testing.T) {
		c := e.to(t, cases.StatusAssessed)
		if c.Assessment == nil || c.Assessment.EstimateFen != 50000 || c.Assessment.Risk != 2 || c.Households != 12 {
			t.Errorf("assessment = %+v, households %d", c.Assessment, c.Households)
		}
	})
	t.Run("complete records the cost and calls the money effects", func(t *testing.T) {
		before := len(e.money.completed)
		c := e.to(t, cases.StatusCompleted)
		if c.ActualCostFen != 48000 || c.CompletedAt == nil {
			t.Errorf("actual = %d, completed at %v", c.ActualCostFen, c.CompletedAt)
		}
		if got := e.money.completed[before:]; len(got) != 1 || got[0] != 48000 {
			t.Errorf("OnComplete calls = %v, want [48000]", got)
		}
	})
	t.Run("satisfied closes", func(t *testing.T) {
		c := e.to(t, cases.StatusClosed)
		if c.Verdict != cases.VerdictSatisfied || c.ClosedAt == nil {
			t.Errorf("verdict %q closed at %v", c.Verdict, c.ClosedAt)
		}
	})
	t.Run("dissatisfied reopens", func(t *testing.T) {
		c := e.to(t, cases.StatusCompleted)
		got, err := e.svc.RecordVerdict(ctx, resident, cases.CaseRef{ID: c.ID}, c.Version, cases.Rating{Verdict: cases.VerdictDissatisfied, Comment: "灯还是不亮"})
		if err != nil {
			t.Fatal(err)
		}
		last := got.Timeline[len(got.Timeline)-1]
		if got.Status != cases.StatusInProgress || got.Reopened != 1 || last.Action != cases.ActReopen {
			t.Errorf("status %s reopened %d last %s, want in_progress, 1, reopen", got.Status, got.Reopened, last.Action)
		}
		if got.CompletedAt != nil {
			t.Errorf("completed_at = %v after the reopen, want none", got.CompletedAt)
		}
		if stored, _ := e.svc.FindByID(ctx, got.ID); stored.CompletedAt != nil {
			t.Errorf("stored completed_at = %v after the reopen, want none", stored.CompletedAt)
		}
		if got, err = e.svc.Complete(ctx, cadre, got.ID, got.Version, 52000, "换了线路"); err != nil {
			t.Fatal(err)
		}
		if got, err = e.svc.RecordVerdict(ctx, resident, cases.CaseRef{ID: got.ID}, got.Version, cases.Rating{Verdict: cases.VerdictSatisfied}); err != nil {
			t.Fatal(err)
		}
		if got.Status != cases.StatusClosed || got.ActualCostFen != 52000 {
			t.Errorf("status %s cost %d, want closed with 52000", got.Status, got.ActualCostFen)
		}
		t.Run("every verdict is kept, the latest in verdict", func(t *testing.T) {
			if len(got.Verdicts) != 2 {
				t.Fatalf("verdicts = %+v, want 2", got.Verdicts)
			}
			first, second := got.Verdicts[0], got.Verdicts[1]
			if first.Verdict != cases.VerdictDissatisfied || first.Comment != "灯还是不亮" || first.At.IsZero() {
				t.Errorf("first verdict = %+v, want dissatisfied with the comment", first)
			}
			if second.Verdict != cases.VerdictSatisfied || got.Verdict != cases.VerdictSatisfied {
				t.Errorf("second verdict = %+v, latest %q; want satisfied", second, got.Verdict)
			}
			if got.CompletedAt == nil {
				t.Errorf("completed_at missing after the second completion")
			}
		})
	})
	t.Run("cancel calls the money effects", func(t *testing.T) {
		c := e.to(t, cases.StatusInProgress)
		got, err := e.svc.Cancel(ctx, staff, c.ID, c.Version, "居民撤回")
		if err != nil {
			t.Fatal(err)
		}
		if got.Reason != "居民撤回" || got.ClosedAt == nil {
			t.Errorf("reason %q closed %v", got.Reason, got.ClosedAt)
		}
		if n := len(e.money.cancelled); n == 0 || e.money.cancelled[n-1] != c.ID {
			t.Errorf("OnCancel calls = %v, want the case", e.money.cancelled)
		}
	})
	t.Run("a completion refused by the pre-check leaves the case unchanged", func(t *testing.T) {
		c := e.to(t, cases.StatusInProgress)
		e.withAfterPhoto(t, c)
		e.money.refuse = minsheng.Errorf(minsheng.ECONFLICT, "超出预算")
		defer func() { e.money.refuse = nil }()
		_, err := e.svc.Complete(ctx, cadre, c.ID, c.Version, 99999999, "")
		wantCode(t, err, minsheng.ECONFLICT)
		got, _ := e.svc.FindByID(ctx, c.ID)
		if got.Status != cases.StatusInProgress || got.Version != c.Version {
			t.Errorf("after refusal: %s v%d, want in_progress v%d", got.Status, got.Version, c.Version)
		}
	})
	t.Run("an effect refused when applied undoes its transition", func(t *testing.T) {
		for _, name := range []string{"complete", "cancel"} {
			t.Run(name, func(t *testing.T) {
				c := e.to(t, cases.StatusInProgress)
				e.withAfterPhoto(t, c)
				c, _ = e.svc.FindByID(ctx, c.ID)
				e.money.refuseApply = minsheng.Errorf(minsheng.ECONFLICT, "可用额度不足")
				defer func() { e.money.refuseApply = nil }()
				var err error
				if name == "complete" {
					_, err = e.svc.Complete(ctx, cadre, c.ID, c.Version, 1000, "")
				} else {
					_, err = e.svc.Cancel(ctx, staff, c.ID, c.Version, "撤回")
				}
				wantCode(t, err, minsheng.ECONFLICT)
				got, _ := e.svc.FindByID(ctx, c.ID)
				last := got.Timeline[len(got.Timeline)-1]
				if got.Status != cases.StatusInProgress || got.CompletedAt != nil || got.ClosedAt != nil {
					t.Errorf("after refusal: %s completed %v closed %v, want in_progress without either", got.Status, got.CompletedAt, got.ClosedAt)
				}
				if last.Action != cases.ActUndo || !strings.Contains(last.Note, "可用额度不足") {
					t.Errorf("last event = %+v, want the undo with the reason", last)
				}
				if got.MoneyEffect == nil || got.MoneyEffect.State != cases.EffectFailed {
					t.Errorf("effect = %+v, want failed", got.MoneyEffect)
				}
			})
		}
	})
}

func TestTransitionRefused(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		from cases.Status
		act  cases.Action
		p    string
		code string
	}{
		// Wrong role.
		{"resident accepts", cases.StatusSubmitted, cases.ActAccept, "resident", minsheng.EFORBIDDEN},
		{"cadre accepts", cases.StatusSubmitted, cases.ActAccept, "cadre", minsheng.EFORBIDDEN},
		{"finance accepts", cases.StatusSubmitted, cases.ActAccept, "finance", minsheng.EFORBIDDEN},
		{"cadre rejects", cases.StatusSubmitted, cases.ActReject, "cadre", minsheng.EFORBIDDEN},
		{"cadre assigns", cases.StatusAccepted, cases.ActAssign, "cadre", minsheng.EFORBIDDEN},
		{"staff assesses", cases.StatusAssigned, cases.ActAssess, "staff", minsheng.EFORBIDDEN},
		{"resident starts", cases.StatusAssessed, cases.ActStart, "resident", minsheng.EFORBIDDEN},
		{"staff completes", cases.StatusInProgress, cases.ActComplete, "staff", minsheng.EFORBIDDEN},
		{"staff gives the verdict", cases.StatusCompleted, cases.ActVerdict, "staff", minsheng.EFORBIDDEN},
		{"another resident gives the verdict", cases.StatusCompleted, cases.ActVerdict, "neighbour", minsheng.EFORBIDDEN},
		{"cadre cancels", cases.StatusAccepted, cases.ActCancel, "cadre", minsheng.EFORBIDDEN},
		{"resident cancels", cases.StatusSubmitted, cases.ActCancel, "resident", minsheng.EFORBIDDEN},
		{"anonymous accepts", cases.StatusSubmitted, cases.ActAccept, "anonymous", minsheng.EUNAUTHORIZED},
		// Wrong scope.
		{"staff of another sub-district accepts", cases.StatusSubmitted, cases.ActAccept, "staffFar", minsheng.EFORBIDDEN},
		{"staff of another sub-district cancels", cases.StatusAccepted, cases.ActCancel, "staffFar", minsheng.EFORBIDDEN},
		{"cadre of another community assesses", cases.StatusAssigned, cases.ActAssess, "cadreNext", minsheng.EFORBIDDEN},
		{"cadre of another sub-district starts", cases.StatusAssessed, cases.ActStart, "cadreFar", minsheng.EFORBIDDEN},
		{"cadre of another community records the verdict", cases.StatusCompleted, cases.ActVerdict, "cadreNext", minsheng.EFORBIDDEN},
		// Illegal step.
		{"accept twice", cases.StatusAccepted, cases.ActAccept, "staff", minsheng.ECONFLICT},
		{"assign before accepting", cases.StatusSubmitted, cases.ActAssign, "staff", minsheng.ECONFLICT},
		{"assess before assigning", cases.StatusAccepted, cases.ActAssess, "cadre", minsheng.ECONFLICT},
		{"start before assessing", cases.StatusAssigned, cases.ActStart, "cadre", minsheng.ECONFLICT},
		{"complete before starting", cases.StatusAssessed, cases.ActComplete, "cadre", minsheng.ECONFLICT},
		{"verdict before completion", cases.StatusInProgress, cases.ActVerdict, "resident", minsheng.ECONFLICT},
		{"reject after accepting", cases.StatusAccepted, cases.ActReject, "staff", minsheng.ECONFLICT},
		{"cancel a completed case", cases.StatusCompleted, cases.ActCancel, "staff", minsheng.ECONFLICT},
		{"cancel a closed case", cases.StatusClosed, cases.ActCancel, "staff", minsheng.ECONFLICT},
		{"accept a closed case", cases.StatusClosed, cases.ActAccept, "staff", minsheng.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.to(t, tt.from)
			_, err := steps[tt.act](e, principalBy[tt.p], c)
			wantCode(t, err, tt.code)
			got, _ := e.svc.FindByID(context.Background(), c.ID)
			if got.Status != c.Status || got.Version != c.Version {
				t.Errorf("refused step changed the case: %s v%d → %s v%d", c.Status, c.Version, got.Status, got.Version)
			}
		})
	}

	t.Run("the refusal says what is allowed", func(t *testing.T) {
		c := e.to(t, cases.StatusAccepted)
		_, err := e.svc.Start(context.Background(), cadre, c.ID, c.Version, "")
		got, want := minsheng.ErrorMessage(err), "当前状态为「已受理」，不能开始办理，可执行：合并、派单、取消"
		if got != want {
			t.Errorf("message = %q, want %q", got, want)
		}
		c = e.to(t, cases.StatusClosed)
		_, err = e.svc.Cancel(context.Background(), staff, c.ID, c.Version, "x")
		if got := minsheng.ErrorMessage(err); !strings.Contains(got, "已无可执行的操作") {
			t.Errorf("message = %q, want it to say nothing is allowed", got)
		}
	})
	t.Run("stale version", func(t *testing.T) {
		for act, from := range map[cases.Action]cases.Status{
			cases.ActAccept: cases.StatusSubmitted, cases.ActAssign: cases.StatusAccepted,
			cases.ActAssess: cases.StatusAssigned, cases.ActStart: cases.StatusAssessed,
			cases.ActVerdict: cases.StatusCompleted, cases.ActCancel: cases.StatusAccepted,
		} {
			t.Run(string(act), func(t *testing.T) {
				c := e.to(t, from)
				p := map[cases.Action]auth.Principal{cases.ActAssess: cadre, cases.ActStart: cadre, cases.ActVerdict: resident}[act]
				if p.Role == "" {
					p = staff
				}
				old := *c
				old.Version--
				_, err := steps[act](e, p, &old)
				wantCode(t, err, minsheng.ECONFLICT)
				if got, want := minsheng.ErrorMessage(err), "数据已被他人修改，请刷新后重试"; got != want {
					t.Errorf("message = %q, want %q", got, want)
				}
			})
		}
	})
	t.Run("unknown case", func(t *testing.T) {
		_, err := e.svc.Accept(context.Background(), staff, "no-such-case", 1, "")
		wantCode(t, err, minsheng.ENOTFOUND)
	})
}

func TestConcurrentAccept(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, resident, input())
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = e.svc.Accept(context.Background(), staff, c.ID, c.Version, "") })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !isCode(err, minsheng.ECONFLICT):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d accepts succeeded, want exactly 1", ok)
	}
	got, _ := e.svc.FindByID(context.Background(), c.ID)
	if got.Version != c.Version+1 || len(got.Timeline) != 2 {
		t.Errorf("version %d, timeline %d; want %d and 2", got.Version, len(got.Timeline), c.Version+1)
	}
}

func TestTransitionInvalid(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	long := strings.Repeat("长", 501)
	tests := []struct {
		name  string
		from  cases.Status
		do    func(c *cases.Case) error
		field string
	}{
		{"accept note too long", cases.StatusSubmitted, func(c *cases.Case) error {
			_, err := e.svc.Accept(ctx, staff, c.ID, c.Version, long)
			return err
		}, "note"},
		{"reject without reason", cases.StatusSubmitted, func(c *cases.Case) error {
			_, err := e.svc.Reject(ctx, staff, c.ID, c.Version, " ")
			return err
		}, "reason"},
		{"assign nobody", cases.StatusAccepted, func(c *cases.Case) error {
			_, err := e.svc.Assign(ctx, staff, c.ID, c.Version, "", "")
			return err
		}, "cadre_id"},
		{"assign unknown user", cases.StatusAccepted, func(c *cases.Case) error {
			_, err := e.svc.Assign(ctx, staff, c.ID, c.Version, "ghost", "")
			return err
		}, "cadre_id"},
		{"assign a cadre of another community", cases.StatusAccepted, func(c *cases.Case) error {
			_, err := e.svc.Assign(ctx, staff, c.ID, c.Version, cadreNext.UserID, "")
			return err
		}, "cadre_id"},
		{"assign a non-cadre", cases.StatusAccepted, func(c *cases.Case) error {
			_, err := e.svc.Assign(ctx, staff, c.ID, c.Version, staff.UserID, "")
			return err
		}, "cadre_id"},
		{"assess negative estimate", cases.StatusAssigned, func(c *cases.Case) error {
			_, err := e.svc.Assess(ctx, cadre, c.ID, c.Version, cases.Assessment{EstimateFen: -1, Households: 1, Risk: 1})
			return err
		}, "estimate_fen"},
		{"assess no households", cases.StatusAssigned, func(c *cases.Case) error {
			_, err := e.svc.Assess(ctx, cadre, c.ID, c.Version, cases.Assessment{Households: 0, Risk: 1})
			return err
		}, "households"},
		{"assess risk 4", cases.StatusAssigned, func(c *cases.Case) error {
			_, err := e.svc.Assess(ctx, cadre, c.ID, c.Version, cases.Assessment{Households: 1, Risk: 4})
			return err
		}, "risk"},
		{"assess risk 0", cases.StatusAssigned, func(c *cases.Case) error {
			_, err := e.svc.Assess(ctx, cadre, c.ID, c.Version, cases.Assessment{Households: 1, Risk: 0})
			return err
		}, "risk"},
		{"assess negative elderly", cases.StatusAssigned, func(c *cases.Case) error {
			_, err := e.svc.Assess(ctx, cadre, c.ID, c.Version, cases.Assessment{Households: 1, Risk: 1, Elderly: -1})
			return err
		}, "elderly"},
		{"assess negative disabled", cases.StatusAssigned, func(c *cases.Case) error {
			_, err := e.svc.Assess(ctx, cadre, c.ID, c.Version, cases.Assessment{Households: 1, Risk: 1, Disabled: -2})
			return err
		}, "disabled"},
		{"assess note too long", cases.StatusAssigned, func(c *cases.Case) error {
			_, err := e.svc.Assess(ctx, cadre, c.ID, c.Version, cases.Assessment{Households: 1, Risk: 1, Note: long})
			return err
		}, "note"},
		{"start note too long", cases.StatusAssessed, func(c *cases.Case) error {
			_, err := e.svc.Start(ctx, cadre, c.ID, c.Version, long)
			return err
		}, "note"},
		{"complete without after-photo", cases.StatusInProgress, func(c *cases.Case) error {
			_, err := e.svc.Complete(ctx, cadre, c.ID, c.Version, 100, "")
			return err
		}, "photos"},
		{"complete negative cost", cases.StatusInProgress, func(c *cases.Case) error {
			_, err := e.svc.Complete(ctx, cadre, c.ID, c.Version, -5, "")
			return err
		}, "actual_cost_fen"},
		{"unknown verdict", cases.StatusCompleted, func(c *cases.Case) error {
			_, err := e.svc.RecordVerdict(ctx, resident, cases.CaseRef{ID: c.ID}, c.Version, cases.Rating{Verdict: "great"})
			return err
		}, "verdict"},
		{"verdict comment too long", cases.StatusCompleted, func(c *cases.Case) error {
			_, err := e.svc.RecordVerdict(ctx, resident, cases.CaseRef{ID: c.ID}, c.Version, cases.Rating{Verdict: cases.VerdictSatisfied, Comment: long})
			return err
		}, "comment"},
		{"cancel without reason", cases.StatusAccepted, func(c *cases.Case) error {
			_, err := e.svc.Cancel(ctx, staff, c.ID, c.Version, "")
			return err
		}, "reason"},
		{"merge into nothing", cases.StatusSubmitted, func(c *cases.Case) error {
			_, err := e.svc.Merge(ctx, staff, c.ID, c.Version, "", "")
			return err
		}, "into"},
		{"merge into itself", cases.StatusSubmitted, func(c *cases.Case) error {
			_, err := e.svc.Merge(ctx, staff, c.ID, c.Version, c.ID, "")
			return err
		}, "into"},
		{"merge into unknown", cases.StatusSubmitted, func(c *cases.Case) error {
			_, err := e.svc.Merge(ctx, staff, c.ID, c.Version, "missing", "")
			return err
		}, "into"},
		{"catalog without item", cases.StatusAccepted, func(c *cases.Case) error {
			_, err := e.svc.SetCatalogItem(ctx, staff, c.ID, c.Version, "", 10)
			return err
		}, "item_code"},
		{"catalog negative sla", cases.StatusAccepted, func(c *cases.Case) error {
			_, err := e.svc.SetCatalogItem(ctx, staff, c.ID, c.Version, "CG0101", -1)
			return err
		}, "sla_days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.to(t, tt.from)
			if tt.field == "actual_cost_fen" {
				e.withAfterPhoto(t, c)
			}
			err := tt.do(c)
			wantCode(t, err, minsheng.EINVALID)
			if minsheng.ErrorFields(err)[tt.field] == "" {
				t.Errorf("fields = %v, want %q", minsheng.ErrorFields(err), tt.field)
			}
			got, _ := e.svc.FindByID(ctx, c.ID)
			if got.Version != c.Version {
				t.Errorf("invalid input changed the version: %d → %d", c.Version, got.Version)
			}
		})
	}
}
