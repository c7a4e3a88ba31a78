package cases

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/residents"
	"minsheng/cases/tracktoken"
	"minsheng/internal/auth"
)

// PublicView returns the public preview of c. afterPhotos admits the
// after-photos (the board shows them once a case is completed); before-
// photos are always shown.
func (s *Service) PublicView(ctx context.Context, c *Case) (*PublicCase, error) {
	v := &PublicCase{
		ID: c.ID, Number: c.Number, Area: c.Area, AreaLabel: AreaName(c.Area), Title: c.Title,
		SubDistrict: c.Location.SubDistrict, Community: c.Location.Community,
		Status: c.Status, StatusLabel: c.Status.Label(), FiledAt: c.FiledAt, CompletedAt: c.CompletedAt,
		CosignCount: len(c.Cosigners), Photos: []PublicPhoto{}, PublicView: true,
	}
	if comm, err := s.dir.Community(c.Location.Community); err == nil {
		v.CommunityName = comm.Name
	}
	if d := DeadlineOf(c, s.now()); d != nil {
		v.Overdue, v.DeadlineText = d.Overdue, d.Text // the running deadline, in labels.go's words
	}
	if s.photos == nil {
		return v, nil
	}
	for _, ph := range c.Photos {
		if ph.Tag == TagProgress {
			continue
		}
		pp := PublicPhoto{ID: ph.ID, Tag: ph.Tag, Width: ph.Width, Height: ph.Height, UploadedAt: ph.UploadedAt}
		var err error
		if pp.URL, pp.ThumbURL, err = s.photoRoom.Links(ctx, ph); err != nil {
			return nil, err
		}
		v.Photos = append(v.Photos, pp)
	}
	return v, nil
}

// SimilarQuery is a resident's search for a request like theirs before
// filing. Community and Area narrow it when set; Text is required.
type SimilarQuery struct {
	Community string
	Area      string
	Text      string
}

// SimilarPublic finds open public cases of the last Config.SimilarWindow
// like the text, as Similar does for a caller who may read none of them
// (public fields only, no score), as public previews (with the community's
// name, without progress photos). No sign-in is needed: nothing personal
// is returned. Errors: EINVALID.
func (s *Service) SimilarPublic(ctx context.Context, q SimilarQuery) ([]PublicCase, error) {
	q.Community, q.Area, q.Text = strings.TrimSpace(q.Community), strings.TrimSpace(q.Area), strings.TrimSpace(q.Text)
	if _, err := s.checkSimilar(q.Community, q.Area, q.Text); err != nil {
		return nil, err
	}
	q2 := s.similarQuery(q.Area)
	if q.Community != "" {
		q2 = append(q2, bson.E{Key: "community", Value: q.Community})
	}
	hits, err := s.similarTo(ctx, auth.Principal{}, q2, q.Text)
	if err != nil {
		return nil, err
	}
	out := make([]PublicCase, 0, len(hits))
	for _, h := range hits {
		v, err := s.PublicView(ctx, h.Case)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, nil
}

// residentPhone is the verified phone of a resident's account, "" when
// the service has no user lookup or the account has none.
func (s *Service) residentPhone(ctx context.Context, p auth.Principal) (string, error) {
	if s.cfg.Users == nil || p.UserID == "" {
		return "", nil
	}
	u, err := s.cfg.Users.FindUserByID(ctx, p.UserID)
	if errors.Is(err, minsheng.ErrNotFound) || minsheng.ErrorCode(err) == minsheng.ENOTFOUND {
		return "", nil // a deleted account: nothing to link
	}
	if err != nil {
		return "", err
	}
	return u.Phone, nil
}

// Mine lists a resident's cases, newest first: filed, co-signed, and those
// a cadre or sub-district staff filed on their behalf with the phone number
// the resident signed in with (the number was verified by SMS, so such a
// case is linked to the account on the way: FilerID is set once, and the
// case is theirs from then on — to follow, rate and add photos to).
// Errors: EUNAUTHORIZED, EFORBIDDEN for staff, EINVALID for bad paging.
func (s *Service) Mine(ctx context.Context, p auth.Principal, cursor string, limit int) ([]*Case, string, error) {
	if p.UserID == "" {
		return nil, "", minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	if err := p.RequireRole(auth.RoleResident); err != nil {
		return nil, "", err
	}
	if err := s.linkOnBehalf(ctx, p); err != nil {
		return nil, "", err
	}
	return s.Find(ctx, p, Filter{Cursor: cursor, Limit: limit})
}

// linkOnBehalf gives a resident the cases staff filed for their verified
// phone and no account yet. It changes no version: it never conflicts
// with the work on the case.
func (s *Service) linkOnBehalf(ctx context.Context, p auth.Principal) error {
	phone, err := s.residentPhone(ctx, p)
	if err != nil || phone == "" {
		return err
	}
	return residents.Link(ctx, s.cases, p.UserID, phone, Event{At: s.now(), Actor: p.UserID, Role: auth.RoleResident,
		Action: ActLinkResident, Note: "居民以登记手机号登录，诉求已关联到其账号"})
}

func init() { Indexes = append(Indexes, residents.Indexes...) } // linkOnBehalf's lookup

// ActLinkResident records that a case filed on a resident's behalf was
// linked to their account.
const ActLinkResident Action = "link_resident"

// tracked loads the case a tracking link (number and token) names;
// ENOTFOUND, saying nothing about which was wrong, otherwise.
func (s *Service) tracked(ctx context.Context, number, token string) (*Case, error) {
	notFound := minsheng.Errorf(minsheng.ENOTFOUND, "案件编号或查询码不正确")
	if number == "" || token == "" || len(number) > 40 || len(token) > 128 {
		return nil, notFound
	}
	var c Case
	if err := s.cases.FindOne(ctx, byNumber(number), &c); err != nil {
		if errors.Is(err, minsheng.ErrNotFound) {
			return nil, notFound
		}
		return nil, fmt.Errorf("cases: unable to track %s: %w", number, err)
	}
	if c.TokenHash == "" || subtle.ConstantTimeCompare([]byte(c.TokenHash), []byte(tracktoken.Hash(token))) != 1 {
		return nil, notFound
	}
	return &c, nil
}

// TrackPhoto adds a before-photo to an open anonymous case through its
// tracking token. Errors as AddPhoto's, ENOTFOUND for a wrong number or token.
func (s *Service) TrackPhoto(ctx context.Context, number, token string, r io.Reader) (*Case, error) {
	c, err := s.tracked(ctx, number, token)
	if err != nil {
		return nil, err
	}
	return s.photoRoom.Attach(ctx, auth.Principal{}, c, TagBefore, r)
}

// ForgetResident removes a resident's personal data from cases (PIPL,
// 删除个人信息; package residents): the contact on cases they filed or that
// were filed for them is blanked and the cases are no longer linked to the
// account; their co-signatures are withdrawn. The cases themselves stay,
// anonymous, as the sub-district's record. It returns how many cases
// changed.
func (s *Service) ForgetResident(ctx context.Context, p auth.Principal) (int64, error) {
	if p.UserID == "" {
		return 0, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	if err := p.RequireRole(auth.RoleResident); err != nil {
		return 0, err
	}
	return residents.Forget(ctx, s.cases, p.UserID, s.now())
}
