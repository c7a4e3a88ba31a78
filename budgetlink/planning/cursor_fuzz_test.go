package planning

import (
	"strconv"
	"strings"
	"testing"

	"minsheng"
)

// FuzzPageOf feeds arbitrary cursor and limit values to the priority
// list's paging. It must never panic; what it accepts is a page it can
// serve (offset ≥ 0, 1 ≤ limit ≤ MaxPriorityLimit); what it refuses is
// EINVALID naming the parameter.
func FuzzPageOf(f *testing.F) {
	for _, s := range []struct {
		cursor string
		limit  int
	}{
		{"", 0}, {"0", 20}, {"40", MaxPriorityLimit}, {"-1", 20}, {"1e3", 20}, {"+5", 20}, {" 5", 20},
		{"9223372036854775807", 1}, {"9223372036854775808", 1}, {"0x10", 1}, {"٣", 1}, {"", -1}, {"", MaxPriorityLimit + 1},
	} {
		f.Add(s.cursor, s.limit)
	}
	f.Fuzz(func(t *testing.T, cursor string, limit int) {
		offset, n, err := pageOf(cursor, limit)
		if err != nil {
			fields := minsheng.ErrorFields(err)
			if minsheng.ErrorCode(err) != minsheng.EINVALID || (fields["cursor"] == "" && fields["limit"] == "") {
				t.Fatalf("pageOf(%q, %d): %v, want invalid naming cursor or limit", cursor, limit, err)
			}
			return
		}
		if offset < 0 || n < 1 || n > MaxPriorityLimit {
			t.Fatalf("pageOf(%q, %d) = %d, %d: out of range", cursor, limit, offset, n)
		}
	})
}

// FuzzParseRunCursor feeds arbitrary cursors to the allocation runs'
// list. It must never panic, and a cursor it accepts names a run id and
// reads the same once written again as runs.go writes it.
func FuzzParseRunCursor(f *testing.F) {
	for _, s := range []string{
		"1772355600000.RUN-1", "0.x", "-1.x", "1.", ".x", "", "1772355600000", "1.a.b",
		"9223372036854775807.x", "-9223372036854775808.x", "99999999999999999999.x", "+1.x", "1.民生", strings.Repeat("9", 1000) + ".x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		at, id, ok := parseRunCursor(c)
		if !ok {
			return
		}
		if id == "" {
			t.Fatalf("parseRunCursor(%q) accepted an empty id", c)
		}
		again := strconv.FormatInt(at.UnixMilli(), 10) + "." + id
		if at2, id2, ok := parseRunCursor(again); !ok || !at2.Equal(at) || id2 != id {
			t.Fatalf("parseRunCursor(%q) = %v, %q; written again as %q it reads %v, %q, %v", c, at, id, again, at2, id2, ok)
		}
	})
}
