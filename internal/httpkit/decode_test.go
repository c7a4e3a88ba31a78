package httpkit

import (
	"testing"
	"time"

	"minsheng"
)

type decodeItem struct {
	Name string `json:"name"`
}

type decodeBody struct {
	Title   string       `json:"title"`
	Version int64        `json:"version"`
	Items   []decodeItem `json:"items"`
	Inner   *decodeItem  `json:"inner"`
	Counts  map[string]int
	At      *time.Time `json:"at"`
	Skipped string     `json:"-"`
}

// TestDecodeStrict is issue 8 item 10 at the one decoder every route uses:
// bytes that are not UTF-8, controls, bidi overrides and keys that only
// match case-insensitively are refused with the field named.
func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		field string // "" = accepted, "-" = refused as malformed JSON
	}{
		{"plain", `{"title":"楼道灯不亮","version":3}`, ""},
		{"newline and tab in text", `{"title":"第一行\n\t第二行"}`, ""},
		{"nested known keys", `{"items":[{"name":"a"}],"inner":{"name":"b"},"Counts":{"x":1},"at":"2026-03-02T01:00:00Z"}`, ""},
		{"invalid UTF-8", "{\"title\":\"\xff\xfe坏\"}", "title"},
		{"escaped NUL", `{"title":"a\u0000b"}`, "title"},
		{"raw ESC of an ANSI escape", "{\"title\":\"\x1b[31m红\"}", "-"},
		{"escaped ANSI escape", `{"title":"\u001b[2J清屏"}`, "title"},
		{"C1 control", `{"title":"a\u0085b"}`, "title"},
		{"DEL", `{"title":"a\u007fb"}`, "title"},
		{"bidi override", `{"title":"abc\u202edcba"}`, "title"},
		{"bidi isolate", `{"title":"abc\u2066x\u2069"}`, "title"},
		{"lone surrogate", `{"title":"\ud800"}`, "title"},
		{"upper-cased key", `{"TITLE":"大写"}`, "TITLE"},
		{"mis-cased key overriding", `{"title":"a","Title":"b"}`, "Title"},
		{"field name instead of tag", `{"Version":1}`, "Version"},
		{"duplicate key", `{"title":"a","title":"b"}`, "title"},
		{"unknown key", `{"titel":"a"}`, "titel"},
		{"json:- field", `{"Skipped":"x"}`, "Skipped"},
		{"nested mis-cased key", `{"items":[{"NAME":"a"}]}`, "items[0].NAME"},
		{"control in nested value", `{"inner":{"name":"\u0007"}}`, "inner.name"},
		{"control in a map key", `{"Counts":{"\u0001":1}}`, "Counts.\u0001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v decodeBody
			err := decodeStrict([]byte(tt.body), &v)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("decode = %v %v, want accepted", err, minsheng.ErrorFields(err))
				}
				return
			}
			if got := minsheng.ErrorCode(err); got != minsheng.EINVALID {
				t.Fatalf("code = %q (%v), want invalid", got, err)
			}
			if msg := minsheng.ErrorFields(err)[tt.field]; msg == "" && tt.field != "-" {
				t.Errorf("fields = %v, want one on %q", minsheng.ErrorFields(err), tt.field)
			}
		})
	}
	t.Run("accepted body decodes", func(t *testing.T) {
		var v decodeBody
		if err := decodeStrict([]byte(`{"title":"楼道","items":[{"name":"a"}]}`), &v); err != nil {
			t.Fatal(err)
		}
		if v.Title != "楼道" || len(v.Items) != 1 || v.Items[0].Name != "a" {
			t.Errorf("decoded = %+v", v)
		}
	})
	t.Run("too deep", func(t *testing.T) {
		var v any
		body := make([]byte, 0, 200)
		for i := 0; i < 100; i++ {
			body = append(body, '[')
		}
		for i := 0; i < 100; i++ {
			body = append(body, ']')
		}
		if got := minsheng.ErrorCode(decodeStrict(body, &v)); got != minsheng.EINVALID {
			t.Errorf("code = %q, want invalid", got)
		}
	})
}

// TestDecodeStrictEmbedded: a field of an embedded struct is named as the
// client sent it, without the Go type's name.
func TestDecodeStrictEmbedded(t *testing.T) {
	var v struct {
		decodeBody
		Extra string `json:"extra"`
	}
	err := decodeStrict([]byte(`{"title":"t","version":"two"}`), &v)
	if _, ok := minsheng.ErrorFields(err)["version"]; !ok {
		t.Errorf("fields = %v, want version named", minsheng.ErrorFields(err))
	}
	err = decodeStrict([]byte(`{"inner":{"name":5}}`), &v)
	if _, ok := minsheng.ErrorFields(err)["inner.name"]; !ok {
		t.Errorf("fields = %v, want inner.name named", minsheng.ErrorFields(err))
	}
}
