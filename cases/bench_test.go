package cases_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"minsheng/cases"
	"minsheng/internal/org"
	"minsheng/internal/store/storetest"
)

// BenchmarkQueues measures the queries a pilot runs all day on the engine
// under test (embedded FerretDB unless MINSHENG_TEST_MONGODB_URI is set),
// over a sub-district's worth of cases, so the README's advice on when to
// move to MongoDB rests on numbers. Run:
//
//	go test -run XXX -bench Queues -benchtime 20x ./cases/
func BenchmarkQueues(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("cases=%d", n), func(b *testing.B) { benchmarkQueues(b, n) })
	}
}

func benchmarkQueues(b *testing.B, n int) {
	ctx := context.Background()
	st := storetest.New(b)
	if err := st.EnsureIndexes(ctx, cases.Indexes); err != nil {
		b.Fatal(err)
	}
	svc := cases.NewService(st, org.Xicheng(), nil, cases.Config{Logger: storetest.Logger()})
	dir := org.Xicheng()
	comms := dir.CommunitiesOf(subA)
	statuses := []cases.Status{cases.StatusSubmitted, cases.StatusAccepted, cases.StatusInProgress, cases.StatusClosed}
	areas := []string{"ZH", "DQ", "MS", "SQ", "CG", "PA"}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := make([]any, n)
	for i := range docs {
		filed := base.Add(time.Duration(i) * 17 * time.Minute)
		docs[i] = &cases.Case{
			ID: fmt.Sprintf("bench-%06d", i), Number: fmt.Sprintf("XC2026-%06d", i+1), Area: areas[i%len(areas)],
			Title:    fmt.Sprintf("楼道照明损坏 %d 号楼", i%200),
			Location: cases.Location{SubDistrict: subA, Community: comms[i%len(comms)].Code, Address: fmt.Sprintf("%d号院", i%300)},
			Status:   statuses[i%len(statuses)], FiledAt: filed, ResponseDueAt: filed.Add(24 * time.Hour), DueAt: filed.Add(15 * 24 * time.Hour),
			Households: 1 + i%40, Timeline: []cases.Event{}, Photos: []cases.Photo{}, Cosigners: []string{},
		}
	}
	seed := time.Now()
	if err := st.Collection("cases").InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d cases in %s", n, time.Since(seed).Round(time.Millisecond))
	// Stored raw, so their summaries come from the repair `minsheng check` runs.
	rep, err := svc.RepairSummaries(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d summaries in %s", rep.Missing, rep.Duration.Round(time.Millisecond))

	queries := []struct {
		name string
		f    cases.Filter
	}{
		{"community queue", cases.Filter{Community: comms[0].Code, Status: cases.StatusSubmitted}},
		{"sub-district overdue by deadline", cases.Filter{SubDistrict: subA, Overdue: true, Sort: cases.SortDeadline}},
		{"title text", cases.Filter{SubDistrict: subA, Text: "17 号楼"}},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := svc.Find(ctx, staff, q.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("get by id", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := svc.FindByID(ctx, fmt.Sprintf("bench-%06d", i%n)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
