package cases

import (
	"context"
	"log/slog"
	"time"

	"minsheng"
	"minsheng/cases/caseinput"
	"minsheng/cases/casephotos"
	"minsheng/cases/cosign"
	"minsheng/cases/notify"
	"minsheng/cases/phonesync"
	"minsheng/cases/uploads"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
	"minsheng/internal/media"
	"minsheng/internal/org"
	"minsheng/internal/store"
)

// Defaults for Config fields left at zero.
const (
	DefaultNumberPrefix     = "XC"
	DefaultSLADays          = 15
	DefaultResponseWindow   = 24 * time.Hour
	DefaultSimilarThreshold = 300 // per-mille Dice similarity of bigrams
	DefaultSimilarWindow    = 90 * 24 * time.Hour
	DefaultPhotoURLTTL      = 15 * time.Minute
	// MaxPhotos is how many photos a case may hold.
	MaxPhotos = casephotos.Max
)

// UserLookup finds an account; auth.Service satisfies it. Assign uses it to
// check that the assignee is a cadre of the case's community.
type UserLookup = caseinput.Users

// Config tunes the service. Zero fields take the defaults above.
type Config struct {
	// NumberPrefix starts every case number: XC2026-000123.
	NumberPrefix string
	// DefaultSLADays is the completion deadline, in days from acceptance,
	// until the catalog supplies one for the case's item (SetCatalogItem).
	DefaultSLADays int
	// ResponseWindow is how long after filing a case must be answered
	// (accepted, rejected or merged): 24 hours, as for 12345.
	ResponseWindow time.Duration
	// SimilarThreshold is the per-mille similarity above which Similar
	// offers an open case to co-sign; SimilarWindow how far back it looks.
	SimilarThreshold int
	SimilarWindow    time.Duration
	// PhotoLimits bound uploads; PhotoURLTTL is how long a photo link lives.
	PhotoLimits media.Limits
	PhotoURLTTL time.Duration
	// TokenSecret derives the tracking token a cadre's app shows as a QR
	// code for a case filed on a resident's behalf (TrackingTokenFor), so
	// asking again gives the same token. Anonymous filers' tokens are
	// random and do not use it.
	TokenSecret []byte
	// Users checks assignees; nil skips the check (tests, tools).
	Users UserLookup
	// Zone is where "the year of filing" is counted; nil: calendar.Zone.
	Zone   *time.Location
	Now    func() time.Time
	Logger *slog.Logger
}

// MoneyEffects is what completing or cancelling a case does to the budget;
// budgetlink implements it. The service decides a transition first (its
// versioned write records a pending MoneyEffect) and applies the effect
// after, so only the request that won moves money (effects.go).
type MoneyEffects interface {
	// CanComplete refuses, moving nothing, a completion at actualFen that
	// the case's line cannot cover (ECONFLICT naming the shortfall), so
	// an overrun is answered before anything is decided.
	CanComplete(ctx context.Context, c *Case, actualFen int64) error
	// ApplyEffect carries out e for c, idempotently keyed by e.ID: applying
	// it again moves no money. It returns the case's new copy of its link
	// (nil when the case is not linked) and the timeline note ("" for
	// none). ECONFLICT or EINVALID refuse the effect for good; the
	// transition is then undone. Any other error leaves it pending.
	ApplyEffect(ctx context.Context, p auth.Principal, c *Case, e MoneyEffect) (*BudgetLink, string, error)
}

type noMoney struct{}

func (noMoney) CanComplete(context.Context, *Case, int64) error { return nil }
func (noMoney) ApplyEffect(context.Context, auth.Principal, *Case, MoneyEffect) (*BudgetLink, string, error) {
	return nil, "", nil
}

// Service is the casework domain's API.
type Service struct {
	cfg   Config
	cases *caseDB
	// syncs keeps what each phone holds (sync.go).
	syncs *phonesync.Store
	// cosigns holds one claim per resident and case (Cosign).
	cosigns *cosign.Claims
	st      *store.Store
	dir     *org.Directory
	photos  media.Storage
	money   MoneyEffects
	// inbox holds the staff's notifications (notify.go); texts sends
	// residents text messages about their cases (sms.go), none until SetSMS.
	inbox *notify.Inbox
	texts *notify.Texts
	// photoRoom attaches and removes photos (photos.go, casephotos).
	photoRoom *casephotos.Service[*Case]
	// faultAfterMergeCopy, set only by tests, simulates a crash in Merge
	// after the kept case received the duplicate's voices and photos and
	// before the duplicate is closed.
	faultAfterMergeCopy func() error
	// listOnCases, set only by tests, makes Find and EachCase query the
	// cases themselves as they did before the summaries, so a test can
	// compare both.
	listOnCases bool
}

// NewService returns the service on st; photos keeps the blobs.
func NewService(st *store.Store, dir *org.Directory, photos media.Storage, cfg Config) *Service {
	if cfg.NumberPrefix == "" {
		cfg.NumberPrefix = DefaultNumberPrefix
	}
	if cfg.DefaultSLADays <= 0 {
		cfg.DefaultSLADays = DefaultSLADays
	}
	if cfg.ResponseWindow <= 0 {
		cfg.ResponseWindow = DefaultResponseWindow
	}
	if cfg.SimilarThreshold <= 0 {
		cfg.SimilarThreshold = DefaultSimilarThreshold
	}
	if cfg.SimilarWindow <= 0 {
		cfg.SimilarWindow = DefaultSimilarWindow
	}
	if cfg.PhotoURLTTL <= 0 {
		cfg.PhotoURLTTL = DefaultPhotoURLTTL
	}
	cfg.Zone = calendar.Or(cfg.Zone)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{
		cfg:     cfg,
		cases:   newCaseDB(st),
		syncs:   phonesync.New(st, cfg.Logger),
		inbox:   notify.NewInbox(st, cfg.Logger),
		texts:   notify.NewTexts(st, cfg.Logger),
		cosigns: cosign.New(st),
		st:      st,
		dir:     dir,
		photos:  photos,
		money:   noMoney{},
	}
	s.photoRoom = casephotos.New(photoCases{s}, photos, uploads.New(st, photos, cfg.Logger),
		casephotos.Config{Limits: cfg.PhotoLimits, URLTTL: cfg.PhotoURLTTL, Now: s.now, Logger: cfg.Logger})
	return s
}

// SetMoneyEffects wires budgetlink in; nil restores the no-op.
func (s *Service) SetMoneyEffects(m MoneyEffects) {
	if m == nil {
		m = noMoney{}
	}
	s.money = m
}

// now is the service clock, truncated to what BSON dates hold.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// farFuture is DueAt for cases no deadline applies to, so they sort last
// by deadline and are never overdue.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// FindByID returns the case without any scope check or redaction: for
// budgetlink, the checker and tools, never for a request's response.
// Unknown ids give ENOTFOUND.
func (s *Service) FindByID(ctx context.Context, id string) (*Case, error) {
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	c.CosignCount = len(c.Cosigners)
	c.StatusLabel = c.Status.Label()
	c.AreaLabel = AreaName(c.Area)
	c.Overdue = c.IsOverdue(s.now())
	return c, nil
}

// canView reports whether p may read c: its filer and co-signers, staff
// whose scope covers it, finance and admin.
func canView(p auth.Principal, c *Case) bool {
	if p.Role == auth.RoleResident {
		if p.UserID == "" {
			return false
		}
		if p.UserID == c.FilerID || p.UserID == c.FiledBy {
			return true
		}
		for _, u := range c.Cosigners {
			if u == p.UserID {
				return true
			}
		}
		return false
	}
	return p.CanAccess(c.Location.SubDistrict, c.Location.Community)
}

// mayFind reports whether p may come across c at all — in a similar-case
// search, to co-sign it: a public case, or one p may view (canView). A
// resident never finds another's 不公开 case.
func mayFind(p auth.Principal, c *Case) bool { return c.Public || canView(p, c) }

// readsAll reports whether p may read all of c, description included:
// whoever may view it (canView) and gets more than its public view — staff
// whose scope covers it, its filer — not a co-signer.
func readsAll(p auth.Principal, c *Case) bool { return canView(p, c) && !c.seesPublicView(p) }

// Get returns the case as p may see it, with short-lived photo URLs.
// ENOTFOUND for an unknown id, EFORBIDDEN outside p's scope.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (*Case, error) {
	if !p.Role.Valid() {
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canView(p, c) {
		return nil, minsheng.Errorf(minsheng.EFORBIDDEN, "无权查看此案件")
	}
	return s.view(ctx, p, c)
}

// TrackByToken lets the holder of a tracking link follow a case with its
// number and token: an anonymous filer (the token handed out at filing) or a
// resident a cadre filed for (the QR code). A wrong number or token both
// give ENOTFOUND, so the answer reveals nothing about which was wrong. The
// answer's LinkMayRate says whether the link may also give the verdict.
func (s *Service) TrackByToken(ctx context.Context, number, token string) (*Case, error) {
	c, err := s.tracked(ctx, number, token) // resident.go
	if err != nil {
		return nil, err
	}
	return s.trackView(ctx, c)
}

// view redacts c for p and signs its photo URLs.
func (s *Service) view(ctx context.Context, p auth.Principal, c *Case) (*Case, error) {
	v := c.Redact(p)
	v.setLabels(p, c, s.now())
	if !v.publicView {
		v.Office = s.officeOf(c)
	}
	if s.photos == nil {
		return v, nil
	}
	for i := range v.Photos {
		ph := &v.Photos[i]
		var err error
		if ph.URL, ph.ThumbURL, err = s.photoRoom.Links(ctx, *ph); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// event builds a timeline entry for p. Residents' names are not kept in
// the timeline: it outlives the retention of personal data.
func (s *Service) event(p auth.Principal, a Action, from, to Status, note string) Event {
	e := Event{At: s.now(), Actor: p.UserID, Role: p.Role, Action: a, From: from, To: to, Note: note}
	if p.IsStaff() {
		e.ActorName = p.Name
	}
	return e
}
