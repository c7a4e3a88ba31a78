// Package caselist is the read path of casework's lists: the filter of a
// queue and its checks, the query it becomes on the cases and on their
// summaries (and its Go twin, one for both), the scope each role may list,
// pages by cursor over the summaries, a resident's own cases merged from
// two pushed-down queries, and every matching case streamed in batches.
// What a case is, who may read it and how it is shown are casework's
// (package cases): it hands a Source the case store, what a filter reads of
// a case, and whose a case is.
//
// Errors: EINVALID for a bad filter or cursor, EFORBIDDEN for a scope
// outside the caller's, EUNAUTHORIZED without an account; the store's
// errors, wrapped with the action that failed.
package caselist

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/caseinput"
	"minsheng/internal/auth"
	"minsheng/internal/org"
	"minsheng/internal/page"
)

// Status is what a list knows of a case's state: its code, and whether it
// is one.
type Status interface {
	~string
	Valid() bool
}

// Sort orders of a list.
const (
	SortFiled    = "filed"    // newest first
	SortDeadline = "deadline" // most urgent first
)

// Page size limits: the one rule of every list (internal/page).
const (
	DefaultLimit = page.DefaultLimit
	MaxLimit     = page.MaxLimit
)

// Filter selects cases for a queue. Zero fields do not filter.
type Filter[S Status] struct {
	Status      S
	Area        string
	SubDistrict string
	Community   string
	// Overdue keeps open cases whose current deadline has passed.
	Overdue bool
	// Text matches the title, case-insensitively, literally.
	Text string
	// HasBudget keeps only cases that carry a copy of a budget link
	// (budgetlink's checker and reports), so they need not read them all.
	HasBudget bool
	// FiledFrom and FiledTo bound the filing time, FiledFrom ≤ filed_at <
	// FiledTo (a fiscal year, say); a zero time leaves that side open.
	FiledFrom, FiledTo time.Time
	// Sort is SortFiled (default) or SortDeadline.
	Sort string
	// Cursor is the opaque next-page token a page returned.
	Cursor string
	// Limit is 1..100, default 20.
	Limit int
}

// cursorList names the case lists' cursors, one per sort order: a cursor
// is a position in one order only.
func cursorList(sort string) string { return "cases:" + sort }

// Check validates f and fills defaults; areaName names an area code, ""
// for an unknown one.
func (f *Filter[S]) Check(areaName func(string) string) error {
	fields := map[string]string{}
	if f.Status != "" && !f.Status.Valid() {
		fields["status"] = "状态不存在"
	}
	if f.Area != "" && areaName(f.Area) == "" {
		fields["area"] = "领域不存在"
	}
	if utf8.RuneCountInString(f.Text) > caseinput.MaxTitle {
		fields["text"] = fmt.Sprintf("不能超过%d字", caseinput.MaxTitle)
	}
	if f.Text != "" {
		caseinput.Line(fields, "text", f.Text)
	}
	if !f.FiledFrom.IsZero() && !f.FiledTo.IsZero() && !f.FiledTo.After(f.FiledFrom) {
		fields["filed_to"] = "须晚于起始时间"
	}
	switch f.Sort {
	case "":
		f.Sort = SortFiled
	case SortFiled, SortDeadline:
	default:
		fields["sort"] = "只能是 filed 或 deadline"
	}
	f.Limit = page.Limit(f.Limit, fields)
	if len(fields) > 0 {
		return minsheng.Invalid("查询条件无效", fields)
	}
	return nil
}

// Query turns f into a Mongo filter on the cases (without scope or cursor).
func (f Filter[S]) Query(now time.Time) bson.D {
	q := bson.D{}
	if f.Status != "" {
		q = append(q, bson.E{Key: "status", Value: f.Status})
	}
	if f.Area != "" {
		q = append(q, bson.E{Key: "area", Value: f.Area})
	}
	if f.SubDistrict != "" {
		q = append(q, bson.E{Key: "location.sub_district", Value: f.SubDistrict})
	}
	if f.Community != "" {
		q = append(q, bson.E{Key: "location.community", Value: f.Community})
	}
	if f.Overdue {
		// DueAt of a case without a running deadline is far in the
		// future, so this alone selects overdue open cases.
		q = append(q, bson.E{Key: "due_at", Value: bson.D{{Key: "$lt", Value: now}}})
	}
	if f.HasBudget {
		// A copy always names its line. $gt "" rather than $exists: an
		// ordinary index serves it as a range, where $exists:true would
		// walk the whole index on MongoDB.
		q = append(q, bson.E{Key: "budget.line_id", Value: bson.D{{Key: "$gt", Value: ""}}})
	}
	if !f.FiledFrom.IsZero() || !f.FiledTo.IsZero() {
		r := bson.D{}
		if !f.FiledFrom.IsZero() {
			r = append(r, bson.E{Key: "$gte", Value: f.FiledFrom.UTC()})
		}
		if !f.FiledTo.IsZero() {
			r = append(r, bson.E{Key: "$lt", Value: f.FiledTo.UTC()})
		}
		q = append(q, bson.E{Key: "filed_at", Value: r})
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		q = append(q, bson.E{Key: "title", Value: bson.D{
			{Key: "$regex", Value: regexp.QuoteMeta(t)}, {Key: "$options", Value: "i"}}})
	}
	return q
}

// SummaryQuery is f's filter on the summaries: the same as on the cases,
// with location's fields at the top level and the budget marker a string.
func (f Filter[S]) SummaryQuery(now time.Time) bson.D {
	q := f.Query(now)
	for i, e := range q {
		switch e.Key {
		case "location.sub_district":
			q[i].Key = "sub_district"
		case "location.community":
			q[i].Key = "community"
		case "budget.line_id":
			q[i] = bson.E{Key: "has_budget", Value: "1"}
		}
	}
	return q
}

// Fields is what a filter, a page's cursor and a resident's list read of a
// case or of its summary.
type Fields[S Status] struct {
	ID                                  string
	Status                              S
	Area, SubDistrict, Community, Title string
	FiledAt, DueAt                      time.Time
	HasBudget                           bool
	FilerID                             string
	Cosigners                           []string
}

// Matcher is the Go twin of Query: whether a case (or a summary), as read
// now, passes f's filter, without scope or cursor. Lists apply it to the
// cases they fetch, since one may have changed after its summary was read;
// the reports' cache to summaries. The text's pattern is compiled once.
func (f Filter[S]) Matcher(now time.Time) func(Fields[S]) bool {
	var text *regexp.Regexp
	if t := strings.TrimSpace(f.Text); t != "" {
		text = regexp.MustCompile("(?i)" + regexp.QuoteMeta(t))
	}
	return func(c Fields[S]) bool {
		switch {
		case f.Status != "" && c.Status != f.Status,
			f.Area != "" && c.Area != f.Area,
			f.SubDistrict != "" && c.SubDistrict != f.SubDistrict,
			f.Community != "" && c.Community != f.Community,
			f.Overdue && !c.DueAt.Before(now),
			f.HasBudget && !c.HasBudget,
			!f.FiledFrom.IsZero() && c.FiledAt.Before(f.FiledFrom),
			!f.FiledTo.IsZero() && !c.FiledAt.Before(f.FiledTo):
			return false
		}
		return text == nil || text.MatchString(c.Title)
	}
}

// Scope narrows f to what p may list: a resident their own and co-signed
// cases, a cadre their community, subdistrict staff their sub-district.
// Asking explicitly for another scope is EFORBIDDEN rather than an empty
// page, so a misconfigured console shows why.
func (f *Filter[S]) Scope(p auth.Principal, dir *org.Directory) (bson.D, error) {
	switch p.Role {
	case auth.RoleResident:
		if p.UserID == "" {
			return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
		}
		return bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "filer_id", Value: p.UserID}},
			bson.D{{Key: "cosigners", Value: p.UserID}},
		}}}, nil
	case auth.RoleCadre:
		if f.Community != "" && f.Community != p.Community {
			return nil, minsheng.Errorf(minsheng.EFORBIDDEN, "无权查看其他社区的案件")
		}
		if _, err := p.SubDistrictScope(dir, f.SubDistrict); err != nil {
			return nil, err
		}
		f.Community = p.Community
		return nil, nil
	case auth.RoleSubdistrict:
		if _, err := p.SubDistrictScope(dir, f.SubDistrict); err != nil {
			return nil, err
		}
		if f.Community != "" && !dir.Contains(p.SubDistrict, f.Community) {
			return nil, minsheng.Errorf(minsheng.EFORBIDDEN, "无权查看其他街道的案件")
		}
		f.SubDistrict = p.SubDistrict
		return nil, nil
	case auth.RoleFinance, auth.RoleAdmin:
		_, err := p.SubDistrictScope(dir, f.SubDistrict) // an unknown code is EINVALID
		return nil, err
	}
	return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
}
