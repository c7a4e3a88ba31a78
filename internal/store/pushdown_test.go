package store_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

// stockPushdownEnv switches the patched SQLite backend of the embedded
// engine (third_party/ferretdb, see third_party/PATCHES) back to FerretDB
// v1.24.2's own pushdown. The engine runs in this process and reads the
// variable on every query.
const stockPushdownEnv = "FERRETDB_SQLITE_STOCK_PUSHDOWN"

func skipUnlessEmbedded(tb testing.TB) {
	tb.Helper()
	if os.Getenv("MINSHENG_TEST_MONGODB_URI") != "" {
		tb.Skip("the pushdown patch is part of the embedded engine only")
	}
}

// rawClient connects the driver straight to the package's engine, for the
// commands Store does not expose (explain, aggregate).
func rawClient(tb testing.TB) *mongo.Client {
	tb.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(storetest.URI()))
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// The ObjectID's hex is also stored as a string _id and field value: both are
// JSON strings in the SQLite rows, so pushdown must not confuse them.
var (
	diffOID    = bson.ObjectID{0x65, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b}
	diffOIDHex = diffOID.Hex()
	diffWhen   = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
)

// diffStrings need JSON escapes or are otherwise easy to get wrong when
// compared as JSON text.
var diffStrings = []string{
	"", "x", "X", "x ", "社区", "<script>&amp;", "line\u2028sep\u2029", `"quoted"`, `back\slash`,
	"tab\tnew\nline", "ctl\x01\x1f", "emoji 😀", "é", "e\u0301", "nul\x00byte", "[x]", "{x}", "null", "1",
}

// diffCorpus is the documents every query runs over.
func diffCorpus() []any {
	ids := []any{
		"s1", diffOID, int32(7), int64(8), 7.5, true, diffWhen,
		bson.Null{}, bson.D{{Key: "k", Value: "s1"}}, bson.Binary{Subtype: 0, Data: []byte("bin")},
		bson.Timestamp{T: 1700000000, I: 1}, "社区-1", "<>&", "",
	}
	values := []any{
		"x", "y", "X", "", int32(1), int64(1), 1.0, true, false, bson.Null{}, diffWhen,
		diffOID, diffOIDHex, bson.Regex{Pattern: "^x", Options: "i"},
		bson.A{"x", "y"}, bson.A{"y"}, bson.A{}, bson.A{int32(1), "x"},
		bson.A{bson.D{{Key: "s", Value: "x"}}, bson.D{{Key: "s", Value: "z"}}},
		bson.D{{Key: "s", Value: "x"}}, bson.D{{Key: "b", Value: "x"}},
		bson.A{diffOID}, bson.Timestamp{T: 1700000000, I: 1}, bson.Binary{Subtype: 0, Data: []byte("x")},
	}
	for _, s := range diffStrings {
		values = append(values, s)
	}

	var docs []any
	communities := []string{"c1", "c2", "社区"}
	statuses := []string{"open", "accepted", "done"}
	for i, id := range ids {
		docs = append(docs, bson.D{
			{Key: "_id", Value: id}, {Key: "version", Value: int64(i % 3)},
			{Key: "s", Value: values[i%len(values)]}, {Key: "community", Value: communities[i%3]},
			{Key: "status", Value: statuses[i%3]},
		})
	}
	for i, v := range values {
		doc := bson.D{
			{Key: "_id", Value: fmt.Sprintf("v%02d", i)}, {Key: "version", Value: int64(i % 4)},
			{Key: "s", Value: v}, {Key: "t", Value: values[(i+5)%len(values)]},
			{Key: "a", Value: bson.D{{Key: "b", Value: v}}},
			{Key: "arr", Value: bson.A{bson.D{{Key: "s", Value: v}}}},
			{Key: "n", Value: int64(i)},
		}
		// Queue fields: present, missing, arrays and other types now and then.
		switch i % 7 {
		case 0:
		case 1:
			doc = append(doc, bson.E{Key: "community", Value: bson.A{"c1", "c2"}}, bson.E{Key: "status", Value: "open"})
		case 2:
			doc = append(doc, bson.E{Key: "community", Value: "c1"}, bson.E{Key: "status", Value: bson.A{"open"}})
		case 3:
			doc = append(doc, bson.E{Key: "community", Value: int32(1)}, bson.E{Key: "status", Value: bson.Null{}})
		default:
			doc = append(doc, bson.E{Key: "community", Value: communities[i%3]}, bson.E{Key: "status", Value: statuses[i%3]})
		}
		docs = append(docs, doc)
	}
	return docs
}

// diffQueries are the filters compared; each name says what it exercises.
func diffQueries() []struct {
	name   string
	filter bson.D
} {
	type q = struct {
		name   string
		filter bson.D
	}
	in := func(vs ...any) bson.D { return bson.D{{Key: "$in", Value: bson.A(vs)}} }
	qs := []q{
		{"empty", bson.D{}},
		{"_id string", bson.D{{Key: "_id", Value: "s1"}}},
		{"_id hex string", bson.D{{Key: "_id", Value: diffOIDHex}}},
		{"_id objectid", bson.D{{Key: "_id", Value: diffOID}}},
		{"_id int32", bson.D{{Key: "_id", Value: int32(7)}}},
		{"_id int64", bson.D{{Key: "_id", Value: int64(7)}}},
		{"_id double", bson.D{{Key: "_id", Value: 7.5}}},
		{"_id bool", bson.D{{Key: "_id", Value: true}}},
		{"_id date", bson.D{{Key: "_id", Value: diffWhen}}},
		{"_id null", bson.D{{Key: "_id", Value: bson.Null{}}}},
		{"_id document", bson.D{{Key: "_id", Value: bson.D{{Key: "k", Value: "s1"}}}}},
		{"_id binary", bson.D{{Key: "_id", Value: bson.Binary{Subtype: 0, Data: []byte("bin")}}}},
		{"_id unicode", bson.D{{Key: "_id", Value: "社区-1"}}},
		{"_id html", bson.D{{Key: "_id", Value: "<>&"}}},
		{"_id empty string", bson.D{{Key: "_id", Value: ""}}},
		{"_id missing value", bson.D{{Key: "_id", Value: "nope"}}},
		{"_id eq", bson.D{{Key: "_id", Value: bson.D{{Key: "$eq", Value: "s1"}}}}},
		{"_id eq objectid", bson.D{{Key: "_id", Value: bson.D{{Key: "$eq", Value: diffOID}}}}},
		{"_id in strings", bson.D{{Key: "_id", Value: in("s1", "v01", "v03", "nope", "社区-1")}}},
		{"_id in string and objectid", bson.D{{Key: "_id", Value: in(diffOID, diffOIDHex)}}},
		{"_id in mixed types", bson.D{{Key: "_id", Value: in("s1", int32(7), 7.5, bson.Null{})}}},
		{"_id in empty", bson.D{{Key: "_id", Value: in()}}},
		{"_id timestamp", bson.D{{Key: "_id", Value: bson.Timestamp{T: 1700000000, I: 1}}}},
		{"_id in over the cap", bson.D{{Key: "_id", Value: in(manyIDs(1001)...)}}},
		{"s in at the cap", bson.D{{Key: "s", Value: in(manyIDs(1000)...)}}},
		{"_id and version", bson.D{{Key: "_id", Value: "v05"}, {Key: "version", Value: int64(1)}}},
		{"_id and stale version", bson.D{{Key: "_id", Value: "v05"}, {Key: "version", Value: int64(0)}}},
		{"_id and string field", bson.D{{Key: "_id", Value: "v01"}, {Key: "community", Value: "c1"}}},
		{"s x", bson.D{{Key: "s", Value: "x"}}},
		{"s y", bson.D{{Key: "s", Value: "y"}}},
		{"s eq x", bson.D{{Key: "s", Value: bson.D{{Key: "$eq", Value: "x"}}}}},
		{"s eq x and ne y", bson.D{{Key: "s", Value: bson.D{{Key: "$eq", Value: "x"}, {Key: "$ne", Value: "y"}}}}},
		{"s in", bson.D{{Key: "s", Value: in("x", "y", "社区")}}},
		{"s in with null", bson.D{{Key: "s", Value: in("x", bson.Null{})}}},
		{"s in with number", bson.D{{Key: "s", Value: in("x", int32(1))}}},
		{"s in with regex", bson.D{{Key: "s", Value: in("y", bson.Regex{Pattern: "^X"})}}},
		{"s in empty", bson.D{{Key: "s", Value: in()}}},
		{"s objectid", bson.D{{Key: "s", Value: diffOID}}},
		{"s hex string", bson.D{{Key: "s", Value: diffOIDHex}}},
		{"s null", bson.D{{Key: "s", Value: bson.Null{}}}},
		{"s int", bson.D{{Key: "s", Value: int32(1)}}},
		{"s array", bson.D{{Key: "s", Value: bson.A{"x", "y"}}}},
		{"s document", bson.D{{Key: "s", Value: bson.D{{Key: "s", Value: "x"}}}}},
		{"s ne x", bson.D{{Key: "s", Value: bson.D{{Key: "$ne", Value: "x"}}}}},
		{"s nin", bson.D{{Key: "s", Value: bson.D{{Key: "$nin", Value: bson.A{"x"}}}}}},
		{"s regex", bson.D{{Key: "s", Value: bson.Regex{Pattern: "^x"}}}},
		{"s all", bson.D{{Key: "s", Value: bson.D{{Key: "$all", Value: bson.A{"x", "y"}}}}}},
		{"s elemMatch", bson.D{{Key: "s", Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "$eq", Value: "x"}}}}}}},
		{"s exists false", bson.D{{Key: "s", Value: bson.D{{Key: "$exists", Value: false}}}}},
		{"s and n", bson.D{{Key: "s", Value: "x"}, {Key: "n", Value: bson.D{{Key: "$gte", Value: int64(0)}}}}},
		{"s and t", bson.D{{Key: "s", Value: "x"}, {Key: "t", Value: "y"}}},
		{"missing field", bson.D{{Key: "nofield", Value: "x"}}},
		{"dotted a.b", bson.D{{Key: "a.b", Value: "x"}}},
		{"dotted arr.s", bson.D{{Key: "arr.s", Value: "x"}}},
		{"embedded a", bson.D{{Key: "a", Value: bson.D{{Key: "b", Value: "x"}}}}},
		{"or", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "s", Value: "x"}}, bson.D{{Key: "s", Value: "y"}}}}}},
		{"and", bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "s", Value: "x"}}, bson.D{{Key: "community", Value: "c1"}}}}}},
		{"queue", bson.D{{Key: "community", Value: "c1"}, {Key: "status", Value: "open"}}},
		{"queue unicode", bson.D{{Key: "community", Value: "社区"}, {Key: "status", Value: "done"}}},
		{"queue in", bson.D{{Key: "community", Value: in("c1", "c2")}, {Key: "status", Value: in("open", "accepted")}}},
		{"three fields", bson.D{{Key: "community", Value: "c1"}, {Key: "status", Value: "open"}, {Key: "s", Value: "x"}}},
		{"four fields", bson.D{{Key: "community", Value: "c2"}, {Key: "status", Value: "accepted"}, {Key: "s", Value: "y"}, {Key: "t", Value: "x"}}},
		{"four fields with _id", bson.D{{Key: "s", Value: "x"}, {Key: "_id", Value: "v00"}, {Key: "community", Value: bson.A{"c1", "c2"}}, {Key: "status", Value: "open"}}},
		{"queue null status", bson.D{{Key: "community", Value: "c1"}, {Key: "status", Value: bson.Null{}}}},
	}
	for i, s := range diffStrings {
		qs = append(qs, q{fmt.Sprintf("s string %02d", i), bson.D{{Key: "s", Value: s}}})
		qs = append(qs, q{fmt.Sprintf("s in string %02d", i), bson.D{{Key: "s", Value: in(s, "nope")}}})
	}
	return qs
}

// manyIDs returns n _id-like strings, the corpus's among them.
func manyIDs(n int) []any {
	ids := make([]any, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("v%02d", i)
	}
	ids[n-1] = "x"
	return ids
}

// TestPushdownDifferential runs every query of the corpus through find,
// findOne, distinct, count, aggregate, updateOne, updateMany,
// findOneAndUpdate and deleteOne (with -race: find, count,
// updateMany and deleteOne) with the stock pushdown and
// with the patched one, on identical data with indexes declared on the
// fields queried, and requires identical answers — documents and their
// order included, as callers that do not sort see the natural order.
func TestPushdownDifferential(t *testing.T) {
	skipUnlessEmbedded(t)
	ctx := context.Background()
	s := storetest.New(t)
	db := rawClient(t).Database(s.DatabaseName())

	idx := []store.Index{
		{Collection: "diff", Name: "s", Keys: bson.D{{Key: "s", Value: 1}}},
		{Collection: "diff", Name: "queue", Keys: bson.D{{Key: "community", Value: 1}, {Key: "status", Value: 1}, {Key: "version", Value: -1}}},
	}
	if err := s.EnsureIndexes(ctx, idx); err != nil {
		t.Fatal(err)
	}
	diff := s.Collection("diff")
	if err := diff.InsertMany(ctx, diffCorpus()); err != nil {
		t.Fatal(err)
	}

	t.Run("array _id refused", func(t *testing.T) {
		// Only _id has no array candidates in the pushdown; that rests on this.
		if err := diff.InsertOne(ctx, bson.D{{Key: "_id", Value: bson.A{"s1"}}}); err == nil {
			t.Fatal("insert with an array _id succeeded; the _id pushdown would miss it")
		}
	})

	t.Run("switch works", func(t *testing.T) {
		filter := bson.D{{Key: "_id", Value: "s1"}, {Key: "version", Value: int64(0)}}
		if got := explainFind(t, db, "diff", filter).FilterPushdown; !got {
			t.Errorf("patched: filterPushdown = %v, want true", got)
		}
		t.Setenv(stockPushdownEnv, "1")
		if got := explainFind(t, db, "diff", filter).FilterPushdown; got {
			t.Errorf("stock: filterPushdown = %v, want false", got)
		}
	})

	t.Run("answers are not vacuous", func(t *testing.T) {
		// {s: "x"} matches "x", ["x", "y"], [1, "x"], and the elements of
		// diffStrings equal to "x" in documents keyed by _id.
		got := readAnswers(t, db, "diff", bson.D{{Key: "s", Value: "x"}}, false)
		var found, errs int
		for _, line := range got {
			if strings.HasPrefix(line, "find {") {
				found++
			}
			if strings.Contains(line, "error") {
				errs++
			}
		}
		if found < 3 || errs > 0 {
			t.Errorf("{s: x}: %d documents found and %d errors, want at least 3 and none: %q", found, errs, got)
		}
	})

	for _, q := range diffQueries() {
		t.Run(q.name, func(t *testing.T) {
			stock := readAnswers(t, db, "diff", q.filter, true)
			patched := readAnswers(t, db, "diff", q.filter, false)
			if !slices.Equal(patched, stock) {
				t.Errorf("filter %v:\n got (patched) %q\nwant (stock)   %q", q.filter, patched, stock)
			}
		})
	}

	t.Run("writes", func(t *testing.T) {
		// Two identical copies; each query updates, then deletes, in one of them.
		for _, name := range []string{"w_stock", "w_patched"} {
			if err := s.EnsureIndexes(ctx, []store.Index{{Collection: name, Name: "s", Keys: bson.D{{Key: "s", Value: 1}}}}); err != nil {
				t.Fatal(err)
			}
			if err := s.Collection(name).InsertMany(ctx, diffCorpus()); err != nil {
				t.Fatal(err)
			}
		}
		for i, q := range diffQueries() {
			if q.name == "empty" {
				continue // would empty both copies at once
			}
			stock := writeAnswers(t, s, "w_stock", q.filter, i, true)
			patched := writeAnswers(t, s, "w_patched", q.filter, i, false)
			if patched != stock {
				t.Errorf("%s: filter %v:\n got (patched) %s\nwant (stock)   %s", q.name, q.filter, patched, stock)
			}
		}
		stock := readAnswers(t, db, "w_stock", bson.D{}, true)
		patched := readAnswers(t, db, "w_patched", bson.D{}, true)
		if !slices.Equal(patched, stock) {
			t.Errorf("after the writes:\n got (patched) %q\nwant (stock)   %q", patched, stock)
		}
	})
}

// readAnswers returns, as canonical Extended JSON lines, what find (natural
// order, and sorted by _id), count and an aggregate $match return.
func readAnswers(t *testing.T, db *mongo.Database, coll string, filter bson.D, stock bool) []string {
	t.Helper()
	if stock {
		t.Setenv(stockPushdownEnv, "1")
	} else {
		t.Setenv(stockPushdownEnv, "")
	}
	ctx := context.Background()
	c := db.Collection(coll)
	var out []string
	all := func(label string, cur *mongo.Cursor, err error) {
		t.Helper()
		if err != nil {
			out = append(out, label+" error: "+err.Error())
			return
		}
		defer cur.Close(ctx)
		for cur.Next(ctx) {
			out = append(out, label+" "+canonical(t, cur.Current))
		}
		if err := cur.Err(); err != nil {
			out = append(out, label+" error: "+err.Error())
		}
	}
	cur, err := c.Find(ctx, filter)
	all("find", cur, err)
	n, err := c.CountDocuments(ctx, filter)
	out = append(out, fmt.Sprintf("count %d %v", n, err))
	if raceEnabled {
		return out
	}
	cur, err = c.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(5))
	all("find sorted", cur, err)
	// Inclusion projections let the patched engine read only the fields
	// the find needs (third_party/PATCHES, "Fields pushdown").
	for _, proj := range []bson.D{
		{{Key: "s", Value: 1}},
		{{Key: "a.b", Value: 1}, {Key: "_id", Value: 0}},
		{{Key: "community", Value: 1}, {Key: "status", Value: true}, {Key: "arr.s", Value: 1}},
		{{Key: "n", Value: int64(1)}, {Key: "t", Value: 1.0}, {Key: "nofield", Value: 1}},
		{{Key: "s", Value: 0}},
	} {
		cur, err = c.Find(ctx, filter, options.Find().SetProjection(proj))
		all(fmt.Sprintf("find projected %v", proj), cur, err)
	}
	cur, err = c.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "version", Value: 1}}).SetSort(bson.D{{Key: "s", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(7))
	all("find projected sorted", cur, err)
	cur, err = c.Aggregate(ctx, mongo.Pipeline{{{Key: "$match", Value: filter}}})
	all("aggregate", cur, err)
	var distinct []any
	err = c.Distinct(ctx, "community", filter).Decode(&distinct)
	out = append(out, fmt.Sprintf("distinct %v %v", distinct, err))
	var one bson.Raw
	err = c.FindOne(ctx, filter).Decode(&one)
	out = append(out, fmt.Sprintf("findOne %s %v", canonical(t, one), err))
	return out
}

// writeAnswers runs updateOne, updateMany, findOneAndUpdate and deleteOne
// with the filter and reports what each said.
func writeAnswers(t *testing.T, s *store.Store, coll string, filter bson.D, i int, stock bool) string {
	t.Helper()
	if stock {
		t.Setenv(stockPushdownEnv, "1")
	} else {
		t.Setenv(stockPushdownEnv, "")
	}
	ctx := context.Background()
	c := s.Collection(coll)
	var b strings.Builder
	m, err := c.UpdateMany(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "q", Value: int64(i)}}}})
	fmt.Fprintf(&b, "updateMany %d %v; ", m, err)
	if !raceEnabled {
		m, err = c.UpdateOne(ctx, filter, bson.D{{Key: "$inc", Value: bson.D{{Key: "hits1", Value: int64(1)}}}})
		fmt.Fprintf(&b, "updateOne %d %v; ", m, err)
		var got bson.Raw
		err = c.FindOneAndUpdate(ctx, filter, bson.D{{Key: "$inc", Value: bson.D{{Key: "hits2", Value: int64(1)}}}}, &got)
		fmt.Fprintf(&b, "findOneAndUpdate %s %v; ", canonical(t, got), err)
	}
	if i%3 == 0 { // delete now and then, so later queries still find documents
		ok, err := c.DeleteOne(ctx, filter)
		fmt.Fprintf(&b, "deleteOne %v %v", ok, err)
	}
	// Errors name the collection; the two copies differ only in that.
	return strings.ReplaceAll(b.String(), coll, "<coll>")
}

func canonical(t *testing.T, raw bson.Raw) string {
	t.Helper()
	if raw == nil {
		return "<nil>"
	}
	b, err := bson.MarshalExtJSON(raw, true, false)
	if err != nil {
		t.Fatalf("extjson: %v", err)
	}
	return string(b)
}

// explained is the part of FerretDB's explain answer the tests read.
type explained struct {
	QueryPlanner struct {
		Plan []string `bson:"Plan"`
	} `bson:"queryPlanner"`
	FilterPushdown bool `bson:"filterPushdown"`
}

// explainFind asks the engine how it would run a find: FerretDB's SQLite
// backend answers with SQLite's EXPLAIN QUERY PLAN of the statement it
// builds for that filter.
func explainFind(t *testing.T, db *mongo.Database, coll string, filter bson.D) explained {
	t.Helper()
	var e explained
	cmd := bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: coll}, {Key: "filter", Value: filter}}}}
	if err := db.RunCommand(context.Background(), cmd).Decode(&e); err != nil {
		t.Fatalf("explain %v: %v", filter, err)
	}
	return e
}
