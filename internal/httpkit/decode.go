package httpkit

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"minsheng"
)

// JSONLimit bounds JSON bodies; nothing either API accepts as JSON is
// bigger.
const JSONLimit = 1 << 20

// BindJSON decodes a JSON body into v: EUNSUPPORTED for another content
// type, ETOOLARGE over JSONLimit, EINVALID for malformed JSON or a field of
// the wrong type (named in fields).
func BindJSON(c *fiber.Ctx, v any) error {
	if !strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEApplicationJSON) {
		return minsheng.Errorf(minsheng.EUNSUPPORTED, "请求内容须为 application/json")
	}
	body := c.Body()
	if len(body) > JSONLimit {
		return minsheng.Errorf(minsheng.ETOOLARGE, "请求内容不能超过 1 MB")
	}
	return decodeStrict(body, v)
}

// decodeStrict decodes exactly one JSON value into v, the one decoder of
// every route. Before decoding it reads the body once as a stream of JSON
// tokens (checkJSON) and refuses, naming the field:
//
//   - bytes that are not UTF-8 (encoding/json would store them as U+FFFD);
//   - keys that are not exactly a field's json name: encoding/json matches
//     them case-insensitively, so `TITLE` would fill `title` (or override
//     it) — here it is an unknown field — and keys given twice;
//   - strings holding NUL or other C0/C1 controls (ANSI escapes start with
//     ESC) except \t, \n and \r, the bidi embeddings and overrides
//     U+202A–U+202E and isolates U+2066–U+2069, and U+FFFD (what an
//     escaped lone surrogate decodes to).
//
// Field-specific rules (a title on one line, not made only of zero-width
// characters) are the domain's.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return minsheng.Invalid("请求内容为空", nil)
	}
	if err := checkJSON(body, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return minsheng.Invalid("请求内容须为单个 JSON 对象", nil)
		}
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := jsonPath(reflect.TypeOf(v), typeErr.Field)
		if field == "" {
			return minsheng.Invalid("请求内容须为 JSON 对象", nil)
		}
		return minsheng.Invalid("字段类型不正确", map[string]string{field: "类型应为" + jsonTypeName(typeErr.Type.Kind().String())})
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return minsheng.Invalid("JSON 格式不正确", nil)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json offers no typed error for unknown fields.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return minsheng.Invalid("包含未知字段", map[string]string{name: "未知字段"})
	}
	return minsheng.Invalid("请求内容无法解析", nil)
}

// jsonPath is the path of a json.UnmarshalTypeError's Field as the client
// wrote it: encoding/json names the Go type of an embedded struct there
// ("AssessInput.estimate_fen"), whose fields the client sent at the top.
func jsonPath(t reflect.Type, field string) string {
	var out []string
	for _, part := range strings.Split(field, ".") {
		t = structOf(t)
		if t != nil {
			if f, ok := t.FieldByName(part); ok && f.Anonymous && jsonName(f) == "" {
				t = f.Type
				continue
			}
		}
		out = append(out, part)
		if t != nil {
			t = jsonFields(t)[part]
		}
	}
	return strings.Join(out, ".")
}

// jsonName is the name a field's json tag gives it, "" when none.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// structOf is the struct type a value of type t holds fields of (through
// pointers, slices and maps), or nil.
func structOf(t reflect.Type) reflect.Type {
	for t != nil {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		case reflect.Struct:
			return t
		default:
			return nil
		}
	}
	return nil
}

// maxJSONDepth bounds how deeply checkJSON follows nested values; no route
// takes more than a few levels.
const maxJSONDepth = 32

// checkJSON applies decodeStrict's byte, key and string rules to body as
// decoded into a value of type t. Malformed JSON is left to the decoder,
// which reports it.
func checkJSON(body []byte, t reflect.Type) error {
	if !utf8.Valid(body) {
		return minsheng.Invalid("请求内容包含无效的 UTF-8 字符", invalidUTF8Field(body))
	}
	w := jsonWalker{dec: json.NewDecoder(bytes.NewReader(body)), fields: map[string]string{}}
	w.dec.UseNumber()
	if err := w.value(t, "", 0); err != nil && !errors.Is(err, errTooDeep) {
		return nil // malformed: decodeStrict's decoder says how
	} else if err != nil {
		return minsheng.Invalid("请求内容嵌套过深", nil)
	}
	if len(w.fields) > 0 {
		return minsheng.Invalid("请求内容包含未知字段或不允许的字符", w.fields)
	}
	return nil
}

// invalidUTF8Field names the top-level field whose value holds the bytes
// that are not UTF-8, when the body is an object and one does.
func invalidUTF8Field(body []byte) map[string]string {
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return nil
	}
	for k, v := range raw {
		if !utf8.Valid(v) {
			return map[string]string{k: "包含无效字符（不是 UTF-8 编码）"}
		}
	}
	return nil
}

var errTooDeep = errors.New("json nested too deeply")

// jsonWalker reads one JSON value token by token, recording problems by
// field path ("title", "items[2].name").
type jsonWalker struct {
	dec    *json.Decoder
	fields map[string]string
}

func (w *jsonWalker) flag(path, msg string) {
	if path == "" {
		path = "body"
	}
	if _, ok := w.fields[path]; !ok {
		w.fields[path] = msg
	}
}

// value reads one value; t is the Go type it decodes into (nil: any, so
// keys below it are not checked).
func (w *jsonWalker) value(t reflect.Type, path string, depth int) error {
	if depth > maxJSONDepth {
		return errTooDeep
	}
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	t = concrete(t)
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '{':
			var names map[string]reflect.Type
			var elem reflect.Type
			if t != nil && t.Kind() == reflect.Struct {
				names = jsonFields(t)
			} else if t != nil && t.Kind() == reflect.Map {
				elem = t.Elem()
			}
			seen := map[string]bool{}
			for w.dec.More() {
				kt, err := w.dec.Token()
				if err != nil {
					return err
				}
				key, _ := kt.(string)
				kpath := key
				if path != "" {
					kpath = path + "." + key
				}
				if msg := badText(key); msg != "" {
					w.flag(kpath, msg)
				}
				if seen[key] {
					w.flag(kpath, "字段重复")
				}
				seen[key] = true
				ft := elem
				if names != nil {
					var ok bool
					if ft, ok = names[key]; !ok {
						w.flag(kpath, "未知字段")
					}
				}
				if err := w.value(ft, kpath, depth+1); err != nil {
					return err
				}
			}
		case '[':
			var elem reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				elem = t.Elem()
			}
			for i := 0; w.dec.More(); i++ {
				if err := w.value(elem, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
					return err
				}
			}
		}
		_, err := w.dec.Token() // the closing delimiter
		return err
	case string:
		if msg := badText(tok); msg != "" {
			w.flag(path, msg)
		}
	}
	return nil
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// concrete strips pointers; a type that decodes itself (time.Time, …) or
// an interface is nil: its keys are its own business.
func concrete(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface {
		return nil
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil
	}
	return t
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the exact json names of a struct's fields (embedded
// structs flattened, as encoding/json does) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, ok := m[k]; !ok {
						m[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	fieldCache.Store(t, m)
	return m
}

// badText says what is wrong with a string from a request, "" when
// nothing is.
func badText(s string) string {
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			return "包含无效字符"
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return "包含控制字符"
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			return "包含文字方向控制字符"
		}
	}
	return ""
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "字符串"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "整数"
	case "float32", "float64":
		return "数字"
	case "bool":
		return "布尔值"
	case "slice", "array":
		return "数组"
	case "struct", "map":
		return "对象"
	}
	return kind
}
