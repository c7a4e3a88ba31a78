package cases_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/org"
	"minsheng/internal/store/storetest"
)

// BenchmarkListsAtScale measures the queue lists and the summary repair
// through the service (no HTTP) over MINSHENG_BENCH_CASES cases (10,000 by
// default) spread over 15 sub-districts as bench/ seeds them, so a CPU
// profile (-cpuprofile) shows where a list spends its time:
//
//	MINSHENG_BENCH_CASES=50000 go test -run '^$' -bench ListsAtScale -benchtime 20x -cpuprofile cpu.out ./cases/
func BenchmarkListsAtScale(b *testing.B) {
	n := benchCases()
	ctx := context.Background()
	st := storetest.New(b)
	if err := st.EnsureIndexes(ctx, cases.Indexes); err != nil {
		b.Fatal(err)
	}
	dir := org.Xicheng()
	svc := cases.NewService(st, dir, nil, cases.Config{Logger: storetest.Logger()})
	subs := dir.District().SubDistricts
	if len(subs) > 15 {
		subs = subs[:15]
	}
	sub0 := subs[0].Code
	comm0 := dir.CommunitiesOf(sub0)[0].Code
	areas := []string{"ZH", "DQ", "MS", "SQ", "CG", "PA"}
	titles := []string{"楼道照明损坏", "路灯不亮", "垃圾清运不及时", "小区停车难", "楼道堆物", "下水道堵塞", "健身器材损坏"}
	statuses := []cases.Status{cases.StatusSubmitted, cases.StatusAccepted, cases.StatusAssigned, cases.StatusInProgress, cases.StatusClosed}
	base := time.Now().Add(-time.Duration(n) * 10 * time.Minute)
	docs := make([]any, n)
	for i := range docs {
		sub := subs[i%len(subs)].Code
		comms := dir.CommunitiesOf(sub)
		filed := base.Add(time.Duration(i) * 10 * time.Minute)
		st := statuses[i%len(statuses)]
		due := filed.Add(15 * 24 * time.Hour)
		if st == cases.StatusClosed {
			due = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		docs[i] = &cases.Case{
			ID: fmt.Sprintf("case-%07d", i), Number: fmt.Sprintf("XC2026-%07d", i+1), Area: areas[i%len(areas)],
			Title:       fmt.Sprintf("%s %d号楼", titles[i%len(titles)], i%300),
			Description: strings.Repeat("居民反映该问题已持续一段时间，影响日常生活，请尽快处理。", 12),
			Location:    cases.Location{SubDistrict: sub, Community: comms[(i/len(subs))%len(comms)].Code, Address: fmt.Sprintf("%d号院", i%50)},
			Status:      st, FiledAt: filed, ResponseDueAt: filed.Add(24 * time.Hour), DueAt: due, Version: 1,
			Households: 1 + i%40, ContactName: "张三", ContactPhone: "13800000000",
			Timeline: []cases.Event{{At: filed, Actor: "res", Action: cases.ActSubmit, To: cases.StatusSubmitted}},
			Photos:   []cases.Photo{}, Cosigners: []string{},
		}
		// One resident's cases: filed, and co-signed.
		if i%100 == 0 {
			docs[i].(*cases.Case).FilerID = "res-1"
		}
		if i%150 == 75 {
			docs[i].(*cases.Case).Cosigners = []string{"res-1"}
		}
	}
	for i := 0; i < n; i += 5000 {
		if err := st.Collection("cases").InsertMany(ctx, docs[i:min(i+5000, n)]); err != nil {
			b.Fatal(err)
		}
	}
	rep, err := svc.RepairSummaries(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d cases: built %d summaries in %s", n, rep.Missing, rep.Duration.Round(time.Millisecond))
	rep, err = svc.RepairSummaries(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d cases: repair over built summaries in %s: %+v", n, rep.Duration.Round(time.Millisecond), rep)

	cadreP := auth.Principal{UserID: "c", Role: auth.RoleCadre, SubDistrict: sub0, Community: comm0}
	staffP := auth.Principal{UserID: "s", Role: auth.RoleSubdistrict, SubDistrict: sub0}
	residentP := auth.Principal{UserID: "res-1", Role: auth.RoleResident}
	_, next, err := svc.Find(ctx, staffP, cases.Filter{})
	if err != nil {
		b.Fatal(err)
	}
	// Before: the resident's list as an $or on the cases, once.
	cases.SetListOnCases(svc, true)
	before := time.Now()
	if _, _, err := svc.Find(ctx, residentP, cases.Filter{}); err != nil {
		b.Logf("resident's own list on the cases ($or, before): failed after %s: %v", time.Since(before).Round(time.Millisecond), err)
	} else {
		b.Logf("resident's own list on the cases ($or, before): %s", time.Since(before).Round(time.Millisecond))
	}
	cases.SetListOnCases(svc, false)
	for _, q := range []struct {
		name string
		p    auth.Principal
		f    cases.Filter
	}{
		{"staff queue", staffP, cases.Filter{Status: cases.StatusSubmitted}},
		{"staff all", staffP, cases.Filter{}},
		{"cadre queue", cadreP, cases.Filter{}},
		{"overdue", staffP, cases.Filter{Overdue: true, Sort: cases.SortDeadline}},
		{"text search", staffP, cases.Filter{Text: "路灯"}},
		{"second page", staffP, cases.Filter{Cursor: next}},
		{"resident's own list", residentP, cases.Filter{}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := svc.Find(ctx, q.p, q.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchCases() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("MINSHENG_BENCH_CASES"), &n); err != nil || n <= 0 {
		return 10_000
	}
	return n
}
