package cases

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"minsheng"
)

// FuzzDecodeCursor feeds arbitrary ?cursor= values to the case lists'
// cursor decoding. It must never panic; a refusal is the one EINVALID
// naming cursor; a cursor it accepts has an id and survives being encoded
// again unchanged, so paging cannot drift.
func FuzzDecodeCursor(f *testing.F) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	for _, s := range []string{
		encodeCursor(at, "C-20260301-0001"),
		encodeCursor(time.Time{}, "x"),
		encodeCursor(at, "民生"),
		encodeCursor(at, ""),
		b64(`{"t":"2026-03-01T09:00:00Z","i":"a","i":"b"}`), // duplicate keys
		b64(`{"t":null,"i":"a"}`),
		b64(`{"t":"9999-12-31T23:59:59.999999999+14:00","i":"a"}`),
		b64(`{"t":"0000-01-01T00:00:00Z","i":{"$gt":""}}`), // an operator where a string goes
		b64(`{"t":1e308,"i":"a"}`),
		b64(`[]`), b64(`null`), b64(`{"i":"a"`),
		"", "=", "!!!", "eyJ0IjoiMjAyNi0wMy0wMVQwOTowMDowMFoiLCJpIjoiYSJ9==", strings.Repeat("A", 10000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			if minsheng.ErrorCode(err) != minsheng.EINVALID || minsheng.ErrorFields(err)["cursor"] == "" {
				t.Fatalf("decodeCursor(%q): %v, want invalid naming cursor", s, err)
			}
			return
		}
		if c.ID == "" {
			t.Fatalf("decodeCursor(%q) accepted a cursor without an id", s)
		}
		again, err := decodeCursor(encodeCursor(c.At, c.ID))
		if err != nil || !again.At.Equal(c.At) || again.ID != c.ID {
			t.Fatalf("cursor %+v encoded again decodes as %+v, %v", c, again, err)
		}
	})
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
