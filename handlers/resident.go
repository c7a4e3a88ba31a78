package handlers

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"minsheng"
	"minsheng/budgetlink"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
	"minsheng/internal/httpkit"
	"minsheng/internal/org"
)

// SiteAPI serves what the resident site (/) needs beyond the case routes:
// a resident's own cases and profile, the anonymous filer's follow-up
// through the tracking token, the public previews and the public board.
type SiteAPI struct {
	Cases  *cases.Service
	Budget *budgetlink.Service
	Auth   *auth.Service
	// Zone decides the current fiscal year; nil: calendar.Zone.
	Zone *time.Location
}

// Routes registers the site's routes.
func (a SiteAPI) Routes(api fiber.Router, k *httpkit.Kit) {
	api.Get("/org/locate", locate(k.Org))
	api.Get("/me/cases", a.mine)
	api.Post("/me/cases/:id/verdict", a.rate)
	api.Patch("/me", a.updateProfile)
	api.Delete("/me", a.deleteMe)
	api.Post("/track/photos", a.trackPhoto)
	api.Post("/track/verdict", a.trackRate)
	api.Get("/public/similar", k.ThrottleSearch(), a.similar)
	api.Get("/public/board", a.board)
	api.Get("/public/cases", a.publicCases)
	api.Get("/public/cases/:id", a.publicCase)
	api.Get("/qr", a.qr)
}

// locate answers the site's "use my location": the community whose
// reference point is nearest to lat/lng (WGS-84, as the browser gives
// them), with its distance, or a 400 in Chinese outside the district.
// Nothing is stored or logged beyond the access log's path.
func locate(dir *org.Directory) fiber.Handler {
	return func(c *fiber.Ctx) error {
		bad := httpkit.RouteQuery(c, "lat", "lng")
		coord := func(name string) float64 {
			v, err := strconv.ParseFloat(c.Query(name), 64)
			if err != nil {
				bad[name] = "必填，须为 WGS-84 经纬度（度）"
			}
			return v
		}
		p := org.Point{Lat: coord("lat"), Lng: coord("lng")}
		if err := httpkit.BadQuery(bad); err != nil {
			return err
		}
		got, err := dir.Locate(p)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(got)
	}
}

func (a SiteAPI) mine(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	bad := httpkit.ListQuery(c)
	cursor, limit := httpkit.QueryPage(c, bad)
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	items, next, err := a.Cases.Mine(c.UserContext(), p, cursor, limit)
	if err != nil {
		return err
	}
	if items == nil {
		items = []*cases.Case{}
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

// rate is the signed-in resident's verdict on their own case; the same
// service call as every other verdict route.
func (a SiteAPI) rate(c *fiber.Ctx) error {
	var b cases.VerdictInput
	p, v, err := bindStep(c, &b, &b.Version)
	if err != nil {
		return err
	}
	return sendCase(c)(a.Cases.RecordVerdict(c.UserContext(), p, cases.CaseRef{ID: c.Params("id")}, v, b.Rating()))
}

func (a SiteAPI) updateProfile(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	var b struct {
		Name string `json:"name"`
	}
	if err := httpkit.BindJSON(c, &b); err != nil {
		return err
	}
	u, err := a.Auth.UpdateName(c.UserContext(), p, b.Name)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

// deleteMe erases a resident's personal data: the resident's tokens are
// void at once, then their cases are made anonymous, then the account goes;
// a failure half-way leaves the account to sign in to again and retry.
func (a SiteAPI) deleteMe(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	var n int64
	forget := func(ctx context.Context) error {
		m, err := a.Cases.ForgetResident(ctx, p)
		n += m
		return err
	}
	if err := a.Auth.DeleteResident(c.UserContext(), p, forget); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"deleted": true, "cases_anonymised": n})
}

func (a SiteAPI) trackPhoto(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	f, err := photoPart(c)
	if err != nil {
		return err
	}
	defer f.Close()
	out, err := a.Cases.TrackPhoto(c.UserContext(), c.FormValue("number"), c.FormValue("token"), f)
	if err != nil {
		return err
	}
	return JSON(c, out, fiber.StatusCreated)
}

func (a SiteAPI) trackRate(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	var b cases.TrackVerdictInput
	v, err := httpkit.BindVersioned(c, &b, &b.Version)
	if err != nil {
		return err
	}
	// The link is the caller's only credential: a bearer token, if any,
	// is not who gives this verdict.
	ref := cases.CaseRef{Number: b.Number, Token: b.Token}
	return sendCase(c)(a.Cases.RecordVerdict(c.UserContext(), auth.Principal{}, ref, v, b.Rating()))
}

// publicLimit bounds what one address may ask of the unauthenticated
// routes that cost an image (the board is cached instead; the public
// similar search counts as a search, auth.Service.AllowSearch).
var publicLimit = auth.Limit{N: 120, Window: time.Minute}

func (a SiteAPI) similar(c *fiber.Ctx) error {
	if err := httpkit.BadQuery(httpkit.RouteQuery(c, "community", "area", "text")); err != nil {
		return err
	}
	items, err := a.Cases.SimilarPublic(c.UserContext(), cases.SimilarQuery{
		Community: c.Query("community"), Area: c.Query("area"), Text: c.Query("text")})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}

// publicCases lists a community's public cases in their public view, for
// anyone (the site's 社区公开诉求); paged, counted per address.
func (a SiteAPI) publicCases(c *fiber.Ctx) error {
	bad := httpkit.ListQuery(c, "community")
	cursor, limit := httpkit.QueryPage(c, bad)
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	if err := a.Auth.Limiter().Allow(c.UserContext(), "public-cases-ip:"+c.IP(), publicLimit); err != nil {
		return err
	}
	items, next, err := a.Cases.PublicCases(c.UserContext(), c.Query("community"), cursor, limit)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

// publicCase is one public case in its public view, for anyone; a case
// filed 不公开 is 404 like an unknown id.
func (a SiteAPI) publicCase(c *fiber.Ctx) error {
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	if err := a.Auth.Limiter().Allow(c.UserContext(), "public-cases-ip:"+c.IP(), publicLimit); err != nil {
		return err
	}
	v, err := a.Cases.PublicCase(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.JSON(v)
}

func (a SiteAPI) board(c *fiber.Ctx) error {
	bad := httpkit.RouteQuery(c, "fiscal_year", "sub_district")
	year := calendar.FiscalYear(time.Now(), a.Zone)
	if v := c.Query("fiscal_year"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad["fiscal_year"] = "须为年份"
		}
		year = n
	}
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	b, err := a.Budget.PublicBoard(c.UserContext(), year, c.Query("sub_district"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	return c.JSON(b)
}

// maxQRText bounds what /qr encodes: a tracking link is about 120 bytes.
const maxQRText = 512

// qr renders text (a tracking link) as a PNG QR code. The text is never
// logged (the access log has the path only) and the image is not cached.
func (a SiteAPI) qr(c *fiber.Ctx) error {
	if err := httpkit.BadQuery(httpkit.RouteQuery(c, "text")); err != nil {
		return err
	}
	if err := a.Auth.Limiter().Allow(c.UserContext(), "qr-ip:"+c.IP(), publicLimit); err != nil {
		return err
	}
	text := c.Query("text")
	if text == "" || len(text) > maxQRText {
		return minsheng.Invalid("二维码内容无效", map[string]string{"text": "须为1到512个字符"})
	}
	png, err := qrcode.Encode(text, qrcode.Medium, 256)
	if err != nil {
		return &minsheng.Error{Code: minsheng.EINVALID, Message: "二维码内容无效", Err: err}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, "image/png")
	return c.Send(png)
}
