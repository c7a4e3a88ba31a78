package handlers

import (
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
	"minsheng/internal/httpkit"
	"minsheng/internal/idem"
	"minsheng/internal/media"
	"minsheng/internal/org"
)

// MediaPath is where CasesAPI serves photos of the local storage backend;
// cmd passes it as the URL prefix to media.NewLocal.
const MediaPath = "/api/v1/media"

// CasesAPI serves the casework routes under /api/v1; cmd adds it to
// Config.Groups.
type CasesAPI struct {
	Cases *cases.Service
	// Media serves local-backend photos at MediaPath after checking the
	// signature; nil when photos live in S3 (browsers get presigned URLs).
	Media *media.Local
	// Idem keeps each case step of a bulk request once (cases_bulk.go);
	// nil runs them without records (tests of other routes).
	Idem *idem.Store
	// Zone is the product's zone for exported times (calendar.Zone when
	// nil); Logger reports an export that stopped (slog.Default when nil).
	Zone   *time.Location
	Logger *slog.Logger

	dir *org.Directory // the kit's, for names in exports
}

func (a CasesAPI) zone() *time.Location {
	if a.Zone == nil {
		return calendar.Zone()
	}
	return a.Zone
}

func (a CasesAPI) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}

// orgName is the name of a sub-district or community code, the code
// itself when the directory does not know it.
func (a CasesAPI) orgName(code string, sub bool) string {
	if a.dir != nil {
		if sub {
			if s, err := a.dir.SubDistrict(code); err == nil {
				return s.Name
			}
		} else if c, err := a.dir.Community(code); err == nil {
			return c.Name
		}
	}
	return code
}

// Routes registers the cases routes. Fixed paths come before /cases/:id.
func (a CasesAPI) Routes(api fiber.Router, k *httpkit.Kit) {
	a.dir = k.Org
	api.Post("/cases", k.Throttle((*auth.Service).AllowFiling), a.submit)
	api.Get("/cases", k.ThrottleSearch("text"), a.list)
	api.Get("/cases/track", a.track)
	api.Get("/cases/labels", a.labels)
	api.Get("/cases/export", a.export)
	api.Post("/cases/bulk/:action", a.bulk)
	api.Get("/cases/similar", k.ThrottleSearch(), a.similar)
	api.Get("/cases/number/:number", a.byNumber)
	api.Get("/cases/:id", a.get)
	api.Post("/cases/:id/photos", k.Throttle((*auth.Service).AllowUpload), a.addPhoto)
	api.Post("/cases/:id/accept", a.accept)
	api.Post("/cases/:id/reject", a.reject)
	api.Post("/cases/:id/merge", a.merge)
	api.Post("/cases/:id/assign", a.assign)
	api.Post("/cases/:id/assess", a.assess)
	api.Post("/cases/:id/start", a.start)
	api.Post("/cases/:id/complete", a.complete)
	api.Post("/cases/:id/verdict", a.verdict)
	api.Post("/cases/:id/cancel", a.cancel)
	api.Post("/cases/:id/cosign", a.cosign)
	if a.Media != nil {
		api.Get(strings.TrimPrefix(MediaPath, "/api/v1")+"/*", a.media)
	}
}

// filed is the answer to a filing: the case, plus the tracking token when
// it was filed anonymously (shown once, never again).
type filed struct {
	Case          *cases.Case
	TrackingToken string
}

// MarshalJSON adds tracking_token to the case's own encoding (a Case
// encodes itself, so embedding it would drop the token).
func (f filed) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(f.Case)
	if err != nil || f.TrackingToken == "" || len(b) < 2 || b[len(b)-1] != '}' {
		return b, err
	}
	tok, err := json.Marshal(f.TrackingToken)
	if err != nil {
		return nil, err
	}
	out := append(b[:len(b)-1:len(b)-1], `,"tracking_token":`...)
	return append(append(out, tok...), '}'), nil
}

func (a CasesAPI) submit(c *fiber.Ctx) error {
	var in cases.WebFilingInput
	if err := httpkit.BindJSON(c, &in); err != nil {
		return err
	}
	p, _ := httpkit.OptionalPrincipal(c)
	out, token, err := a.Cases.Submit(c.UserContext(), p, in.NewCase(idempotencyKey(c)))
	if err != nil {
		return err
	}
	return JSON(c, filed{Case: out, TrackingToken: token}, fiber.StatusCreated)
}

// caseQueryNames are the filter parameters of the staff case list, which
// its export takes too.
var caseQueryNames = []string{"status", "area", "sub_district", "community", "overdue", "text", "sort"}

// caseFilter reads the case list's filter from the query (the one parsing
// of GET /cases and its export), recording bad values in bad. The strings
// are copies: an export reads them after the handler returns.
func caseFilter(c *fiber.Ctx, bad map[string]string) cases.Filter {
	q := func(name string) string { return strings.Clone(c.Query(name)) }
	f := cases.Filter{
		Status: cases.Status(q("status")), Area: q("area"),
		SubDistrict: q("sub_district"), Community: q("community"),
		Text: q("text"), Sort: q("sort"),
	}
	if v := c.Query("overdue"); v != "" {
		var err error
		if f.Overdue, err = strconv.ParseBool(v); err != nil {
			bad["overdue"] = "须为 true 或 false"
		}
	}
	return f
}

func (a CasesAPI) list(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	bad := httpkit.ListQuery(c, caseQueryNames...)
	f := caseFilter(c, bad)
	f.Cursor, f.Limit = httpkit.QueryPage(c, bad)
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	items, next, err := a.Cases.Find(c.UserContext(), p, f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []*cases.Case{}
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

func (a CasesAPI) get(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	out, err := a.Cases.Get(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// track is for anonymous filers; the token is a secret, so responses are
// not cached anywhere.
func (a CasesAPI) track(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if err := httpkit.BadQuery(httpkit.RouteQuery(c, "number", "token")); err != nil {
		return err
	}
	out, err := a.Cases.TrackByToken(c.UserContext(), c.Query("number"), c.Query("token"))
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// labels is every status, verdict and step with its label, for screens
// that list them without a case (a status filter); each case view carries
// its own (cases/labels.go).
func (a CasesAPI) labels(c *fiber.Ctx) error {
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	return c.JSON(cases.Labelled())
}

func (a CasesAPI) similar(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := httpkit.BadQuery(httpkit.RouteQuery(c, "community", "area", "text")); err != nil {
		return err
	}
	items, err := a.Cases.Similar(c.UserContext(), p, c.Query("community"), c.Query("area"), c.Query("text"))
	if err != nil {
		return err
	}
	if items == nil {
		items = []cases.SimilarCase{}
	}
	return c.JSON(fiber.Map{"items": items})
}

// photoPart opens the "photo" part of a multipart/form-data upload; the
// caller closes it.
func photoPart(c *fiber.Ctx) (multipart.File, error) {
	if !strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEMultipartForm) {
		return nil, minsheng.Errorf(minsheng.EUNSUPPORTED, "请以 multipart/form-data 上传照片")
	}
	fh, err := c.FormFile("photo")
	if err != nil {
		return nil, minsheng.Invalid("请选择照片", map[string]string{"photo": "必填"})
	}
	f, err := fh.Open()
	if err != nil {
		return nil, &minsheng.Error{Code: minsheng.EINVALID, Message: "照片读取失败", Err: err}
	}
	return f, nil
}

func (a CasesAPI) addPhoto(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	f, err := photoPart(c)
	if err != nil {
		return err
	}
	defer f.Close()
	out, err := a.Cases.AddPhoto(c.UserContext(), p, c.Params("id"), cases.PhotoTag(c.FormValue("tag")), f)
	if err != nil {
		return err
	}
	return JSON(c, out, fiber.StatusCreated)
}

// media serves a local-backend photo to whoever holds a valid signed link;
// Get hands links only to those allowed to see the case.
func (a CasesAPI) media(c *fiber.Ctx) error {
	key := c.Params("*")
	if err := httpkit.BadQuery(httpkit.RouteQuery(c, "exp", "sig")); err != nil {
		return err
	}
	if err := a.Media.Verify(key, c.Query("exp"), c.Query("sig"), time.Now()); err != nil {
		return err
	}
	rc, info, err := a.Media.Open(c.UserContext(), key)
	if err != nil {
		return err
	}
	defer rc.Close()
	body, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, info.ContentType)
	// Private: the link is personal and short-lived; no shared cache may keep it.
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	return c.Send(body)
}

// bindStep decodes a transition body and returns the caller and the version.
func bindStep(c *fiber.Ctx, body any, version **int64) (auth.Principal, int64, error) {
	p, err := httpkit.Principal(c)
	if err != nil {
		return p, 0, err
	}
	v, err := httpkit.BindVersioned(c, body, version)
	return p, v, err
}

func (a CasesAPI) accept(c *fiber.Ctx) error {
	var b cases.NoteInput
	p, v, err := bindStep(c, &b, &b.Version)
	if err != nil {
		return err
	}
	return sendCase(c)(a.Cases.Accept(c.UserContext(), p, c.Params("id"), v, b.Note))
}

func (a CasesAPI) reject(c *fiber.Ctx) error {
	var b cases.ReasonInput
	p, v, err := bindStep(c, &b, &b.Version)
	if err != nil {
		return err
	}
	return sendCase(c)(a.Cases.Reject(c.UserContext(), p, c.Params("id"), v, b.Reason))
}

func (a CasesAPI) merge(c *fiber.Ctx) error {
	var b cases.MergeInput
	p, v, err := bindStep(c, &b, &b.Version)
	if err != nil {
		return err
	}
	return sendCase(c)(a.Cases.Merge(c.UserContext(), p, c.Params("id"), v, b.Into, b.Note))
}

func (a CasesAPI) assign(c *fiber.Ctx) error {
	var b cases.AssignInput
	p, v, err := bindStep(c, &b, &b.Version)
	if err != nil {
		return err
	}
	return sendCase(c)(a.Cases.Assign(c.UserContext(), p, c.Params("id"), v, b.CadreID, b.Note))
}

func (a CasesAPI) assess(c *fiber.Ctx) error {
	var b cases.AssessInput
	p, v, err := bindStep(c, &b, &b.Version)
	if err != nil {
		return err
	}
	return sendCase(c)(a.Cases.Assess(c.UserContext(), p, c.Params("id"), v, b.Assessment()))
}

func (a CasesAPI) start(c *fiber.Ctx) error {
	var b cases.NoteInput
	p, v, err := bindStep(c, &b, &b.Version)
	if err != nil {
		return err
	}
	return sendCase(c)(a.Cases.Start(c.UserContext(), p, c.Params("id"), v, b.Note))
}

func (a CasesAPI) complete(c *fiber.Ctx) error {
	var b cases.CompleteInput
	p, v, err := bindStep(c, &b, &b.Version)
	if err != nil {
		return err
	}
	return sendCase(c)(a.Cases.Complete(c.UserContext(), p, c.Params("id"), v, b.ActualCostFen, b.Note))
}

func (a CasesAPI) verdict(c *fiber.Ctx) error {
	var b cases.VerdictInput
	p, v, err := bindStep(c, &b, &b.Version)
	if err != nil {
		return err
	}
	return sendCase(c)(a.Cases.RecordVerdict(c.UserContext(), p, cases.CaseRef{ID: c.Params("id")}, v, b.Rating()))
}

func (a CasesAPI) cancel(c *fiber.Ctx) error {
	var b cases.ReasonInput
	p, v, err := bindStep(c, &b, &b.Version)
	if err != nil {
		return err
	}
	return sendCase(c)(a.Cases.Cancel(c.UserContext(), p, c.Params("id"), v, b.Reason))
}

// cosign needs no version: a +1 never conflicts with the staff's work.
// A body, if sent, may carry the version the client read; it is ignored.
func (a CasesAPI) cosign(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if len(c.Body()) > 0 {
		var b cases.CosignInput
		if err := httpkit.BindJSON(c, &b); err != nil {
			return err
		}
	}
	return sendCase(c)(a.Cases.Cosign(c.UserContext(), p, c.Params("id")))
}

// sendCase encodes a service answer: the case, or the error for the one
// error renderer.
func sendCase(c *fiber.Ctx) func(*cases.Case, error) error {
	return func(out *cases.Case, err error) error {
		if err != nil {
			return err
		}
		return c.JSON(out)
	}
}
