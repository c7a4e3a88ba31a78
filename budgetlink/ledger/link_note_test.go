package ledger

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"minsheng"
	"minsheng/cases"
)

// TestRelinkWritesOneTimelineEvent pins issue 8 item 8: re-posting the same
// budget link wrote a second "关联预算项目" event on the case's timeline.
// The line already holds another case's money; the simultaneous copies are
// repeated over several rounds.
func TestRelinkWritesOneTimelineEvent(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运处置 2026", 10_000_000)
	other := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, bulkyDesc), bulkyItem)
	if _, err := e.LinkCase(ctx, xjkStaff, other.ID, line.ID, 40_000); err != nil {
		t.Fatal(err)
	}
	linkNotes := func(t *testing.T, id string) int {
		t.Helper()
		n := 0
		for _, ev := range e.load(t, id).Timeline {
			if ev.Action == cases.ActBudget && strings.HasPrefix(ev.Note, "关联预算项目") {
				n++
			}
		}
		return n
	}

	t.Run("posted three times in a row", func(t *testing.T) {
		c := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", "旧床垫清运", "楼道旧床垫"), bulkyItem)
		for range 3 {
			if _, err := e.LinkCase(ctx, xjkStaff, c.ID, line.ID, 30_000); err != nil {
				t.Fatal(err)
			}
		}
		if got := linkNotes(t, c.ID); got != 1 {
			t.Errorf("link events: got %d, want 1", got)
		}
	})
	for round := range 5 {
		t.Run(fmt.Sprintf("8 at once, round %d", round+1), func(t *testing.T) {
			c := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", fmt.Sprintf("旧沙发清运 %d", round), "楼道旧沙发"), bulkyItem)
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Go(func() { _, errs[i] = e.LinkCase(ctx, xjkStaff, c.ID, line.ID, 20_000) })
			}
			wg.Wait()
			// How the ledger answers the losers of simultaneous links (the
			// same result or a 409 to retry) is the ledger's business; here
			// at least one must succeed and none may fail otherwise.
			ok := 0
			for i, err := range errs {
				switch minsheng.ErrorCode(err) {
				case "":
					ok++
				case minsheng.ECONFLICT:
				default:
					t.Errorf("request %d: %v", i, err)
				}
			}
			if ok == 0 {
				t.Errorf("no request succeeded: %v", errs)
			}
			if got := linkNotes(t, c.ID); got != 1 {
				t.Errorf("link events: got %d, want 1", got)
			}
		})
	}
	t.Run("a new link after unlinking is noted again", func(t *testing.T) {
		if got := linkNotes(t, other.ID); got != 1 {
			t.Fatalf("link events before: got %d, want 1", got)
		}
		if err := e.UnlinkCase(ctx, xjkStaff, other.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.LinkCase(ctx, xjkStaff, other.ID, line.ID, 40_000); err != nil {
			t.Fatal(err)
		}
		if got := linkNotes(t, other.ID); got != 2 {
			t.Errorf("link events: got %d, want 2 (one per link)", got)
		}
	})
}
