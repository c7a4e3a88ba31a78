// Package page is the one paging rule of every list of both APIs: how
// many items a page holds (Limit: 1 to MaxLimit, DefaultLimit when none is
// asked) and the one cursor encoding (Encode, Decode), so a malformed
// cursor, or one another list issued, is the same 400 on every list.
// Domain packages and internal/httpkit both use it; it imports only the
// error type.
//
// The cadre app's sync cursor is not a page cursor: it names a stored
// snapshot and an unknown one resets the sync (cases.Service.Sync).
package page

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"minsheng"
)

// The limit rule of every list.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Field messages of a refused limit or cursor.
var (
	limitHint  = "须为 1 到 " + strconv.Itoa(MaxLimit) + " 的整数"
	cursorHint = "无效，请从第一页重新加载"
)

// LimitHint is the message naming limit when it is refused (a query
// parameter that is not a number gets it too).
func LimitHint() string { return limitHint }

// Limit applies the rule to n: 0 (none asked) is DefaultLimit; a value out
// of 1..MaxLimit is recorded in fields under "limit".
func Limit(n int, fields map[string]string) int {
	switch {
	case n == 0:
		return DefaultLimit
	case n < 1 || n > MaxLimit:
		fields["limit"] = limitHint
		return DefaultLimit
	}
	return n
}

// Cursor is the position after the last item of a page: the sort key and
// the id that breaks its ties (At, ID), an id alone for lists in id order,
// or the rank reached (Offset) for computed rankings.
type Cursor struct {
	At     time.Time
	ID     string
	Offset int
}

// wire is a cursor as sent: the list that issued it, then its position.
type wire struct {
	List   string     `json:"l"`
	At     *time.Time `json:"t,omitempty"`
	ID     string     `json:"i,omitempty"`
	Offset int        `json:"o,omitempty"`
}

// Encode returns the opaque next_cursor of list at c.
func Encode(list string, c Cursor) string {
	w := wire{List: list, ID: c.ID, Offset: c.Offset}
	if !c.At.IsZero() {
		w.At = &c.At
	}
	b, _ := json.Marshal(w)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a cursor list issued; "" is the first page (the zero
// Cursor). Anything else — not ours, another list's, a negative offset —
// is recorded in fields under "cursor".
func Decode(list, s string, fields map[string]string) Cursor {
	if s == "" {
		return Cursor{}
	}
	var w wire
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &w)
	}
	if err != nil || w.List != list || w.Offset < 0 {
		fields["cursor"] = cursorHint
		return Cursor{}
	}
	c := Cursor{ID: w.ID, Offset: w.Offset}
	if w.At != nil {
		c.At = *w.At
	}
	return c
}

// Read applies the rule to a list's cursor and limit: the position, the
// page size, or the one EINVALID naming what was refused.
func Read(list, cursor string, limit int) (Cursor, int, error) {
	fields := map[string]string{}
	c := Decode(list, cursor, fields)
	n := Limit(limit, fields)
	if len(fields) > 0 {
		return Cursor{}, 0, Invalid(fields)
	}
	return c, n, nil
}

// Invalid is the one refusal of a page's parameters: the message every
// refused query gets (httpkit.BadQuery), the fields naming cursor or limit.
func Invalid(fields map[string]string) error {
	return minsheng.Invalid("查询条件无效", fields)
}
