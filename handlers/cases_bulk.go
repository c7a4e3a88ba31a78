package handlers

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"minsheng"
	"minsheng/cases"
	"minsheng/cases/caseinput"
	"minsheng/internal/auth"
	"minsheng/internal/httpkit"
	"minsheng/internal/idem"
	"minsheng/internal/page"
)

// bulkActions are the steps the console applies to many cases at once
// (受理, 派单, 退单), each through the service method of its single-case
// route, so the transition rules have one home (cases/lifecycle.go).
var bulkActions = map[string]func(a CasesAPI, ctx context.Context, p auth.Principal, id string, version int64, b bulkInput) (*cases.Case, error){
	"accept": func(a CasesAPI, ctx context.Context, p auth.Principal, id string, v int64, b bulkInput) (*cases.Case, error) {
		return a.Cases.Accept(ctx, p, id, v, b.Note)
	},
	"assign": func(a CasesAPI, ctx context.Context, p auth.Principal, id string, v int64, b bulkInput) (*cases.Case, error) {
		return a.Cases.Assign(ctx, p, id, v, b.CadreID, b.Note)
	},
	"reject": func(a CasesAPI, ctx context.Context, p auth.Principal, id string, v int64, b bulkInput) (*cases.Case, error) {
		return a.Cases.Reject(ctx, p, id, v, b.Reason)
	},
}

// bulkItem is one case of a bulk step: its id and the version the caller
// read (each case keeps its own version check).
type bulkItem struct {
	ID      string `json:"id"`
	Version *int64 `json:"version"`
}

// bulkInput is the body of POST /cases/bulk/:action: the cases, and the
// one note, reason or cadre every case gets.
type bulkInput struct {
	Items   []bulkItem `json:"items"`
	Note    string     `json:"note"`
	Reason  string     `json:"reason"`
	CadreID string     `json:"cadre_id"`
}

// bulkResult is one case's outcome: the case as the caller now sees it, or
// the refusal its single-case route would have answered. Number and title
// are filled when the caller may read the case.
type bulkResult struct {
	// Index is the case's place in the request's items. ID is omitted for
	// a case the caller may not read (refused or unknown): an answer names
	// only what its caller may see, and Index still places the refusal.
	Index    int             `json:"index"`
	ID       string          `json:"id,omitempty"`
	Number   string          `json:"number,omitempty"`
	Title    string          `json:"title,omitempty"`
	OK       bool            `json:"ok"`
	Status   int             `json:"status"`
	Case     json.RawMessage `json:"case,omitempty"`
	Error    *bulkError      `json:"error,omitempty"`
	Replayed bool            `json:"replayed,omitempty"`
}

type bulkError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// bulk applies one step to up to page.MaxLimit cases. Each case is its own
// write: its own version check and its own idempotency record, keyed by
// the request's Idempotency-Key (required) and the case, so a bulk
// request sent again — or several copies at once — applies every case at
// most once and answers each copy with the same per-case outcomes.
// Partial failure is the normal answer: 200 with every case's result.
func (a CasesAPI) bulk(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if p.Role != auth.RoleSubdistrict && p.Role != auth.RoleAdmin {
		// 受理, 派单 and 退单 are the sub-district's triage (and admin's):
		// others are refused before any case is read.
		return minsheng.Errorf(minsheng.EFORBIDDEN, "批量受理、派单、退单仅限街道工作人员和管理员")
	}
	action := c.Params("action")
	run, ok := bulkActions[action]
	if !ok {
		return minsheng.Errorf(minsheng.ENOTFOUND, "批量操作只支持 accept（受理）、assign（派单）、reject（退单）")
	}
	key, err := httpkit.RequireIdempotencyKey(c)
	if err != nil {
		return err
	}
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	var b bulkInput
	if err := httpkit.BindJSON(c, &b); err != nil {
		return err
	}
	if err := b.check(action); err != nil {
		return err
	}
	caller := "user:" + p.UserID
	out := make([]bulkResult, len(b.Items))
	okCount := 0
	for i, it := range b.Items {
		out[i], err = a.bulkOne(c, caller, key, action, it, b, run, p)
		if err != nil {
			return err
		}
		out[i].Index = i
		if out[i].Number == "" && out[i].Error != nil && (out[i].Error.Code == string(minsheng.EFORBIDDEN) || out[i].Error.Code == string(minsheng.ENOTFOUND)) {
			out[i].ID = ""
		}
		if out[i].OK {
			okCount++
		}
	}
	return c.JSON(fiber.Map{"action": action, "ok": okCount, "failed": len(out) - okCount, "results": out})
}

// check validates what the whole request shares, with the rules the single
// steps apply (caseinput), so a missing 退单 reason is one answer, not one
// refusal per case.
func (b *bulkInput) check(action string) error {
	f := map[string]string{}
	switch n := len(b.Items); {
	case n == 0:
		f["items"] = "请选择案件"
	case n > page.MaxLimit:
		f["items"] = "一次最多 " + strconv.Itoa(page.MaxLimit) + " 件"
	}
	seen := map[string]bool{}
	for i, it := range b.Items {
		name := "items[" + strconv.Itoa(i) + "]"
		switch {
		case it.ID == "" || len(it.ID) > 64:
			f[name+".id"] = "无效"
		case seen[it.ID]:
			f[name+".id"] = "重复"
		case it.Version == nil:
			f[name+".version"] = "必填（读取时的版本）"
		}
		seen[it.ID] = true
	}
	switch action {
	case "reject":
		b.Reason = caseinput.Note(f, "reason", b.Reason, true)
	default:
		b.Note = caseinput.Note(f, "note", b.Note, false)
	}
	if len(f) > 0 {
		return minsheng.Invalid("批量操作无效", f)
	}
	return nil
}

// bulkOne applies the step to one case under its own idempotency record:
// the id derives from the bulk key and the case; the hash binds it to the
// version and the shared fields, so the same key with other content is a
// refusal (422) for that case, never a second write.
func (a CasesAPI) bulkOne(c *fiber.Ctx, caller, key, action string, it bulkItem, b bulkInput, run func(CasesAPI, context.Context, auth.Principal, string, int64, bulkInput) (*cases.Case, error), p auth.Principal) (bulkResult, error) {
	ctx := c.UserContext()
	route := "POST /api/v1/cases/bulk/" + action + " " + it.ID
	hash, _ := json.Marshal([]any{it.ID, *it.Version, b.Note, b.Reason, b.CadreID})
	apply := func() (idem.Answer, error) {
		out, err := run(a, ctx, p, it.ID, *it.Version, b)
		if err != nil {
			return idem.Answer{}, err
		}
		return httpkit.JSONAnswer(fiber.StatusOK, out)
	}
	var ans idem.Answer
	var err error
	if a.Idem != nil {
		ans, err = a.Idem.DoRequest(ctx, idem.Request{ID: idem.ID(caller, route, key), Route: route, Hash: idem.Hash(hash)}, apply)
	} else {
		ans, err = apply()
	}
	r := bulkResult{ID: it.ID, Replayed: ans.Replayed}
	switch code := minsheng.ErrorCode(err); {
	case err == nil:
		var view struct{ Number, Title string }
		if jerr := json.Unmarshal(ans.Body, &view); jerr != nil {
			return r, jerr
		}
		r.OK, r.Status, r.Case, r.Number, r.Title = true, ans.Status, ans.Body, view.Number, view.Title
		return r, nil
	case code == minsheng.EINTERNAL:
		return r, err // the store failed: the whole request answers 500, a retry runs again
	default:
		r.Status = httpkit.StatusOf(code)
		r.Error = &bulkError{Code: code, Message: minsheng.ErrorMessage(err), Fields: minsheng.ErrorFields(err)}
	}
	// Name a refused case when the caller may read it; one they may not
	// stays an id, as its single-case route would leave it.
	if seen, gerr := a.Cases.Get(ctx, p, it.ID); gerr == nil {
		r.Number, r.Title = seen.Number, seen.Title
	}
	return r, nil
}
