package page

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"minsheng"
)

// FuzzDecode feeds arbitrary ?cursor= values to the one cursor decoding
// (it was cases' FuzzDecodeCursor and planning's FuzzParseRunCursor and
// FuzzPageOf before every list used it). It must never panic; a refusal
// names cursor; a cursor it accepts survives being encoded again
// unchanged, so paging cannot drift; another list's cursor is refused.
func FuzzDecode(f *testing.F) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	for _, s := range []string{
		Encode("cases:filed", Cursor{At: at, ID: "C-20260301-0001"}),
		Encode("cases:filed", Cursor{ID: "x"}),
		Encode("cases:filed", Cursor{At: at, ID: "民生"}),
		Encode("cases:filed", Cursor{At: at}),
		Encode("cases:filed", Cursor{Offset: 40}),
		Encode("priorities", Cursor{Offset: 40}),
		b64(`{"l":"cases:filed","t":"2026-03-01T09:00:00Z","i":"a","i":"b"}`), // duplicate keys
		b64(`{"l":"cases:filed","t":null,"i":"a"}`),
		b64(`{"l":"cases:filed","t":"9999-12-31T23:59:59.999999999+14:00","i":"a"}`),
		b64(`{"l":"cases:filed","t":"0000-01-01T00:00:00Z","i":{"$gt":""}}`), // an operator where a string goes
		b64(`{"l":"cases:filed","t":1e308,"i":"a"}`),
		b64(`{"l":"cases:filed","o":-1}`), b64(`{"l":"cases:filed","o":9223372036854775808}`),
		b64(`{"t":"2026-03-01T09:00:00Z","i":"a"}`), // a cursor from before the one encoding
		b64(`[]`), b64(`null`), b64(`{"i":"a"`),
		"1772355600000.RUN-1", "40", "-1", "", "=", "!!!", "eyJ0IjoiMjAyNi0wMy0wMVQwOTowMDowMFoiLCJpIjoiYSJ9==", strings.Repeat("A", 10000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fields := map[string]string{}
		c := Decode("cases:filed", s, fields)
		if len(fields) > 0 {
			if fields["cursor"] == "" || len(fields) != 1 {
				t.Fatalf("Decode(%q): %v, want a refusal naming cursor", s, fields)
			}
			if err := Invalid(fields); minsheng.ErrorCode(err) != minsheng.EINVALID {
				t.Fatalf("Invalid: %v, want EINVALID", err)
			}
			return
		}
		if c.Offset < 0 {
			t.Fatalf("Decode(%q) accepted a negative offset %d", s, c.Offset)
		}
		again := map[string]string{}
		c2 := Decode("cases:filed", Encode("cases:filed", c), again)
		if len(again) > 0 || !c2.At.Equal(c.At) || c2.ID != c.ID || c2.Offset != c.Offset {
			t.Fatalf("cursor %+v encoded again decodes as %+v, %v", c, c2, again)
		}
		if s != "" {
			other := map[string]string{}
			if Decode("allocation-runs", s, other); other["cursor"] == "" {
				t.Fatalf("Decode(%q) of another list was accepted", s)
			}
		}
	})
}

// FuzzLimit: every limit either gives a page size of 1..MaxLimit or is
// refused naming limit.
func FuzzLimit(f *testing.F) {
	for _, n := range []int{0, 1, 20, MaxLimit, MaxLimit + 1, -1, -1 << 63, 1<<63 - 1} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int) {
		fields := map[string]string{}
		got := Limit(n, fields)
		switch {
		case len(fields) > 0 && fields["limit"] == "":
			t.Fatalf("Limit(%d): %v, want a refusal naming limit", n, fields)
		case len(fields) == 0 && (got < 1 || got > MaxLimit):
			t.Fatalf("Limit(%d) = %d, out of range", n, got)
		case n == 0 && got != DefaultLimit:
			t.Fatalf("Limit(0) = %d, want %d", got, DefaultLimit)
		}
	})
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
