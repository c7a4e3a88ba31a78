package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

// sortCorpus is the documents of the sort differential test: a community
// (c1) whose sort fields are all dates and strings, so the patched engine
// orders it in SQL, and others with every kind of value a sort meets
// (mixed types, missing fields, null, arrays, documents, ties).
func sortCorpus() []any {
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	mixed := []any{
		base, "x", diffOID, nil, bson.Null{}, int32(3), int64(4), 2.5, true, bson.A{base, base.Add(time.Hour)},
		bson.A{}, bson.D{{Key: "d", Value: base}}, base.Add(2 * time.Hour), bson.A{"x", base}, diffOIDHex,
	}
	var docs []any
	for i := range 60 {
		var id any = fmt.Sprintf("d%02d", i)
		switch i {
		case 7, 31:
			id = bson.ObjectID{0x65, byte(i), 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
		case 13:
			id = "社区"
		case 19:
			id = `d"1`
		}
		doc := bson.D{{Key: "_id", Value: id}, {Key: "n", Value: int64(i)}}
		switch i % 3 {
		case 0:
			// Ties on at (four documents an hour), strings that need
			// escapes in k.
			doc = append(doc, bson.E{Key: "community", Value: "c1"}, bson.E{Key: "at", Value: base.Add(time.Duration(i/4) * time.Hour)},
				bson.E{Key: "k", Value: diffStrings[i%len(diffStrings)]})
		case 1:
			doc = append(doc, bson.E{Key: "community", Value: "c2"})
			if v := mixed[i%len(mixed)]; v != nil {
				doc = append(doc, bson.E{Key: "at", Value: v})
			}
			doc = append(doc, bson.E{Key: "k", Value: diffStrings[(i+3)%len(diffStrings)]})
		default:
			doc = append(doc, bson.E{Key: "community", Value: "c3"}, bson.E{Key: "at", Value: base.Add(time.Duration(i%5) * time.Hour)})
			if i%4 != 0 {
				doc = append(doc, bson.E{Key: "k", Value: diffStrings[(i+7)%len(diffStrings)]})
			}
		}
		docs = append(docs, doc)
	}
	// c4: only the three types SQL orders, mixed in one field, and string
	// and ObjectID _ids mixed.
	sortable := []any{base, "x", diffOID, diffOIDHex, base.Add(-time.Hour), "社区", "", base, bson.ObjectID{0x01}}
	for i, v := range sortable {
		var id any = fmt.Sprintf("e%02d", i)
		if i%3 == 0 {
			id = bson.ObjectID{0x66, byte(i)}
		}
		docs = append(docs, bson.D{{Key: "_id", Value: id}, {Key: "community", Value: "c4"}, {Key: "at", Value: v},
			{Key: "k", Value: sortable[(i+4)%len(sortable)]}})
	}
	return docs
}

// TestSortPushdownDifferential runs finds with sorts (the patched engine
// orders the rows in SQL when the sort includes _id and every candidate's
// sort fields are strings, ObjectIDs or dates, and then reads only as many
// as the limit takes) with the stock engine and the patched one, and
// requires the same documents in the same order, through several batches.
func TestSortPushdownDifferential(t *testing.T) {
	skipUnlessEmbedded(t)
	ctx := context.Background()
	s := storetest.New(t)
	db := rawClient(t).Database(s.DatabaseName())
	if err := s.EnsureIndexes(ctx, []store.Index{
		{Collection: "sortdiff", Name: "community_at", Keys: bson.D{{Key: "community", Value: 1}, {Key: "at", Value: -1}, {Key: "_id", Value: -1}}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Collection("sortdiff").InsertMany(ctx, sortCorpus()); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }
	filters := []struct {
		name   string
		filter bson.D
	}{
		{"all", bson.D{}},
		{"c1", bson.D{{Key: "community", Value: "c1"}}},
		{"c2 mixed", bson.D{{Key: "community", Value: "c2"}}},
		{"c3", bson.D{{Key: "community", Value: "c3"}}},
		{"c4 sortable mixed", bson.D{{Key: "community", Value: "c4"}}},
		{"c1 or c3", bson.D{{Key: "community", Value: bson.D{{Key: "$in", Value: bson.A{"c1", "c3"}}}}}},
		{"at before", bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: at(5)}}}}},
		{"c1 at before", bson.D{{Key: "community", Value: "c1"}, {Key: "at", Value: bson.D{{Key: "$lt", Value: at(5)}}}}},
		{"c1 cursor", bson.D{{Key: "community", Value: "c1"}, {Key: "$or", Value: bson.A{
			bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: at(7)}}}},
			bson.D{{Key: "at", Value: at(7)}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: "d30"}}}},
		}}}},
		{"k regex", bson.D{{Key: "k", Value: bson.D{{Key: "$regex", Value: "x"}, {Key: "$options", Value: "i"}}}}},
		{"ids", bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{"d03", "d06", "d01", "社区", `d"1`, "d02"}}}}}},
		{"none", bson.D{{Key: "nofield", Value: "x"}}},
	}
	sorts := []bson.D{
		{{Key: "at", Value: -1}, {Key: "_id", Value: -1}},
		{{Key: "at", Value: 1}, {Key: "_id", Value: 1}},
		{{Key: "_id", Value: 1}},
		{{Key: "_id", Value: -1}},
		{{Key: "k", Value: 1}, {Key: "_id", Value: 1}},
		{{Key: "k", Value: -1}, {Key: "_id", Value: 1}},
		{{Key: "community", Value: 1}, {Key: "at", Value: -1}, {Key: "_id", Value: -1}},
		{{Key: "_id", Value: 1}, {Key: "at", Value: 1}},
		{{Key: "n", Value: -1}, {Key: "_id", Value: 1}}, // numbers: never ordered in SQL
	}
	pages := []struct {
		limit, skip int64
		proj        bson.D
	}{{0, 0, nil}, {1, 0, nil}, {5, 0, nil}, {5, 2, nil}, {3, 0, bson.D{{Key: "k", Value: 1}}}, {0, 0, bson.D{{Key: "n", Value: 1}, {Key: "_id", Value: 0}}}}
	var compared int
	for _, f := range filters {
		for _, sort := range sorts {
			for _, p := range pages {
				name := fmt.Sprintf("%s/sort %v/limit %d skip %d projection %v", f.name, sort, p.limit, p.skip, p.proj)
				opts := options.Find().SetSort(sort).SetBatchSize(2)
				if p.proj != nil {
					opts.SetProjection(p.proj)
				}
				if p.limit > 0 {
					opts.SetLimit(p.limit)
				}
				if p.skip > 0 {
					opts.SetSkip(p.skip)
				}
				stock := sortedAnswers(t, db, f.filter, opts, true)
				patched := sortedAnswers(t, db, f.filter, opts, false)
				if !slices.Equal(patched, stock) {
					t.Errorf("%s:\n got (patched) %q\nwant (stock)   %q", name, patched, stock)
				}
				compared++
			}
		}
	}

	t.Run("explain", func(t *testing.T) {
		filter := bson.D{{Key: "community", Value: "c1"}}
		sort := bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}
		if got := explainSortedFind(t, db, filter, sort).SortPushdown; !got {
			t.Errorf("patched: sortPushdown = %v, want true", got)
		}
		if got := explainSortedFind(t, db, filter, bson.D{{Key: "at", Value: -1}}).SortPushdown; got {
			t.Errorf("patched, a sort without _id: sortPushdown = %v, want false", got)
		}
		t.Setenv(stockPushdownEnv, "1")
		if got := explainSortedFind(t, db, filter, sort).SortPushdown; got {
			t.Errorf("stock: sortPushdown = %v, want false", got)
		}
	})
	t.Logf("%d finds compared", compared)
}

// sortedAnswers returns the _ids find returns, in order, or its error.
func sortedAnswers(t *testing.T, db *mongo.Database, filter bson.D, opts *options.FindOptionsBuilder, stock bool) []string {
	t.Helper()
	if stock {
		t.Setenv(stockPushdownEnv, "1")
	} else {
		t.Setenv(stockPushdownEnv, "")
	}
	ctx := context.Background()
	cur, err := db.Collection("sortdiff").Find(ctx, filter, opts)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	defer cur.Close(ctx)
	var out []string
	for cur.Next(ctx) {
		out = append(out, canonical(t, cur.Current))
	}
	if err := cur.Err(); err != nil {
		out = append(out, "error: "+err.Error())
	}
	return out
}

func explainSortedFind(t *testing.T, db *mongo.Database, filter, sort bson.D) struct {
	SortPushdown bool `bson:"sortPushdown"`
} {
	t.Helper()
	var e struct {
		SortPushdown bool `bson:"sortPushdown"`
	}
	cmd := bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: "sortdiff"}, {Key: "filter", Value: filter}, {Key: "sort", Value: sort}}}}
	if err := db.RunCommand(context.Background(), cmd).Decode(&e); err != nil {
		t.Fatalf("explain %v: %v", filter, err)
	}
	return e
}
