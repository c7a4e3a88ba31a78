package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"minsheng"
)

// decodeStrict decodes exactly one JSON value and refuses unknown fields, so
// a typo in a field name is an error rather than a silently ignored value.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return minsheng.Invalid("请求内容为空", nil)
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
		field := typeErr.Field
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
