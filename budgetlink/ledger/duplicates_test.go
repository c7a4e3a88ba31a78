package ledger

// Simultaneous identical requests (issue 8 item 2): the cadre app's
// offline outbox sends the same request several times at once, against
// lines that already hold other entries — where the engine's $ne over
// arrays let every copy through.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

const (
	dupRounds  = 5
	dupCopies  = 12
	dupSeeding = 3 // entries a line holds before the first round
)

// together runs f(i) for i in [0, n) on n goroutines released at once.
func together(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f(i)
		}()
	}
	close(start)
	wg.Wait()
}

func TestParallelIdenticalAdjustments(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	a := mustLine(t, s, "xinjiekou", bulkyItem, "大件垃圾清运（并发调整）", 1_000_000)
	b := mustLine(t, s, "xinjiekou", "CG-01-01", "垃圾分类（并发调整）", 1_000_000)
	for i := range dupSeeding {
		for _, l := range []*BudgetLine{a, b} {
			if _, err := s.Adjust(ctx, finance, AdjustmentRequest{Kind: AdjustIncrease, LineID: l.ID, AmountFen: 100, Reason: fmt.Sprintf("既有调增 %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
	}

	for _, kind := range []string{AdjustIncrease, AdjustTransfer} {
		t.Run(kind, func(t *testing.T) {
			for round := range dupRounds {
				beforeA, beforeB := mustGet(t, s, a.ID), mustGet(t, s, b.ID)
				req := AdjustmentRequest{Kind: kind, LineID: a.ID, AmountFen: 1_000, Reason: "离线重发", IdempotencyKey: fmt.Sprintf("%s-%d", kind, round)}
				if kind == AdjustTransfer {
					req.ToLineID = b.ID
				}
				ids := make([]string, dupCopies)
				together(dupCopies, func(i int) {
					adj, err := s.Adjust(ctx, finance, req)
					if err != nil {
						t.Errorf("round %d copy %d: %v", round, i, err)
						return
					}
					if adj.State != AdjustmentApplied {
						t.Errorf("round %d copy %d: state %s, want applied", round, i, adj.State)
					}
					ids[i] = adj.ID
				})
				for i := range ids {
					if ids[i] != ids[0] {
						t.Errorf("round %d: copy %d answered adjustment %s, copy 0 %s", round, i, ids[i], ids[0])
					}
				}
				ga, gb := mustGet(t, s, a.ID), mustGet(t, s, b.ID)
				wantInvariant(t, ga)
				wantInvariant(t, gb)
				wantA, wantB := beforeA.AvailableFen+1_000, beforeB.AvailableFen
				if kind == AdjustTransfer {
					wantA, wantB = beforeA.AvailableFen-1_000, beforeB.AvailableFen+1_000
				}
				if ga.AvailableFen != wantA || gb.AvailableFen != wantB {
					t.Errorf("round %d: available a %d, b %d; want %d, %d (moved once)", round, ga.AvailableFen, gb.AvailableFen, wantA, wantB)
				}
				if got := len(ga.Adjustments) - len(beforeA.Adjustments); got != 1 {
					t.Errorf("round %d: line a got %d adjustment entries, want 1", round, got)
				}
				wantAudit := int64(1)
				if kind == AdjustTransfer {
					wantAudit = 2
				}
				if n := auditCount(t, s, bson.M{"adjustment_id": ids[0]}); n != wantAudit {
					t.Errorf("round %d: %d audit entries for the adjustment, want %d", round, n, wantAudit)
				}
			}
		})
	}
	rep, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("check after the rounds: %+v", rep)
	}
}

func TestParallelIdenticalLinks(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运（并发关联）", 10_000_000)
	for i := range dupSeeding {
		c := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, fmt.Sprintf("%s 既有%d", bulkyDesc, i)), bulkyItem)
		if _, err := e.LinkCase(ctx, xjkStaff, c.ID, line.ID, 10_000); err != nil {
			t.Fatal(err)
		}
	}
	for round := range dupRounds {
		c := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, fmt.Sprintf("%s 第%d轮", bulkyDesc, round)), bulkyItem)
		before := mustGet(t, e.Service, line.ID)
		const estimate = 25_000
		began := time.Now()
		defer func() {
			t.Logf("round %d: %d copies in %s", round, dupCopies, time.Since(began).Round(time.Millisecond))
		}()
		together(dupCopies, func(i int) {
			link, err := e.LinkCase(ctx, xjkStaff, c.ID, line.ID, estimate)
			if err != nil {
				t.Errorf("round %d copy %d: %v", round, i, err)
				return
			}
			if link.State != StateReserved || link.ReservedFen != estimate {
				t.Errorf("round %d copy %d: link %+v", round, i, link)
			}
		})
		got := mustGet(t, e.Service, line.ID)
		wantInvariant(t, got)
		n := 0
		for _, r := range got.Reservations {
			if r.CaseID == c.ID && r.Live() {
				n++
			}
		}
		if n != 1 {
			t.Errorf("round %d: line holds the case %d times, want once", round, n)
		}
		if d := got.CommittedFen - before.CommittedFen; d != estimate {
			t.Errorf("round %d: committed rose by %d, want %d", round, d, estimate)
		}
		if a := auditCount(t, e.Service, bson.M{"case_id": c.ID, "kind": AuditReserve}); a != 1 {
			t.Errorf("round %d: %d reserve audit entries, want 1", round, a)
		}
	}
	rep, err := e.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("check after the rounds: %+v", rep)
	}
}

// TestKilledTransferRetried: the request dies after debiting the source of
// a 150 元 调剂 (lines that already hold adjustments), and the client
// retries with the same Idempotency-Key, several copies at once: the source
// is debited once and the target credited once.
func TestKilledTransferRetried(t *testing.T) {
	ctx := context.Background()
	crash := errors.New("simulated crash")
	for _, step := range []string{"after the debit", "before the debit's audit"} {
		t.Run(step, func(t *testing.T) {
			s := newService(t)
			a := mustLine(t, s, "xinjiekou", bulkyItem, "大件垃圾清运", 100_000)
			b := mustLine(t, s, "desheng", bulkyItem, "大件垃圾清运", 100_000)
			for i := range dupSeeding {
				for _, l := range []*BudgetLine{a, b} {
					if _, err := s.Adjust(ctx, finance, AdjustmentRequest{Kind: AdjustIncrease, LineID: l.ID, AmountFen: 1_000, Reason: fmt.Sprintf("既有 %d", i)}); err != nil {
						t.Fatal(err)
					}
				}
			}
			req := AdjustmentRequest{Kind: AdjustTransfer, LineID: a.ID, ToLineID: b.ID, AmountFen: 15_000, Reason: "跨街道调剂", IdempotencyKey: "transfer-150"}
			if step == "after the debit" {
				s.faultAfterDebit = func() error { return crash }
			} else {
				s.faultBeforeAuditFn = func() error { return crash }
			}
			if _, err := s.Adjust(ctx, finance, req); !errors.Is(err, crash) {
				t.Fatalf("err = %v, want the crash", err)
			}
			s.faultAfterDebit, s.faultBeforeAuditFn = nil, nil
			together(8, func(i int) {
				adj, err := s.Adjust(ctx, finance, req)
				if err != nil || adj.State != AdjustmentApplied {
					t.Errorf("retry %d: %+v, %v", i, adj, err)
				}
			})
			ga, gb := mustGet(t, s, a.ID), mustGet(t, s, b.ID)
			wantInvariant(t, ga)
			wantInvariant(t, gb)
			if ga.AvailableFen != 103_000-15_000 || gb.AvailableFen != 103_000+15_000 {
				t.Errorf("available a %d, b %d; want %d, %d (debited once, credited once)", ga.AvailableFen, gb.AvailableFen, 103_000-15_000, 103_000+15_000)
			}
			rep, err := s.Check(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Fixes {
				if f.Kind != FixAuditWritten {
					t.Errorf("check fixed %+v after the retries", f)
				}
			}
			if len(rep.Problems) > 0 {
				t.Errorf("check problems: %v", rep.Problems)
			}
		})
	}
}
