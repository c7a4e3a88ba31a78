package caseinput

import "testing"

func TestProblem(t *testing.T) {
	for _, tc := range []struct {
		name      string
		v         string
		multiline bool
		want      string
	}{
		{"plain", "楼道灯不亮", false, ""},
		{"line break in a one-line field", "a\nb", false, "不能包含换行或制表符"},
		{"line break in a description", "a\nb", true, ""},
		{"bidi override", "a\u202eb", false, "包含文字方向控制字符"},
		{"only invisible", "\u200b\u200b", false, "不能只包含空白或不可见字符"},
		{"not utf-8", "a\xffb", false, "包含无效字符"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Problem(tc.v, tc.multiline); got != tc.want {
				t.Errorf("Problem(%q, %v) = %q, want %q", tc.v, tc.multiline, got, tc.want)
			}
		})
	}
}

func TestNote(t *testing.T) {
	f := map[string]string{}
	if got := Note(f, "note", "  ok  ", true); got != "ok" || len(f) != 0 {
		t.Errorf("Note = %q, fields %v; want \"ok\" and none", got, f)
	}
	Note(f, "note", " ", true)
	if f["note"] != "必填" {
		t.Errorf("empty required note: got %q, want 必填", f["note"])
	}
	if err := Invalid(map[string]string{}); err != nil {
		t.Errorf("Invalid(empty) = %v, want nil", err)
	}
}
