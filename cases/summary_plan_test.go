package cases_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng/cases"
	"minsheng/internal/store/storetest"
)

// The queue queries as the service sends them to the summaries search an
// index on the embedded engine (SQLite's EXPLAIN QUERY PLAN, which the
// patched FerretDB returns for explain) and never scan the table.
func TestSummaryQueriesSearchAnIndex(t *testing.T) {
	if os.Getenv("MINSHENG_TEST_MONGODB_URI") != "" {
		t.Skip("the pushdown patch is part of the embedded engine only")
	}
	st := storetest.New(t)
	ctx := context.Background()
	if err := st.EnsureIndexes(ctx, cases.Indexes); err != nil {
		t.Fatal(err)
	}
	cl, err := mongo.Connect(options.Client().ApplyURI(storetest.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Disconnect(context.Background()) })
	db := cl.Database(st.DatabaseName())
	// A few summaries, so the collection's table exists.
	if _, err := db.Collection("case_summaries").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: "a"}, {Key: "sub_district", Value: subA}, {Key: "community", Value: commA}, {Key: "status", Value: "submitted"}},
		bson.D{{Key: "_id", Value: "b"}, {Key: "sub_district", Value: subB}, {Key: "community", Value: commB}, {Key: "status", Value: "accepted"},
			{Key: "filer_id", Value: "res-1"}, {Key: "cosigners", Value: bson.A{"res-2"}}},
	}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, tc := range []struct {
		name   string
		filter bson.D
	}{
		{"staff queue by status", bson.D{{Key: "status", Value: "submitted"}, {Key: "sub_district", Value: subA}}},
		{"staff overdue", bson.D{{Key: "sub_district", Value: subA}, {Key: "due_at", Value: bson.D{{Key: "$lt", Value: now}}}}},
		{"cadre queue", bson.D{{Key: "community", Value: commA}}},
		{"similar", bson.D{{Key: "community", Value: commA}, {Key: "area", Value: "CG"},
			{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{"submitted", "accepted"}}}}}},
		{"pending effects", bson.D{{Key: "effect_pending", Value: "1"}}},
		{"page by ids", bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{"a", "b"}}}}}},
		// A resident's list (caselist's mine): the $or on the cases it replaced
		// was not pushed down and decoded every case.
		{"resident filed", bson.D{{Key: "filer_id", Value: "res-1"}}},
		{"resident co-signed", bson.D{{Key: "cosigners", Value: "res-1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e struct {
				QueryPlanner struct {
					Plan []string `bson:"Plan"`
				} `bson:"queryPlanner"`
			}
			cmd := bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: "case_summaries"}, {Key: "filter", Value: tc.filter}}}}
			if err := db.RunCommand(ctx, cmd).Decode(&e); err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(e.QueryPlanner.Plan, "\n")
			t.Logf("plan: %s", plan)
			if !strings.Contains(plan, "USING INDEX") || strings.Contains(plan, "detail=SCAN ") {
				t.Errorf("got plan %q, want an index search and no scan", plan)
			}
		})
	}
}
