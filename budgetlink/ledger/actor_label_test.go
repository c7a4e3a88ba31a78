package ledger

import (
	"context"
	"testing"

	"minsheng/cases"
	"minsheng/internal/auth"
)

// TestMoneyEventsNameWhoActed pins issue 23 item 4: a budget entry on a
// case's timeline was shown as "匿名居民 · 预算" in the cadre app, "街道" on
// the site and a bare "预算" in the console, because it kept only the
// linker's id. Every view now carries one Chinese actor label from the
// server: staff by name and role, residents by role only, the system as 系统.
func TestMoneyEventsNameWhoActed(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运处置 2026", 10_000_000)
	c := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, bulkyDesc), bulkyItem)
	if _, err := e.LinkCase(ctx, xjkStaff, c.ID, line.ID, 48_000_00); err != nil {
		t.Fatal(err)
	}
	c = e.toInProgress(t, xjkStaff, xjkCadre, e.load(t, c.ID))
	if _, err := e.cs.Complete(ctx, xjkCadre, c.ID, c.Version, 46_500_00, "已清运"); err != nil {
		t.Fatal(err)
	}
	staffLabel := "新街口街道李（街道工作人员）"
	cadreLabel := "育德社区刘（社区干部）"
	for _, viewer := range []struct {
		name string
		p    auth.Principal
	}{{"cadre", xjkCadre}, {"sub-district staff", xjkStaff}, {"the resident who filed it", filer}} {
		t.Run("as "+viewer.name, func(t *testing.T) {
			v, err := e.cs.Get(ctx, viewer.p, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			var linkLabel, spendLabel, submitLabel string
			for _, ev := range v.Timeline {
				switch {
				case ev.Action == cases.ActBudget && ev.Actor == xjkStaff.UserID:
					linkLabel = ev.ActorLabel
					if got, want := cases.EventLabel(ev), staffLabel+" · "+ev.ActionLabel; got != want {
						t.Errorf("app label = %q, want %q", got, want)
					}
				case ev.Action == cases.ActBudget && ev.Actor == xjkCadre.UserID:
					spendLabel = ev.ActorLabel
				case ev.Action == cases.ActSubmit:
					submitLabel = ev.ActorLabel
				}
			}
			if linkLabel != staffLabel {
				t.Errorf("link entry actor = %q, want %q", linkLabel, staffLabel)
			}
			if spendLabel != cadreLabel {
				t.Errorf("spend entry actor = %q, want %q", spendLabel, cadreLabel)
			}
			if submitLabel != "居民" {
				t.Errorf("filing actor = %q, want 居民 (never the resident's name)", submitLabel)
			}
		})
	}
	t.Run("the audit trail names who moved the money", func(t *testing.T) {
		items, _, err := e.Audit(ctx, finance, AuditFilter{CaseID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{AuditReserve: staffLabel, AuditSpend: cadreLabel}
		for _, a := range items {
			if w, ok := want[a.Kind]; ok && a.ActorLabel != w {
				t.Errorf("%s by %q, want %q", a.Kind, a.ActorLabel, w)
			}
			delete(want, a.Kind)
		}
		if len(want) > 0 {
			t.Errorf("audit entries missing: %v", want)
		}
	})
}

func TestActorLabel(t *testing.T) {
	for _, tc := range []struct {
		actor, name string
		role        auth.Role
		want        string
	}{
		{"u1", "王芳", auth.RoleSubdistrict, "王芳（街道工作人员）"},
		{"u2", "李科长", auth.RoleFinance, "李科长（区财政局）"},
		{"u3", "", auth.RoleCadre, "社区干部"},
		{"u4", "张大爷", auth.RoleResident, "居民"},
		{"", "", auth.RoleResident, "居民"},
		{"", "", "", "居民"},
		{cases.SystemActor, "", "", "系统"},
		{"system:check", "数据核查", auth.RoleAdmin, "系统"},
		{"u5", "", "", "工作人员"},
	} {
		if got := cases.ActorLabel(tc.actor, tc.name, tc.role); got != tc.want {
			t.Errorf("ActorLabel(%q, %q, %q) = %q, want %q", tc.actor, tc.name, tc.role, got, tc.want)
		}
	}
}
