package cases

import (
	"slices"
	"testing"
	"time"

	"minsheng/internal/auth"
)

// TestLabelsRemainingText pins the deadline's words. The cadre app re-times
// the same text offline (static/m/format.js live); e2e/browser/
// format-lib.test.mjs checks it against this table.
func TestLabelsRemainingText(t *testing.T) {
	for _, tc := range []struct {
		left time.Duration
		want string
	}{
		{2*24*time.Hour + 3*time.Hour + 20*time.Minute, "剩余 2 天 3 时"},
		{24 * time.Hour, "剩余 1 天 0 时"},
		{24*time.Hour - time.Second, "剩余 23 时"},
		{5*time.Hour + 59*time.Minute, "剩余 5 时"},
		{40*time.Minute + 30*time.Second, "剩余 40 分"},
		{0, "剩余 0 分"},
		{-time.Second, "已超期 1 时"},
		{-(2*time.Hour + time.Minute), "已超期 3 时"},
		{-(24*time.Hour - time.Second), "已超期 24 时"},
		{-24 * time.Hour, "已超期 1 天"},
		{-(3*24*time.Hour + 23*time.Hour), "已超期 3 天"},
	} {
		if got := remainingText(tc.left); got != tc.want {
			t.Errorf("remainingText(%v) = %q, want %q", tc.left, got, tc.want)
		}
	}
}

// TestLabelsForCaller checks that the steps offered follow the caller's
// role and scope (the transition table and authorize), that a resident
// never gets a staff step, and that labels and deadline text come along.
func TestLabelsForCaller(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	const sub, comm, other = "xichanganjie", "xichanganjie-liubukou", "xichanganjie-other"
	staff := auth.Principal{UserID: "u-staff", Role: auth.RoleSubdistrict, SubDistrict: sub}
	farStaff := auth.Principal{UserID: "u-far", Role: auth.RoleSubdistrict, SubDistrict: "jinrongjie"}
	cadre := auth.Principal{UserID: "u-cadre", Role: auth.RoleCadre, SubDistrict: sub, Community: comm}
	farCadre := auth.Principal{UserID: "u-far-cadre", Role: auth.RoleCadre, SubDistrict: sub, Community: other}
	filer := auth.Principal{UserID: "u-filer", Role: auth.RoleResident}
	cosigner := auth.Principal{UserID: "u-cosigner", Role: auth.RoleResident}
	finance := auth.Principal{UserID: "u-fin", Role: auth.RoleFinance}
	admin := auth.Principal{UserID: "u-admin", Role: auth.RoleAdmin}
	at := func(st Status, due time.Duration) *Case {
		return &Case{Status: st, FilerID: filer.UserID, DueAt: now.Add(due), Verdict: VerdictDissatisfied,
			Location: Location{SubDistrict: sub, Community: comm}}
	}
	steps := func(l Labels) []string {
		var out []string
		for _, a := range l.Actions {
			out = append(out, string(a.Action)+":"+a.Label)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		p    auth.Principal
		c    *Case
		want []string
	}{
		{"staff triage", staff, at(StatusSubmitted, 3*time.Hour), []string{"accept:受理", "reject:退单", "merge:合并重复", "cancel:取消"}},
		{"admin triage", admin, at(StatusSubmitted, 3*time.Hour), []string{"accept:受理", "reject:退单", "merge:合并重复", "cancel:取消"}},
		{"staff of another sub-district", farStaff, at(StatusSubmitted, 3*time.Hour), nil},
		{"cadre before acceptance", cadre, at(StatusSubmitted, 3*time.Hour), nil},
		{"staff assign", staff, at(StatusAccepted, 72*time.Hour), []string{"merge:合并重复", "assign:派单", "cancel:取消"}},
		{"cadre assess", cadre, at(StatusAssigned, 72*time.Hour), []string{"assess:现场评估"}},
		{"cadre of another community", farCadre, at(StatusAssigned, 72*time.Hour), nil},
		{"cadre start", cadre, at(StatusAssessed, 72*time.Hour), []string{"assess:现场评估", "start:开始办理"}},
		{"cadre complete", cadre, at(StatusInProgress, -time.Hour), []string{"complete:办结"}},
		{"cadre records the verdict", cadre, at(StatusCompleted, 0), []string{"verdict:回访评价"}},
		{"filer rates", filer, at(StatusCompleted, 0), []string{"verdict:评价"}},
		{"co-signer gets nothing", cosigner, at(StatusCompleted, 0), nil},
		{"filer never gets staff steps", filer, at(StatusSubmitted, 3*time.Hour), nil},
		{"finance takes no step", finance, at(StatusSubmitted, 3*time.Hour), nil},
		{"anonymous tracker", auth.Principal{}, at(StatusCompleted, 0), nil},
		{"nothing after closing", staff, at(StatusClosed, 0), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := LabelsFor(tc.p, tc.c, now)
			if got := steps(l); !slices.Equal(got, tc.want) {
				t.Errorf("actions = %v, want %v", got, tc.want)
			}
			if l.Actions == nil {
				t.Error("actions nil, want an empty list")
			}
			if l.StatusLabel != tc.c.Status.Label() || l.VerdictLabel != "不满意" {
				t.Errorf("status %q verdict %q", l.StatusLabel, l.VerdictLabel)
			}
		})
	}
	l := LabelsFor(staff, at(StatusInProgress, -(26*time.Hour)), now)
	if l.DeadlineText != "已超期 1 天" || !l.Overdue || l.Deadline == nil || l.Deadline.Label != "办结时限" {
		t.Errorf("overdue: %+v %+v", l, l.Deadline)
	}
	l = LabelsFor(staff, at(StatusSubmitted, 5*time.Hour+10*time.Minute), now)
	if l.DeadlineText != "剩余 5 时" || l.Overdue || !l.Deadline.DueSoon || l.Deadline.Label != "响应时限" {
		t.Errorf("due soon: %+v %+v", l, l.Deadline)
	}
	if l = LabelsFor(staff, at(StatusClosed, 0), now); l.Deadline != nil || l.DeadlineText != "" || l.Overdue {
		t.Errorf("closed: %+v", l)
	}
}

// TestLabelsTimeline names timeline steps for staff and for residents.
func TestLabelsTimeline(t *testing.T) {
	staff := auth.Principal{UserID: "u", Role: auth.RoleCadre}
	resident := auth.Principal{UserID: "r", Role: auth.RoleResident}
	for _, tc := range []struct {
		a               Action
		staff, resident string
	}{
		{ActSubmit, "登记", "提交诉求"},
		{ActReject, "退单", "不予受理"},
		{ActVerdict, "回访", "已评价"},
		{ActReopen, "重办", "不满意，重新办理"},
		{ActUndo, "撤销", "撤销"},
	} {
		if got := TimelineLabel(tc.a, staff); got != tc.staff {
			t.Errorf("%s for staff: %q, want %q", tc.a, got, tc.staff)
		}
		if got := TimelineLabel(tc.a, resident); got != tc.resident {
			t.Errorf("%s for residents: %q, want %q", tc.a, got, tc.resident)
		}
		if got := TimelineLabel(tc.a, auth.Principal{}); got != tc.resident {
			t.Errorf("%s for trackers: %q, want %q", tc.a, got, tc.resident)
		}
	}
}
