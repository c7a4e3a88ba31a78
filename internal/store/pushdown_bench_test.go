package store_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

const (
	benchCases       = 10_000
	benchCommunities = 20
)

var benchStatuses = []string{"submitted", "accepted", "assigned", "done"}

// benchCase is a case-shaped document of about 2 KB of BSON.
func benchCase(i int) bson.D {
	filed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 17 * time.Minute)
	return bson.D{
		{Key: "_id", Value: fmt.Sprintf("2026-%06d", i)},
		{Key: "version", Value: int64(1)},
		{Key: "subdistrict", Value: fmt.Sprintf("sd%02d", i%15)},
		{Key: "community", Value: fmt.Sprintf("c%02d", i%benchCommunities)},
		{Key: "status", Value: benchStatuses[(i/benchCommunities)%len(benchStatuses)]},
		{Key: "category", Value: []string{"环境卫生", "道路交通", "物业管理", "公共设施"}[i%4]},
		{Key: "title", Value: fmt.Sprintf("小区%d号楼门前路灯损坏，夜间出行不便", i%300)},
		{Key: "description", Value: strings.Repeat("居民反映楼道照明长期不亮，老人夜间上下楼存在安全隐患，希望尽快维修。", 12)},
		{Key: "resident", Value: bson.D{{Key: "name", Value: "王女士"}, {Key: "phone", Value: "138****1234"}, {Key: "resident_id", Value: fmt.Sprintf("r%05d", i%5000)}}},
		{Key: "location", Value: bson.D{{Key: "address", Value: "朝阳区某街道某社区12号楼3单元"}, {Key: "lat", Value: 39.9 + float64(i%100)/1000}, {Key: "lng", Value: 116.4}}},
		{Key: "photos", Value: bson.A{
			bson.D{{Key: "key", Value: fmt.Sprintf("photos/%06d-1.jpg", i)}, {Key: "width", Value: int32(1280)}, {Key: "height", Value: int32(960)}},
			bson.D{{Key: "key", Value: fmt.Sprintf("photos/%06d-2.jpg", i)}, {Key: "width", Value: int32(1280)}, {Key: "height", Value: int32(960)}},
		}},
		{Key: "history", Value: bson.A{
			bson.D{{Key: "from", Value: ""}, {Key: "to", Value: "submitted"}, {Key: "by", Value: "resident"}, {Key: "at", Value: filed}},
			bson.D{{Key: "from", Value: "submitted"}, {Key: "to", Value: "accepted"}, {Key: "by", Value: "cadre-01"}, {Key: "at", Value: filed.Add(time.Hour)}},
		}},
		{Key: "tags", Value: bson.A{"路灯", "安全"}},
		{Key: "filed_at", Value: filed},
		{Key: "updated_at", Value: filed.Add(2 * time.Hour)},
		{Key: "amount_fen", Value: int64(i * 100)},
	}
}

// BenchmarkPushdown measures the hot query shapes on the embedded engine
// over 10,000 case-shaped documents, with FerretDB v1.24.2's stock pushdown
// (the switch) and with the project's patch, and prints a table with the
// ratios. It is a benchmark only, so the default test run never loads it:
//
//	go test -run '^$' -bench BenchmarkPushdown ./internal/store/
//
// The stock rows take seconds per operation; the whole run about a minute.
func BenchmarkPushdown(b *testing.B) {
	skipUnlessEmbedded(b)
	// A stock list takes seconds, more on a loaded machine: longer than the
	// store's default deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s := storetest.New(b)
	if err := s.EnsureIndexes(ctx, []store.Index{{
		Collection: "cases", Name: "queue",
		Keys: bson.D{{Key: "community", Value: 1}, {Key: "status", Value: 1}, {Key: "filed_at", Value: -1}},
	}}); err != nil {
		b.Fatal(err)
	}
	cases := s.Collection("cases")
	docs := make([]any, benchCases)
	for i := range docs {
		docs[i] = benchCase(i)
	}
	if raw, err := bson.Marshal(docs[0]); err == nil {
		b.Logf("document size %d bytes of BSON", len(raw))
	}
	start := time.Now()
	if err := cases.InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	b.Logf("inserted %d documents in %v", benchCases, time.Since(start).Round(time.Millisecond))

	version := make([]int64, benchCases) // each case's current version, for {_id, version}
	for i := range version {
		version[i] = 1
	}
	id := func(i int) string { return fmt.Sprintf("2026-%06d", i) }
	// Spread over the table, from the first call on: a stock findOne stops
	// scanning at its row, so its cost grows with the row's position.
	pick := func(n int) int { return ((n + 1) * 7919) % benchCases }

	ops := []struct {
		name string
		run  func(b *testing.B, n int)
	}{
		{"findOne {_id}", func(b *testing.B, n int) {
			var out bson.Raw
			if err := cases.FindOne(ctx, bson.D{{Key: "_id", Value: id(pick(n))}}, &out); err != nil {
				b.Fatal(err)
			}
		}},
		{"updateOne {_id, version} $inc", func(b *testing.B, n int) {
			i := pick(n)
			matched, err := cases.UpdateOne(ctx,
				bson.D{{Key: "_id", Value: id(i)}, {Key: "version", Value: version[i]}},
				bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}}})
			if err != nil || matched != 1 {
				b.Fatalf("matched %d, %v", matched, err)
			}
			version[i]++
		}},
		{"find {_id: {$in: 20 ids}}", func(b *testing.B, n int) {
			ids := make(bson.A, 20)
			for k := range ids {
				ids[k] = id(pick(n*20 + k))
			}
			var out []bson.Raw
			if err := cases.FindAll(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, &out); err != nil || len(out) != 20 {
				b.Fatalf("got %d, %v", len(out), err)
			}
		}},
		{"find {community, status} sort filed_at:-1 limit 20", func(b *testing.B, n int) {
			filter := bson.D{
				{Key: "community", Value: fmt.Sprintf("c%02d", n%benchCommunities)},
				{Key: "status", Value: benchStatuses[n%len(benchStatuses)]},
			}
			var out []bson.Raw
			opts := options.Find().SetSort(bson.D{{Key: "filed_at", Value: -1}}).SetLimit(20)
			if err := cases.FindAll(ctx, filter, &out, opts); err != nil || len(out) == 0 {
				b.Fatalf("got %d, %v", len(out), err)
			}
		}},
	}

	perOp := map[string]time.Duration{}
	modes := []string{"stock", "patched"}
	for _, mode := range modes {
		for _, op := range ops {
			b.Run(mode+"/"+op.name, func(b *testing.B) {
				if mode == "stock" {
					b.Setenv(stockPushdownEnv, "1")
				} else {
					b.Setenv(stockPushdownEnv, "")
				}
				b.ResetTimer()
				for n := 0; n < b.N; n++ {
					op.run(b, n)
				}
				b.StopTimer()
				perOp[mode+"/"+op.name] = b.Elapsed() / time.Duration(b.N)
			})
		}
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "\n%d case documents\toperation\tstock\tpatched\tstock/patched\t\n", benchCases)
	for _, op := range ops {
		st, pa := perOp["stock/"+op.name], perOp["patched/"+op.name]
		ratio := "-"
		if pa > 0 {
			ratio = fmt.Sprintf("%.0f×", float64(st)/float64(pa))
		}
		fmt.Fprintf(w, "\t%s\t%v\t%v\t%s\t\n", op.name, st.Round(time.Microsecond), pa.Round(time.Microsecond), ratio)
	}
	w.Flush()
}
