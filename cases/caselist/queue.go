package caselist

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/caseinput"
	"minsheng/internal/auth"
)

// The cadre app's lists: what a phone holds and lists (PhoneScope) and the
// queue's filter.

// PhoneScope is the filter of what the cadre app holds and lists for p: a
// cadre's community, a sub-district for its staff. EUNAUTHORIZED without
// an account; other roles get errRole.
func PhoneScope(p auth.Principal, errRole error) (bson.D, error) {
	switch p.Role {
	case auth.RoleCadre:
		if p.Community != "" {
			return bson.D{{Key: "location.community", Value: p.Community}}, nil
		}
	case auth.RoleSubdistrict:
		if p.SubDistrict != "" {
			return bson.D{{Key: "location.sub_district", Value: p.SubDistrict}}, nil
		}
	case "":
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	return nil, errRole
}

// EachIn streams the stored cases matching q, once each.
func (src Source[C, F, S]) EachIn(ctx context.Context, q bson.D, fn func(*C) error) error {
	seen := map[string]bool{}
	return src.DB.EachCase(ctx, q, func(c *C) error {
		id := src.Fields(c).ID
		if seen[id] {
			return nil
		}
		seen[id] = true
		return fn(c)
	})
}

// QueueFilter selects a cadre's cases for the app.
type QueueFilter[S Status] struct {
	// AssignedToMe keeps cases assigned to the caller.
	AssignedToMe bool
	// Statuses keeps cases in any of these states (none: all).
	Statuses []S
	Overdue  bool
	// DueSoon keeps open cases whose deadline falls within 24 hours.
	DueSoon bool
	// Address matches the courtyard address, literally, case-insensitively.
	Address string
	// Number finds one case by its number.
	Number string
}

// Check returns EINVALID naming every bad field of f.
func (f QueueFilter[S]) Check() error {
	fields := map[string]string{}
	for _, st := range f.Statuses {
		if !st.Valid() {
			fields["status"] = "状态不存在：" + string(st)
		}
	}
	if utf8.RuneCountInString(f.Address) > caseinput.MaxAddress {
		fields["address"] = fmt.Sprintf("不能超过%d字", caseinput.MaxAddress)
	}
	if len(f.Number) > 40 {
		fields["number"] = "编号无效"
	}
	if len(fields) > 0 {
		return minsheng.Invalid("请检查填写的内容", fields)
	}
	return nil
}

// QueueFields is what the queue reads of a case: its running deadline
// already decided (Overdue, DueSoon).
type QueueFields[S Status] struct {
	AssignedTo       string
	Status           S
	Overdue, DueSoon bool
	Address, Number  string
}

// Match reports whether a case passes f for the caller user.
func (f QueueFilter[S]) Match(user string, c QueueFields[S]) bool {
	switch {
	case f.AssignedToMe && c.AssignedTo != user,
		len(f.Statuses) > 0 && !slices.Contains(f.Statuses, c.Status),
		f.Overdue && !c.Overdue,
		f.DueSoon && !c.DueSoon:
		return false
	}
	if a := strings.TrimSpace(f.Address); a != "" && !strings.Contains(strings.ToLower(c.Address), strings.ToLower(a)) {
		return false
	}
	return f.Number == "" || c.Number == strings.TrimSpace(f.Number)
}
