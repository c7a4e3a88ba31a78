package rates_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"minsheng/cases"
	"minsheng/cases/rates"
)

func at(month time.Month, day, hour int) time.Time {
	return time.Date(2026, month, day, hour, 0, 0, 0, time.UTC)
}

func ptr[T any](v T) *T { return &v }

// asOf is 27 Nov 09:00 UTC; the period is November.
var (
	asOf     = at(11, 27, 9)
	november = rates.NewPeriod(at(11, 1, 0), at(12, 1, 0), asOf)
)

// kase builds a case as the service records it: due 24 h after filing.
func kase(sub, community string, filed time.Time, status cases.Status) *cases.Case {
	return &cases.Case{Location: cases.Location{SubDistrict: sub, Community: community}, FiledAt: filed,
		ResponseDueAt: filed.Add(24 * time.Hour), Status: status}
}

func accepted(c *cases.Case, after time.Duration) *cases.Case {
	t := c.FiledAt.Add(after)
	c.AcceptedAt, c.RespondedAt = &t, &t
	return c
}

func answered(c *cases.Case, after time.Duration) *cases.Case {
	t := c.FiledAt.Add(after)
	c.RespondedAt = &t
	return c
}

func rated(c *cases.Case, resolved *bool, vs ...cases.Verdict) *cases.Case {
	for _, v := range vs {
		c.Verdicts = append(c.Verdicts, cases.VerdictRecord{Verdict: v})
	}
	c.Verdicts[len(c.Verdicts)-1].Resolved = resolved
	c.Verdict = vs[len(vs)-1]
	return c
}

func TestNewRate(t *testing.T) {
	for _, tt := range []struct {
		num, den int64
		pm       int64
		text     string
	}{
		{2, 3, 667, "66.7%"},   // 666.67
		{1, 3, 333, "33.3%"},   // 333.33
		{94, 97, 969, "96.9%"}, // 969.07
		{1, 2000, 1, "0.1%"},   // 0.5‰ rounds up
		{1, 8, 125, "12.5%"},   // exact
		{3, 3, 1000, "100.0%"},
		{0, 5, 0, "0.0%"},
	} {
		t.Run(fmt.Sprintf("%d/%d", tt.num, tt.den), func(t *testing.T) {
			got := rates.NewRate(tt.num, tt.den)
			if got.PerMille == nil || *got.PerMille != tt.pm || got.Text != tt.text || got.Num != tt.num || got.Den != tt.den {
				t.Errorf("got %+v, want %d‰ %q", got, tt.pm, tt.text)
			}
		})
	}
	t.Run("nothing due is —, never 0.0%", func(t *testing.T) {
		got := rates.NewRate(0, 0)
		if got.PerMille != nil || got.Text != "—" || got.Known() {
			t.Errorf("got %+v, want per_mille nil and —", got)
		}
	})
}

// TestTally pins the definition on a hand-made set with merges,
// rejections, fresh filings, reopenings, cancellations and unrated cases.
func TestTally(t *testing.T) {
	h := time.Hour
	yes, no := true, false
	all := []*cases.Case{
		// SD1 / C1
		rated(accepted(kase("SD1", "C1", at(11, 10, 8), cases.StatusClosed), 12*h), nil, cases.VerdictSatisfied),          // c1: in time, solved (满意, no answer)
		rated(accepted(kase("SD1", "C1", at(11, 11, 8), cases.StatusClosed), 24*h), &no, cases.VerdictBasicallySatisfied), // c2: exactly 24 h; 基本满意 but "not solved"
		accepted(kase("SD1", "C1", at(11, 12, 8), cases.StatusInProgress), 25*h),                                          // c3: late, unrated
		kase("SD1", "C1", at(11, 27, 0), cases.StatusSubmitted),                                                           // c4: 9 h old: not yet due
		// SD1 / C2
		kase("SD1", "C2", at(11, 20, 8), cases.StatusSubmitted),                                                                          // c5: 7 days unanswered
		rated(accepted(kase("SD1", "C2", at(11, 21, 8), cases.StatusInProgress), h), nil, cases.VerdictDissatisfied),                     // c6: reopened after 不满意
		rated(accepted(kase("SD1", "C2", at(11, 3, 8), cases.StatusClosed), h), &yes, cases.VerdictDissatisfied, cases.VerdictSatisfied), // c7: reworked, then 满意
		answered(kase("SD1", "C2", at(11, 4, 8), cases.StatusRejected), 2*h),                                                             // c8: rejected with a reason
		answered(kase("SD1", "C2", at(11, 5, 8), cases.StatusMerged), 30*h),                                                              // c9: merged, late
		kase("SD1", "C2", at(11, 6, 8), cases.StatusCancelled),                                                                           // c10: withdrawn unanswered: never due
		// SD2
		rated(accepted(kase("SD2", "C3", at(10, 31, 23), cases.StatusClosed), h), nil, cases.VerdictSatisfied),            // October: outside
		accepted(kase("SD2", "C3", at(11, 27, 5), cases.StatusAccepted), h),                                               // young but answered: due
		rated(accepted(kase("SD2", "", at(11, 5, 8), cases.StatusCompleted), 2*h), &yes, cases.VerdictBasicallySatisfied), // no community
	}
	tally := rates.NewTally(november)
	for _, c := range all {
		tally.Add(c)
	}
	r := rates.NewRate
	// SD1 response: in time c1 c2 c6 c7 c8 of due c1 c2 c3 c5 c6 c7 c8 c9.
	// 回访 answers c1 c2 c6 c7: solved c1 c7; satisfied c1 c2 c7; first c1 c2.
	// 办结率: completed c1 c2 c7 of accepted c1 c2 c3 c6 c7.
	wantSD1 := rates.Set{Response: r(5, 8), Resolution: r(2, 4), Satisfaction: r(3, 4), FirstSatisfaction: r(2, 4), Completion: r(3, 5)}
	wantSD2 := rates.Set{Response: r(2, 2), Resolution: r(1, 1), Satisfaction: r(1, 1), FirstSatisfaction: r(1, 1), Completion: r(1, 2)}
	wantTotal := rates.Set{Response: r(7, 10), Resolution: r(3, 5), Satisfaction: r(4, 5), FirstSatisfaction: r(3, 5), Completion: r(4, 7)}
	for _, tt := range []struct {
		name      string
		got, want rates.Set
	}{
		{"total", tally.Total().Rates(), wantTotal},
		{"SD1", tally.SubDistrict("SD1").Rates(), wantSD1},
		{"SD2", tally.SubDistrict("SD2").Rates(), wantSD2},
		{"C1", tally.Communities()[0].Counts.Rates(), rates.Set{Response: r(2, 3), Resolution: r(1, 2), Satisfaction: r(2, 2), FirstSatisfaction: r(2, 2), Completion: r(2, 3)}},
		{"unknown sub-district", tally.SubDistrict("SD9").Rates(), rates.Counts{}.Rates()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", tt.got, tt.want)
			}
		})
	}
	if n := len(tally.SubDistricts()); n != 2 {
		t.Errorf("sub-districts: got %d, want 2", n)
	}
	t.Run("a new filing does not lower 响应率", func(t *testing.T) {
		before := tally.SubDistrict("SD1").Rates().Response
		for i := range 4 {
			tally.Add(kase("SD1", "C1", asOf.Add(-time.Duration(i+1)*time.Hour), cases.StatusSubmitted))
		}
		if after := tally.SubDistrict("SD1").Rates().Response; !reflect.DeepEqual(after, before) {
			t.Errorf("after four filings: got %+v, want %+v", after, before)
		}
	})
	t.Run("nothing due shows —", func(t *testing.T) {
		empty := rates.NewTally(november)
		empty.Add(kase("SD3", "C9", asOf.Add(-time.Hour), cases.StatusSubmitted))
		got := empty.SubDistrict("SD3").Rates()
		for _, x := range []rates.Rate{got.Response, got.Resolution, got.Satisfaction, got.Completion} {
			if x.Text != "—" || x.PerMille != nil {
				t.Errorf("got %+v, want —", x)
			}
		}
	})
}

func TestPeriodText(t *testing.T) {
	p := rates.NewPeriod(time.Date(2025, 12, 31, 16, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC), asOf)
	if want := "登记于 2026-01-01 至 2026-11-27 的诉求，截至 2026-11-27 17:00"; p.Text != want {
		t.Errorf("got %q, want %q", p.Text, want)
	}
}
