package mobileapi

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/httpkit"
	"minsheng/internal/idem"
)

// syncAnswer is one delta: changed cases, tombstones, the next cursor.
type syncAnswer struct {
	Items      []caseView        `json:"items"`
	Tombstones []cases.Tombstone `json:"tombstones"`
	Cursor     string            `json:"cursor"`
	More       bool              `json:"more"`
	Reset      bool              `json:"reset"`
	ServerTime time.Time         `json:"server_time"`
}

func (a API) sync(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c, "cursor", "limit"); err != nil {
		return err
	}
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	limit, err := intQuery(c, "limit")
	if err != nil {
		return err
	}
	if c.Query("limit") != "" && limit == 0 {
		return minsheng.Invalid("查询条件无效", map[string]string{"limit": "须在 1 到 200 之间"})
	}
	res, err := a.Cases.Sync(c.UserContext(), p, c.Query("cursor"), limit)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(syncAnswer{Items: a.views(p, res.Changed), Tombstones: res.Tombstones, Cursor: res.Cursor,
		More: res.More, Reset: res.Reset, ServerTime: time.Now().UTC()})
}

func intQuery(c *fiber.Ctx, name string) (int, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, minsheng.Invalid("查询条件无效", map[string]string{name: "须为整数"})
	}
	return n, nil
}

func boolQuery(c *fiber.Ctx, name string, bad map[string]string) bool {
	switch c.Query(name) {
	case "":
		return false
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	bad[name] = "须为 true 或 false"
	return false
}

// list is the cadre's queue: overdue first, then by deadline.
func (a API) list(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c, "assigned", "status", "overdue", "due_soon", "address", "number"); err != nil {
		return err
	}
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	bad := map[string]string{}
	f := cases.QueueFilter{
		Overdue: boolQuery(c, "overdue", bad), DueSoon: boolQuery(c, "due_soon", bad),
		Address: c.Query("address"), Number: c.Query("number"),
	}
	switch c.Query("assigned") {
	case "":
	case "me":
		f.AssignedToMe = true
	default:
		bad["assigned"] = "只能是 me"
	}
	if s := c.Query("status"); s != "" {
		for _, one := range strings.Split(s, ",") {
			f.Statuses = append(f.Statuses, cases.Status(strings.TrimSpace(one)))
		}
	}
	if len(bad) > 0 {
		return minsheng.Invalid("查询条件无效", bad)
	}
	items, err := a.Cases.Queue(c.UserContext(), p, f)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": a.views(p, items)})
}

func (a API) get(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	out, err := a.Cases.Get(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(a.view(p, out))
}

func (a API) similar(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c, "area", "text"); err != nil {
		return err
	}
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	items, err := a.Cases.Similar(c.UserContext(), p, p.Community, c.Query("area"), c.Query("text"))
	if err != nil {
		return err
	}
	if items == nil {
		items = []cases.SimilarCase{}
	}
	return c.JSON(fiber.Map{"items": items})
}

func (a API) suggestions(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	items, err := a.Budget.SuggestItems(c.UserContext(), p, c.Params("id"), 3)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}

// filed is the answer to a filing: the case and, for a case filed on a
// resident's behalf, the token behind the QR code the resident scans.
type filed struct {
	caseView
	ClientID      string `json:"client_id"`
	TrackingToken string `json:"tracking_token,omitempty"`
}

// MarshalJSON is the case view with the filing's fields (view.go says why).
func (f filed) MarshalJSON() ([]byte, error) {
	return overlayJSON(f.caseView, struct {
		ClientID      string `json:"client_id"`
		TrackingToken string `json:"tracking_token,omitempty"`
	}{f.ClientID, f.TrackingToken})
}

// create files a case under the client's UUID. The same UUID with the
// same body answers the first result (201, Idempotency-Replayed: true);
// with another body 422.
func (a API) create(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	id := c.Params("id")
	if err := checkUUID("client_uuid", id); err != nil {
		return err
	}
	id = strings.ToLower(id)
	var b cases.OutboxFilingInput
	if err := httpkit.BindJSON(c, &b); err != nil {
		return err
	}
	if err := p.RequireRole(auth.RoleCadre, auth.RoleSubdistrict); err != nil {
		return err
	}
	in := b.NewCase(id)
	if p.Role == auth.RoleCadre && in.Community == "" {
		in.Community = p.Community
	}
	ctx := c.UserContext()
	route := "PUT " + Prefix + "/cases"
	ans, err := httpkit.Once(c, a.Replay, idem.Request{ID: idem.ID(p.UserID, route, id), Route: route, Formerly: idem.Hash(c.Body())}, func() (idem.Answer, error) {
		out, _, err := a.Cases.Submit(ctx, p, in)
		if err != nil {
			return idem.Answer{}, err
		}
		token, err := a.Cases.TrackingTokenFor(ctx, p, out.ID)
		if err != nil {
			return idem.Answer{}, err
		}
		return httpkit.JSONAnswer(fiber.StatusCreated, filed{caseView: a.view(p, out), ClientID: id, TrackingToken: token})
	})
	if err != nil {
		return err
	}
	return httpkit.SendAnswer(c, ans)
}

// step decodes one action's body and returns the service call to make.
func (a API) step(c *fiber.Ctx, p auth.Principal, id, action string) (func(context.Context) (*cases.Case, error), error) {
	s := a.Cases
	switch cases.Action(action) {
	case cases.ActAccept, cases.ActStart:
		var b cases.NoteInput
		v, err := httpkit.BindVersioned(c, &b, &b.Version)
		if err != nil {
			return nil, err
		}
		if action == string(cases.ActAccept) {
			return func(ctx context.Context) (*cases.Case, error) { return s.Accept(ctx, p, id, v, b.Note) }, nil
		}
		return func(ctx context.Context) (*cases.Case, error) { return s.Start(ctx, p, id, v, b.Note) }, nil
	case cases.ActReject, cases.ActCancel:
		var b cases.ReasonInput
		v, err := httpkit.BindVersioned(c, &b, &b.Version)
		if err != nil {
			return nil, err
		}
		if action == string(cases.ActReject) {
			return func(ctx context.Context) (*cases.Case, error) { return s.Reject(ctx, p, id, v, b.Reason) }, nil
		}
		return func(ctx context.Context) (*cases.Case, error) { return s.Cancel(ctx, p, id, v, b.Reason) }, nil
	case cases.ActAssign:
		var b cases.AssignInput
		v, err := httpkit.BindVersioned(c, &b, &b.Version)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) (*cases.Case, error) { return s.Assign(ctx, p, id, v, b.CadreID, b.Note) }, nil
	case cases.ActAssess:
		var b cases.ProposalInput
		v, err := httpkit.BindVersioned(c, &b, &b.Version)
		if err != nil {
			return nil, err
		}
		note := strings.TrimSpace(b.Note)
		item, name := strings.TrimSpace(b.CatalogItem), ""
		if item != "" {
			if len(item) > 32 {
				return nil, minsheng.Invalid("请检查填写的内容", map[string]string{"catalog_item": "编码无效"})
			}
			if cat, err := a.Budget.CatalogAt(time.Now()); err == nil {
				if it, ok := cat.Item(item); ok {
					name = it.Name
				}
			}
			note = strings.TrimSpace("建议支出事项 " + strings.TrimSpace(item+" "+name) + "。" + note)
		}
		return func(ctx context.Context) (*cases.Case, error) {
			as := b.Assessment()
			as.Note, as.ProposedItem, as.ProposedItemName = note, item, name
			return s.Assess(ctx, p, id, v, as)
		}, nil
	case cases.ActComplete:
		var b cases.CompleteInput
		v, err := httpkit.BindVersioned(c, &b, &b.Version)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) (*cases.Case, error) {
			return s.Complete(ctx, p, id, v, b.ActualCostFen, b.Note)
		}, nil
	case cases.ActVerdict:
		var b cases.VerdictInput
		v, err := httpkit.BindVersioned(c, &b, &b.Version)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) (*cases.Case, error) {
			return s.RecordVerdict(ctx, p, cases.CaseRef{ID: id}, v, b.Rating())
		}, nil
	}
	return nil, minsheng.Errorf(minsheng.ENOTFOUND, "操作不存在：%s", action)
}

// act takes one workflow step under the Idempotency-Key the outbox keeps
// for it: copies get the first answer, never a second timeline entry.
func (a API) act(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	id, action := c.Params("id"), c.Params("action")
	key, err := httpkit.RequireIdempotencyKey(c)
	if err != nil {
		return err
	}
	call, err := a.step(c, p, id, action)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	route := "POST " + Prefix + "/cases/" + id + "/actions/" + action
	ans, err := httpkit.Once(c, a.Replay, idem.Request{ID: idem.ID(p.UserID, route, key), Route: route, Formerly: idem.Hash(c.Body())}, func() (idem.Answer, error) {
		out, err := call(ctx)
		if err != nil {
			return idem.Answer{}, err
		}
		return httpkit.JSONAnswer(fiber.StatusOK, a.view(p, out))
	})
	if err != nil {
		return err
	}
	return httpkit.SendAnswer(c, ans)
}

// photoTypes are the bodies a photo upload may have.
var photoTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/webp": true}

// putPhoto stores a photo under the client's photo UUID: the body is the
// image itself (no multipart, so a resent copy has the very same bytes),
// the tag a query parameter. The same UUID and bytes answer the first
// result; never a second photo.
func (a API) putPhoto(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c, "tag"); err != nil {
		return err
	}
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	id, photo := c.Params("id"), c.Params("photo")
	if err := checkUUID("photo", photo); err != nil {
		return err
	}
	ct := strings.ToLower(strings.TrimSpace(strings.Split(c.Get(fiber.HeaderContentType), ";")[0]))
	if !photoTypes[ct] {
		return minsheng.Errorf(minsheng.EUNSUPPORTED, "照片须为 JPEG、PNG 或 WebP（Content-Type: image/jpeg）")
	}
	body := c.Body()
	if len(body) == 0 {
		return minsheng.Invalid("请选择照片", map[string]string{"photo": "必填"})
	}
	tag := cases.PhotoTag(c.Query("tag"))
	if !tag.Valid() {
		return minsheng.Invalid("请检查填写的内容", map[string]string{"tag": "须为 before、progress 或 after"})
	}
	ctx := c.UserContext()
	route := "PUT " + Prefix + "/cases/photos"
	r := idem.Request{ID: idem.ID(p.UserID, route, strings.ToLower(photo)), Route: route, Formerly: idem.Hash([]byte(id), []byte(tag), body)}
	ans, err := httpkit.Once(c, a.Replay, r, func() (idem.Answer, error) {
		out, err := a.Cases.AddPhoto(ctx, p, id, tag, bytes.NewReader(body))
		if err != nil {
			return idem.Answer{}, err
		}
		return httpkit.JSONAnswer(fiber.StatusCreated, a.view(p, out))
	})
	if err != nil {
		return err
	}
	return httpkit.SendAnswer(c, ans)
}

func (a API) deletePhoto(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	out, err := a.Cases.DeletePhoto(c.UserContext(), p, c.Params("id"), c.Params("photo"))
	if err != nil {
		return err
	}
	return c.JSON(a.view(p, out))
}

func (a API) notifications(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	items, unread, err := a.Cases.Notifications(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items, "unread": unread})
}

type readBody struct {
	IDs []string `json:"ids"`
	All bool     `json:"all"`
}

func (a API) markRead(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	var b readBody
	if err := httpkit.BindJSON(c, &b); err != nil {
		return err
	}
	if len(b.IDs) == 0 && !b.All {
		return minsheng.Invalid("请指定要标记的通知", map[string]string{"ids": "必填，或 all: true"})
	}
	if len(b.IDs) > 0 && b.All {
		return minsheng.Invalid("ids 与 all 只能选一个", map[string]string{"all": "与 ids 不能同时使用"})
	}
	unread, err := a.Cases.MarkRead(c.UserContext(), p, b.IDs)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"unread": unread})
}

// catalogView is the app's bootstrap, fetched on every sync and kept on
// the phone for offline use: the areas, each with its catalog items (the
// assessment's proposal) and the requests residents make most there (the
// filing's chips, cases.CommonRequests), and the label table
// (cases.Labelled: statuses with whether they are open, verdicts, steps)
// and the deadline text's templates.
type catalogView struct {
	FiscalYear int              `json:"fiscal_year"`
	Areas      []catalogArea    `json:"areas"`
	Labels     cases.LabelTable `json:"labels"`
	// DeadlineWords are the deadline text's templates, with which the app
	// re-times a deadline offline (static/lib/deadline.js).
	DeadlineWords cases.DeadlineWords `json:"deadline_words"`
}

type catalogArea struct {
	Code     string        `json:"code"`
	Name     string        `json:"name"`
	Items    []catalogItem `json:"items"`
	Requests []string      `json:"requests"`
}

type catalogItem struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

func (a API) catalog(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	if _, err := httpkit.Principal(c); err != nil {
		return err
	}
	cat, err := a.Budget.CatalogAt(time.Now())
	if err != nil {
		return err
	}
	out := catalogView{FiscalYear: cat.FiscalYear, Areas: []catalogArea{}, Labels: cases.Labelled(), DeadlineWords: cases.DeadlineTexts()}
	idx := map[string]int{}
	for _, ar := range cat.Areas {
		idx[ar.Code] = len(out.Areas)
		out.Areas = append(out.Areas, catalogArea{Code: ar.Code, Name: ar.Name, Items: []catalogItem{},
			Requests: append([]string{}, cases.CommonRequests(ar.Code)...)})
	}
	for _, it := range cat.Items {
		if i, ok := idx[it.Area]; ok {
			out.Areas[i].Items = append(out.Areas[i].Items, catalogItem{Code: it.Code, Name: it.Name})
		}
	}
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
	return c.JSON(out)
}
