package casedb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/casedb"
	"minsheng/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// doc is a stand-in for the domain's case: the engine needs only what the
// schema tells it.
type doc struct {
	ID      string    `bson:"_id"`
	Sub     string    `bson:"sub"`
	Title   string    `bson:"title"`
	Note    string    `bson:"note,omitempty"`
	FiledAt time.Time `bson:"filed_at"`
	Version int64     `bson:"version"`
}

type facts struct {
	Title string `bson:"title"`
}

func newDB(t *testing.T) *casedb.DB[doc, facts] {
	t.Helper()
	st := storetest.New(t)
	if err := st.EnsureIndexes(context.Background(), casedb.Indexes); err != nil {
		t.Fatal(err)
	}
	return casedb.New(st, casedb.Schema[doc, facts]{
		ID: func(d *doc) string { return d.ID },
		Summarize: func(d *doc) casedb.Summary[facts] {
			return casedb.Summary[facts]{ID: d.ID, SubDistrict: d.Sub, Title: d.Title, FiledAt: d.FiledAt, Version: d.Version,
				Facts: facts{Title: d.Title}}
		},
		Source: bson.D{{Key: "sub", Value: 1}, {Key: "title", Value: 1}, {Key: "filed_at", Value: 1}, {Key: "version", Value: 1}},
	})
}

// summaryOf reads id's summary as the queues see it.
func summaryOf(t *testing.T, db *casedb.DB[doc, facts], id string) casedb.Summary[facts] {
	t.Helper()
	sums, err := db.Summaries(context.Background(), bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "_id", Value: 1}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 1 {
		t.Fatalf("got %d summaries of %s, want 1", len(sums), id)
	}
	return sums[0]
}

// A Change names its case, so its summary follows the write; its
// conditions decide whether it applies.
func TestChangeKeepsTheSummary(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	filed := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	if err := db.Insert(ctx, &doc{ID: "c-1", Sub: "s1", Title: "路灯不亮", FiledAt: filed, Version: 1}); err != nil {
		t.Fatal(err)
	}
	retitle := func(version int64, title string) casedb.Change {
		return casedb.Change{ID: "c-1", If: bson.D{{Key: "version", Value: version}},
			Update: bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: title}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}}}}
	}
	t.Run("update", func(t *testing.T) {
		matched, err := db.Update(ctx, retitle(1, "路灯已修"))
		if err != nil || !matched {
			t.Fatalf("got %v, %v, want the change applied", matched, err)
		}
		if got := summaryOf(t, db, "c-1"); got.Title != "路灯已修" || got.Version != 2 || got.Facts.Title != "路灯已修" {
			t.Errorf("got summary %+v, want title 路灯已修 at version 2", got)
		}
	})
	t.Run("stale update", func(t *testing.T) {
		matched, err := db.Update(ctx, retitle(1, "旧标题"))
		if err != nil || matched {
			t.Fatalf("got %v, %v, want no match", matched, err)
		}
		if got := summaryOf(t, db, "c-1"); got.Title != "路灯已修" {
			t.Errorf("got title %q, want 路灯已修", got.Title)
		}
	})
	t.Run("update and get", func(t *testing.T) {
		got, err := db.UpdateAndGet(ctx, retitle(2, "路灯更换"))
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "路灯更换" || got.Version != 3 {
			t.Errorf("got %+v, want the case after the change", got)
		}
		if sm := summaryOf(t, db, "c-1"); sm.Version != 3 {
			t.Errorf("got summary version %d, want 3", sm.Version)
		}
	})
	t.Run("stale update and get", func(t *testing.T) {
		if _, err := db.UpdateAndGet(ctx, retitle(1, "旧标题")); !errors.Is(err, minsheng.ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	})
	t.Run("unsummarized", func(t *testing.T) {
		if _, err := db.UpdateUnsummarized(ctx, "c-1", bson.D{{Key: "$set", Value: bson.D{{Key: "note", Value: "已短信通知"}}}}); err != nil {
			t.Fatal(err)
		}
		var got doc
		if err := db.FindOne(ctx, bson.D{{Key: "_id", Value: "c-1"}}, &got); err != nil || got.Note != "已短信通知" {
			t.Errorf("got %+v, %v, want the note written", got, err)
		}
	})
}

// Repair writes the summary of a case stored without one and removes a
// summary whose case is gone; a second run finds nothing.
func TestRepairAlone(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	filed := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	if err := db.InsertRaw(ctx, &doc{ID: "c-raw", Sub: "s1", Title: "井盖缺失", FiledAt: filed, Version: 1}); err != nil {
		t.Fatal(err)
	}
	rep, err := db.Repair(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cases != 1 || rep.Missing != 1 || rep.Stale != 0 || rep.Orphans != 0 {
		t.Errorf("got %+v, want one case, its summary missing", rep)
	}
	if got := summaryOf(t, db, "c-raw"); got.Title != "井盖缺失" {
		t.Errorf("got summary %+v, want it written from the case", got)
	}
	if rep, err = db.Repair(ctx); err != nil || rep.Missing+rep.Stale+rep.Orphans != 0 {
		t.Errorf("got %+v, %v, want nothing left to repair", rep, err)
	}
}
