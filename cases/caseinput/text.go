package caseinput

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"minsheng"
)

// Field records in f what is wrong with a required field v of minLen to
// maxLen characters: empty, too short, too long or not UTF-8.
func Field(f map[string]string, name, v string, minLen, maxLen int) {
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0:
		f[name] = "必填"
	case n < minLen:
		f[name] = fmt.Sprintf("至少%d字", minLen)
	case n > maxLen:
		f[name] = fmt.Sprintf("不能超过%d字", maxLen)
	case !utf8.ValidString(v):
		f[name] = "包含无效字符"
	}
}

// Problem says what is wrong with free text, "" when nothing is: bytes
// that are not UTF-8, controls (multiline text may hold \t, \n and \r),
// bidi embeddings, overrides and isolates, which can make a title display
// as something else, and text made only of spaces and invisible
// characters (zero-width space, BOM …). The HTTP decoder refuses most of
// these already; the domain refuses them for every other way in.
func Problem(v string, multiline bool) string {
	if !utf8.ValidString(v) {
		return "包含无效字符"
	}
	visible := false
	for _, r := range v {
		switch {
		case r == utf8.RuneError:
			return "包含无效字符"
		case multiline && (r == '\t' || r == '\n' || r == '\r'):
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			if !multiline && (r == '\t' || r == '\n' || r == '\r') {
				return "不能包含换行或制表符"
			}
			return "包含控制字符"
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			return "包含文字方向控制字符"
		case invisible(r) || unicode.IsSpace(r):
		default:
			visible = true
		}
	}
	if v != "" && !visible {
		return "不能只包含空白或不可见字符"
	}
	return ""
}

// invisible reports whether r shows nothing: zero-width and format
// characters, fillers.
func invisible(r rune) bool {
	switch {
	case r >= 0x200b && r <= 0x200f, r >= 0x2060 && r <= 0x2064, r == 0xfeff, r == 0x00ad,
		r == 0x180e, r == 0x034f, r == 0x115f, r == 0x1160, r == 0x3164, r == 0xffa0:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// Line and Long record Problem for a one-line field and for a multi-line
// one, unless the field already has an error.
func Line(f map[string]string, name, v string) { rule(f, name, v, false) }

// Long is Line for multi-line text.
func Long(f map[string]string, name, v string) { rule(f, name, v, true) }

func rule(f map[string]string, name, v string, multiline bool) {
	if _, ok := f[name]; ok {
		return
	}
	if msg := Problem(v, multiline); msg != "" {
		f[name] = msg
	}
}

// Note checks an optional free-text note of a step (required: not empty)
// and returns it trimmed.
func Note(f map[string]string, name, v string, required bool) string {
	v = strings.TrimSpace(v)
	switch n := utf8.RuneCountInString(v); {
	case required && n == 0:
		f[name] = "必填"
	case n > MaxNote:
		f[name] = fmt.Sprintf("不能超过%d字", MaxNote)
	}
	Long(f, name, v)
	return v
}

// Invalid is EINVALID naming the fields of f, nil when f is empty.
func Invalid(f map[string]string) error {
	if len(f) == 0 {
		return nil
	}
	return minsheng.Invalid("请检查填写的内容", f)
}

// CheckSearch validates a search for similar cases (trimmed) and returns
// the community's sub-district when a community is given; areaName names
// an area code, "" for an unknown one.
func CheckSearch(community, area, text string, places Places, areaName func(string) string) (string, error) {
	f := map[string]string{}
	sub := ""
	if community != "" {
		var ok bool
		if sub, ok = places.SubDistrictOf(community); !ok {
			f["community"] = "社区不存在"
		}
	}
	if area != "" && areaName(area) == "" {
		f["area"] = "领域不存在"
	}
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		f["text"] = "必填"
	case n > MaxDescription+MaxTitle:
		f["text"] = "内容过长"
	}
	Long(f, "text", text)
	return sub, Invalid(f)
}
