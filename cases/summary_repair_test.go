package cases

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/cases/casedb"
)

// RepairSummaries reads the cases in batches of casedb.RepairBatch ids, several
// at once: over more cases than two batches hold, with a missing, a stale
// and a correct summary in every batch, a pending mark and orphans, it
// finds each exactly once, and a second run finds nothing.
func TestRepairSummariesOverBatches(t *testing.T) {
	ctx := context.Background()
	s := internalService(t)
	n := 2*casedb.RepairBatch + 37
	filed := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	docs := make([]any, n)
	for i := range docs {
		docs[i] = &Case{
			ID: fmt.Sprintf("c-%04d", i), Number: fmt.Sprintf("XC2026-%07d", i), Area: AreaUrban, Title: "路灯不亮",
			Location: Location{SubDistrict: "xichanganjie", Community: "xichanganjie-liubukou"}, Status: StatusSubmitted,
			FiledAt: filed.Add(time.Duration(i) * time.Minute), DueAt: filed.Add(48 * time.Hour), Version: 1, Households: i % 7,
		}
	}
	if err := s.st.Collection(casedb.CasesCollection).InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	repair := func(t *testing.T) SummaryRepair {
		t.Helper()
		rep, err := s.RepairSummaries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	t.Run("first build", func(t *testing.T) {
		if rep := repair(t); rep.Cases != n || rep.Missing != n || rep.Stale != 0 || rep.Orphans != 0 {
			t.Errorf("got %+v, want %d cases, all missing", rep, n)
		}
	})
	t.Run("missing, stale and orphans in every batch", func(t *testing.T) {
		var missing, stale int
		for i := 0; i < n; i += 41 {
			id := fmt.Sprintf("c-%04d", i)
			if _, err := s.st.Collection(casedb.SummariesCollection).DeleteOne(ctx, byID(id)); err != nil {
				t.Fatal(err)
			}
			missing++
		}
		for i := 7; i < n; i += 53 {
			// a case changed behind the summaries' back, as a crash between
			// the two writes leaves it
			if _, err := s.st.Collection(casedb.CasesCollection).UpdateOne(ctx, byID(fmt.Sprintf("c-%04d", i)),
				bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "路灯已修"}}}}); err != nil {
				t.Fatal(err)
			}
			stale++
		}
		for i := range 3 {
			orphan := summaryOf(docs[0].(*Case))
			orphan.ID = fmt.Sprintf("gone-%d", i)
			if err := s.st.Collection(casedb.SummariesCollection).InsertOne(ctx, orphan); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.st.Collection(casedb.PendingCollection).InsertOne(ctx, bson.D{{Key: "_id", Value: "c-0003"}}); err != nil {
			t.Fatal(err)
		}
		if rep := repair(t); rep.Cases != n || rep.Missing != missing || rep.Stale != stale || rep.Orphans != 3 {
			t.Errorf("got %+v, want %d cases, %d missing, %d stale, 3 orphans", rep, n, missing, stale)
		}
		var marks []bson.M
		if err := s.st.Collection(casedb.PendingCollection).FindAll(ctx, bson.D{}, &marks); err != nil || len(marks) != 0 {
			t.Errorf("got pending marks %v (%v), want none left", marks, err)
		}
	})
	t.Run("settled", func(t *testing.T) {
		if rep := repair(t); rep.Cases != n || rep.Missing+rep.Stale+rep.Orphans != 0 {
			t.Errorf("got %+v, want %d cases and nothing to repair", rep, n)
		}
		var sums []summary
		if err := s.st.Collection(casedb.SummariesCollection).FindAll(ctx, bson.D{}, &sums); err != nil {
			t.Fatal(err)
		}
		if len(sums) != n {
			t.Fatalf("got %d summaries, want %d", len(sums), n)
		}
		var cs []*Case
		if err := s.st.Collection(casedb.CasesCollection).FindAll(ctx, bson.D{}, &cs); err != nil {
			t.Fatal(err)
		}
		at := map[string]summary{}
		for _, sm := range sums {
			at[sm.ID] = sm
		}
		for _, c := range cs {
			if got, want := at[c.ID], summaryOf(c); !got.Same(&want) {
				t.Errorf("summary of %s: got %+v, want %+v", c.ID, got, want)
			}
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.RepairSummaries(cctx); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want the cancellation", err)
		}
	})
}
