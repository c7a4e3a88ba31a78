package cases

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/internal/auth"
	"minsheng/internal/page"
)

// Who sees what of another resident's case (issue 8 item 5). A resident
// may look for similar cases in any community (people file where they
// live, and a problem at a community's edge concerns its neighbours) and
// co-sign any open case they find; in return they get the public view
// only — what a notice board would show: title, area, where by community,
// status, dates, how many co-signed, and the photos (always re-encoded
// without EXIF, so without GPS). Never the description, the address or
// coordinates, the contact, the filer, the staff or the timeline.

// PublicCase is the public view of a case.
type PublicCase struct {
	ID          string `json:"id"`
	Number      string `json:"number"`
	Area        string `json:"area"`
	AreaLabel   string `json:"area_label"`
	Title       string `json:"title"`
	SubDistrict string `json:"sub_district"`
	Community   string `json:"community"`
	// CommunityName is filled where the view is made for residents
	// (PublicView).
	CommunityName string        `json:"community_name,omitempty"`
	Status        Status        `json:"status"`
	StatusLabel   string        `json:"status_label"`
	FiledAt       time.Time     `json:"filed_at"`
	AcceptedAt    *time.Time    `json:"accepted_at,omitempty"`
	CompletedAt   *time.Time    `json:"completed_at,omitempty"`
	ClosedAt      *time.Time    `json:"closed_at,omitempty"`
	CosignCount   int           `json:"cosign_count"`
	Photos        []PublicPhoto `json:"photos"`
	// Overdue and DeadlineText are the running deadline (labels.go), where
	// the view is made from a shown case; never the steps staff may take.
	Overdue      bool   `json:"overdue,omitempty"`
	DeadlineText string `json:"deadline_text,omitempty"`
	// PublicView is always true, so a client can tell this view apart.
	PublicView bool `json:"public_view"`
}

// PublicPhoto is a photo in the public view: no uploader, no storage keys.
type PublicPhoto struct {
	ID         string    `json:"id"`
	Tag        PhotoTag  `json:"tag"`
	Width      int       `json:"width"`
	Height     int       `json:"height"`
	UploadedAt time.Time `json:"uploaded_at"`
	URL        string    `json:"url,omitempty"`
	ThumbURL   string    `json:"thumb_url,omitempty"`
}

// seesPublicView reports whether p gets only the public view of c: a
// resident who neither filed it nor had it filed for them (a co-signer).
func (c *Case) seesPublicView(p auth.Principal) bool {
	return p.Role == auth.RoleResident && p.UserID != "" && p.UserID != c.FilerID && p.UserID != c.FiledBy
}

// IsPublicView reports whether c was redacted to the public view; it then
// encodes to JSON as a PublicCase.
func (c *Case) IsPublicView() bool { return c.publicView }

// Preview returns the public view of c, with whatever photo URLs c carries.
func (c *Case) Preview() *PublicCase {
	v := &PublicCase{
		ID: c.ID, Number: c.Number, Area: c.Area, AreaLabel: AreaName(c.Area), Title: c.Title,
		SubDistrict: c.Location.SubDistrict, Community: c.Location.Community,
		Status: c.Status, StatusLabel: c.Status.Label(), FiledAt: c.FiledAt,
		AcceptedAt: c.AcceptedAt, CompletedAt: c.CompletedAt, ClosedAt: c.ClosedAt,
		CosignCount: len(c.Cosigners), Photos: make([]PublicPhoto, len(c.Photos)), PublicView: true,
		Overdue: c.Overdue, DeadlineText: c.DeadlineText,
	}
	if c.CosignCount > v.CosignCount {
		v.CosignCount = c.CosignCount
	}
	for i, ph := range c.Photos {
		v.Photos[i] = PublicPhoto{ID: ph.ID, Tag: ph.Tag, Width: ph.Width, Height: ph.Height, UploadedAt: ph.UploadedAt,
			URL: ph.URL, ThumbURL: ph.ThumbURL}
	}
	return v
}

// toPublicView blanks, in place, everything the public view leaves out, so
// Go callers cannot leak it either, and marks c so it encodes as one.
func (c *Case) toPublicView() {
	count := len(c.Cosigners)
	*c = Case{
		ID: c.ID, Number: c.Number, Area: c.Area, AreaLabel: c.AreaLabel, Title: c.Title,
		Location: Location{SubDistrict: c.Location.SubDistrict, Community: c.Location.Community},
		Status:   c.Status, StatusLabel: c.StatusLabel, FiledAt: c.FiledAt,
		AcceptedAt: c.AcceptedAt, CompletedAt: c.CompletedAt, ClosedAt: c.ClosedAt,
		CosignCount: count, Photos: c.Photos, Timeline: []Event{}, Cosigners: nil,
		Overdue: c.Overdue, publicView: true,
	}
	for i := range c.Photos {
		c.Photos[i].UploadedBy = ""
	}
}

// caseJSON has Case's fields without its MarshalJSON.
type caseJSON Case

// MarshalJSON encodes the public view of a case redacted to one, and the
// case itself otherwise.
func (c Case) MarshalJSON() ([]byte, error) {
	if c.publicView {
		return json.Marshal(c.Preview())
	}
	return json.Marshal(caseJSON(c))
}

// publicOf is the public view of c for a resident, with signed photo links.
func (s *Service) publicOf(ctx context.Context, c *Case) (*PublicCase, error) {
	v := c.Preview()
	if s.photos == nil {
		return v, nil
	}
	for i := range v.Photos {
		ph := &v.Photos[i]
		var err error
		if ph.URL, ph.ThumbURL, err = s.photoRoom.Links(ctx, c.Photos[i]); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// publicList names the cursors of the public list of a community.
const publicList = "cases:public"

// PublicCases lists a community's public (公开) cases, newest first, in
// their public view (PublicView: public fields, the community's name, no
// progress photos), for anyone — residents browse their community's
// requests without signing in. It reads the summaries by community (an
// index), keeps the public ones, and checks each case as read now, since a
// summary may lag behind its case. Errors: EINVALID for an unknown or
// missing community, a bad cursor or limit.
func (s *Service) PublicCases(ctx context.Context, community, cursor string, limit int) ([]PublicCase, string, error) {
	fields := map[string]string{}
	if community == "" {
		fields["community"] = "必填"
	} else if _, err := s.dir.Community(community); err != nil {
		fields["community"] = "社区不存在"
	}
	cur := page.Decode(publicList, cursor, fields)
	n := page.Limit(limit, fields)
	if len(fields) > 0 {
		return nil, "", page.Invalid(fields)
	}
	q := bson.D{{Key: "community", Value: community}, {Key: "public", Value: "1"}}
	if cursor != "" {
		q = append(q, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "filed_at", Value: bson.D{{Key: "$lt", Value: cur.At}}}},
			bson.D{{Key: "filed_at", Value: cur.At}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: cur.ID}}}},
		}})
	}
	sums, err := s.cases.Summaries(ctx, q, bson.D{{Key: "filed_at", Value: -1}, {Key: "_id", Value: -1}}, int64(n+1))
	if err != nil {
		return nil, "", fmt.Errorf("cases: unable to list public cases of %s: %w", community, err)
	}
	next := ""
	if len(sums) > n {
		sums = sums[:n]
		last := sums[n-1]
		next = page.Encode(publicList, page.Cursor{At: last.FiledAt, ID: last.ID})
	}
	ids := make([]string, len(sums))
	for i, sm := range sums {
		ids[i] = sm.ID
	}
	found, err := s.cases.ByIDs(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	out := make([]PublicCase, 0, len(found))
	for _, c := range found {
		if !c.Public || c.Location.Community != community {
			continue
		}
		v, err := s.PublicView(ctx, c)
		if err != nil {
			return nil, "", err
		}
		out = append(out, *v)
	}
	return out, next, nil
}

// PublicCase returns the public view of one public (公开) case, for
// anyone; a case filed 不公开, or none with that id, is ENOTFOUND alike.
func (s *Service) PublicCase(ctx context.Context, id string) (*PublicCase, error) {
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Public {
		return nil, caseNotFound()
	}
	return s.PublicView(ctx, c)
}
