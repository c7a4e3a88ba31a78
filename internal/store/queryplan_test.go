package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	_ "modernc.org/sqlite" // the driver FerretDB's SQLite backend uses

	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

// planIndexes are the indexes of the query-plan tests: the queue shape's
// index in equality-first order, as docs/ARCHITECTURE.md asks of hot paths.
var planIndexes = []store.Index{
	{Collection: "plan", Name: "queue", Keys: bson.D{{Key: "community", Value: 1}, {Key: "status", Value: 1}, {Key: "filed_at", Value: -1}}},
}

// planDocs inserts n case-shaped documents into plan.
func planDocs(t *testing.T, s *store.Store, n int) {
	t.Helper()
	if err := s.EnsureIndexes(context.Background(), planIndexes); err != nil {
		t.Fatal(err)
	}
	docs := make([]any, n)
	for i := range docs {
		docs[i] = bson.D{
			{Key: "_id", Value: fmt.Sprintf("case-%04d", i)}, {Key: "version", Value: int64(1)},
			{Key: "community", Value: fmt.Sprintf("c%d", i%10)}, {Key: "status", Value: []string{"open", "accepted", "done"}[i%3]},
			{Key: "filed_at", Value: int64(i)},
		}
	}
	if err := s.Collection("plan").InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
}

// TestQueryPlanUsesIndexes reads SQLite's EXPLAIN QUERY PLAN of the
// statements the embedded engine runs for the hot query shapes (FerretDB's
// explain command returns it): each must search an index, none may scan the
// table. With the stock switch every one of them scans, which is what this
// test would see without the patch.
func TestQueryPlanUsesIndexes(t *testing.T) {
	skipUnlessEmbedded(t)
	s := storetest.New(t)
	db := rawClient(t).Database(s.DatabaseName())
	planDocs(t, s, 300)

	ids := bson.A{}
	for i := 0; i < 20; i++ {
		ids = append(ids, fmt.Sprintf("case-%04d", i*13))
	}
	for _, tc := range []struct {
		name   string
		filter bson.D
		index  string // the index name the plan must search, and by what
	}{
		{"_id", bson.D{{Key: "_id", Value: "case-0042"}}, "_id_ (<expr>=?)"},
		{"_id and version", bson.D{{Key: "_id", Value: "case-0042"}, {Key: "version", Value: int64(1)}}, "_id_ (<expr>=?)"},
		{"_id in 20 ids", bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, "_id_ (<expr>=?)"},
		// Both equalities, not only the first field's, select the index range.
		{"queue", bson.D{{Key: "community", Value: "c3"}, {Key: "status", Value: "open"}}, "queue (<expr>=? AND <expr>=?)"},
		{"queue in", bson.D{{Key: "community", Value: bson.D{{Key: "$in", Value: bson.A{"c3", "c4"}}}}, {Key: "status", Value: "open"}}, "queue (<expr>=? AND <expr>=?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := explainFind(t, db, "plan", tc.filter).QueryPlanner.Plan
			t.Logf("plan: %q", plan)
			if got := searchesIndex(plan, tc.index); !got {
				t.Errorf("plan searches index %q = false, want true; plan %q", tc.index, plan)
			}
			if got := scansTable(plan); got {
				t.Errorf("plan scans the table = true, want false; plan %q", plan)
			}
		})
		t.Run(tc.name+" stock scans", func(t *testing.T) {
			t.Setenv(stockPushdownEnv, "1")
			plan := explainFind(t, db, "plan", tc.filter).QueryPlanner.Plan
			if got := scansTable(plan); !got {
				t.Errorf("stock plan scans the table = false, want true (has the switch stopped working?); plan %q", plan)
			}
		})
	}
}

// TestQueryPlanWritesByID opens the SQLite file of a real embedded engine
// read-only, with the driver FerretDB uses, and checks that UPDATE and
// DELETE spelled as the patched backend spells them (idExpr in
// third_party/ferretdb/internal/backends/sqlite/pushdown.go) search the
// unique _id index, while the stock spelling scans.
func TestQueryPlanWritesByID(t *testing.T) {
	skipUnlessEmbedded(t)
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "msplan")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s, err := store.Open(ctx, store.Config{DataDir: dir, Database: "plandb", Logger: storetest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(ctx) })
	planDocs(t, s, 50)

	file := filepath.Join(dir, "db", "plandb.sqlite")
	conn, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Opaque: file, RawQuery: "mode=ro"}).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var table string
	if err := conn.QueryRowContext(ctx, `SELECT table_name FROM _ferretdb_collections WHERE name = 'plan'`).Scan(&table); err != nil {
		t.Fatalf("table of collection plan: %v", err)
	}

	update := []any{"{}", `"case-0001"`}
	del := []any{`"case-0001"`, `"case-0002"`}
	for _, tc := range []struct {
		name, stmt string
		args       []any
		index      bool
	}{
		{"update", `UPDATE %q SET _ferretdb_sjson = ? WHERE _ferretdb_sjson->"_id" = ?`, update, true},
		{"delete", `DELETE FROM %q WHERE _ferretdb_sjson->"_id" IN (?, ?)`, del, true},
		{"stock update", `UPDATE %q SET _ferretdb_sjson = ? WHERE _ferretdb_sjson->'$._id' = ?`, update, false},
		{"stock delete", `DELETE FROM %q WHERE _ferretdb_sjson->'$._id' IN (?, ?)`, del, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := conn.QueryContext(ctx, "EXPLAIN QUERY PLAN "+fmt.Sprintf(tc.stmt, table), tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, "detail="+detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if got := searchesIndex(plan, "_id_ (<expr>=?)"); got != tc.index {
				t.Errorf("plan searches the _id index = %v, want %v; plan %q", got, tc.index, plan)
			}
			if got := scansTable(plan); got == tc.index {
				t.Errorf("plan scans the table = %v, want %v; plan %q", got, !tc.index, plan)
			}
		})
	}
}

// searchesIndex reports whether a plan line searches the collection's
// index named and constrained as in "queue (<expr>=? AND <expr>=?)"
// (SQLite names the index <table>_<index>).
func searchesIndex(plan []string, index string) bool {
	for _, line := range plan {
		if strings.Contains(line, "SEARCH ") && strings.Contains(line, "USING INDEX ") && strings.Contains(line, "_"+index) {
			return true
		}
	}
	return false
}

// scansTable reports whether a plan line reads the whole table.
func scansTable(plan []string) bool {
	for _, line := range plan {
		if strings.Contains(line, "detail=SCAN ") {
			return true
		}
	}
	return false
}
