package cases

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"minsheng"
	"minsheng/internal/auth"
)

// Input limits, in characters.
const (
	maxTitle       = 50
	minTitle       = 2
	maxDescription = 2000
	maxAddress     = 200
	maxContactName = 20
	maxNote        = 500
	maxHouseholds  = 100000
)

// NewCase is the input to Submit.
type NewCase struct {
	Area        string
	Title       string
	Description string
	// SubDistrict may be left empty: the community decides it.
	SubDistrict string
	Community   string
	Address     string
	Lat, Lng    *float64
	// ContactName and ContactPhone are how the handling cadre reaches the
	// resident; optional, so filing anonymously stays possible.
	ContactName  string
	ContactPhone string
	Households   int
	// Public is the filer's 公开 / 不公开 choice (default 不公开).
	Public bool
	// ResidentID is the resident a cadre files for, when they have an
	// account; ignored for residents (they file for themselves).
	ResidentID string
	// IdempotencyKey is the client's id for this filing (Idempotency-Key);
	// submitting it again returns the case already made.
	IdempotencyKey string
}

var idemKeyRe = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// validate trims in and returns EINVALID naming every bad field.
func (s *Service) validate(in *NewCase) error {
	in.Area = strings.TrimSpace(in.Area)
	in.Title = strings.TrimSpace(in.Title)
	in.Description = strings.TrimSpace(in.Description)
	in.SubDistrict = strings.TrimSpace(in.SubDistrict)
	in.Community = strings.TrimSpace(in.Community)
	in.Address = strings.TrimSpace(in.Address)
	in.ContactName = strings.TrimSpace(in.ContactName)
	in.ContactPhone = strings.TrimSpace(in.ContactPhone)
	in.IdempotencyKey = strings.TrimSpace(in.IdempotencyKey)

	f := map[string]string{}
	switch {
	case in.Area == "":
		f["area"] = "请选择领域"
	case AreaName(in.Area) == "":
		f["area"] = "领域不存在"
	}
	textField(f, "title", in.Title, minTitle, maxTitle)
	textField(f, "description", in.Description, 1, maxDescription)
	textField(f, "address", in.Address, 1, maxAddress)
	switch {
	case in.Community == "":
		f["community"] = "必填"
	default:
		sub, ok := s.dir.SubDistrictOf(in.Community)
		switch {
		case !ok:
			f["community"] = "社区不存在"
		case in.SubDistrict != "" && in.SubDistrict != sub:
			f["sub_district"] = "社区不属于该街道"
		default:
			in.SubDistrict = sub
		}
	}
	if (in.Lat == nil) != (in.Lng == nil) {
		f["lat"] = "经纬度须同时填写"
	} else if in.Lat != nil {
		if !finiteIn(*in.Lat, -90, 90) {
			f["lat"] = "纬度须在 -90 到 90 之间"
		}
		if !finiteIn(*in.Lng, -180, 180) {
			f["lng"] = "经度须在 -180 到 180 之间"
		}
	}
	if utf8.RuneCountInString(in.ContactName) > maxContactName {
		f["contact_name"] = fmt.Sprintf("不能超过%d字", maxContactName)
	}
	if in.ContactPhone != "" && !auth.ValidPhone(in.ContactPhone) {
		f["contact_phone"] = "请输入11位手机号码"
	}
	switch {
	case in.Households < 0 || in.Households > maxHouseholds:
		f["households"] = fmt.Sprintf("须在 0 到 %d 之间", maxHouseholds)
	case in.Households == 0:
		in.Households = 1
	}
	if in.IdempotencyKey != "" && !idemKeyRe.MatchString(in.IdempotencyKey) {
		f["idempotency_key"] = "须为8到64位字母、数字、-或_"
	}
	if len(in.ResidentID) > 64 {
		f["resident_id"] = "无效"
	}
	if len(f) > 0 {
		return minsheng.Invalid("请检查填写的内容", f)
	}
	return nil
}

func textField(f map[string]string, name, v string, minLen, maxLen int) {
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0:
		f[name] = "必填"
	case n < minLen:
		f[name] = fmt.Sprintf("至少%d字", minLen)
	case n > maxLen:
		f[name] = fmt.Sprintf("不能超过%d字", maxLen)
	case !utf8.ValidString(v):
		f[name] = "包含无效字符"
	}
}

func finiteIn(x, lo, hi float64) bool {
	return !math.IsNaN(x) && !math.IsInf(x, 0) && x >= lo && x <= hi
}

// Submit files a case. Residents file for themselves; cadres file in their
// community on a resident's behalf, subdistrict staff in their
// sub-district; a caller without an account (zero Principal) files
// anonymously and gets the tracking token, which is returned only here
// (token is "" for everyone else). Submitting the same IdempotencyKey again
// returns the case already filed, never a second one.
//
// Errors: EINVALID with fields; EFORBIDDEN for finance, admin, or staff
// filing outside their scope.
func (s *Service) Submit(ctx context.Context, p auth.Principal, in NewCase) (c *Case, token string, err error) {
	anonymous := p.Role == ""
	if !anonymous {
		if err := p.RequireRole(auth.RoleResident, auth.RoleCadre, auth.RoleSubdistrict); err != nil {
			return nil, "", err
		}
	}
	if err := s.validate(&in); err != nil {
		return nil, "", err
	}
	if p.IsStaff() {
		if err := p.RequireAccess(in.SubDistrict, in.Community); err != nil {
			return nil, "", err
		}
	}

	// The key is stored per filer, so one resident's key cannot fetch
	// another's case.
	idem := ""
	if in.IdempotencyKey != "" {
		idem = p.UserID + ":" + in.IdempotencyKey
		if anonymous {
			idem = "anon:" + in.IdempotencyKey
		}
		if prev, err := s.byIdempotencyKey(ctx, idem); err == nil {
			return s.replay(ctx, p, prev, in.IdempotencyKey)
		} else if !errors.Is(err, minsheng.ErrNotFound) {
			return nil, "", err
		}
	}

	now := s.now()
	c = &Case{
		ID:          uuid.NewString(),
		Area:        in.Area,
		Title:       in.Title,
		Description: in.Description,
		Location: Location{SubDistrict: in.SubDistrict, Community: in.Community, Address: in.Address,
			Lat: in.Lat, Lng: in.Lng},
		FiledBy:        p.UserID,
		FiledByRole:    p.Role,
		Anonymous:      anonymous,
		IdempotencyKey: idem,
		ContactName:    in.ContactName,
		ContactPhone:   in.ContactPhone,
		Households:     in.Households,
		Public:         in.Public,
		Cosigners:      []string{},
		Photos:         []Photo{},
		Status:         StatusSubmitted,
		FiledAt:        now,
		ResponseDueAt:  now.Add(s.cfg.ResponseWindow),
		DueAt:          now.Add(s.cfg.ResponseWindow),
		SLADays:        s.cfg.DefaultSLADays,
		Version:        1,
	}
	switch p.Role {
	case auth.RoleResident:
		c.FilerID = p.UserID
	case auth.RoleCadre, auth.RoleSubdistrict:
		c.FilerID = in.ResidentID
	}
	if anonymous {
		token = s.trackingToken(in.IdempotencyKey)
		c.TokenHash = hashToken(token)
	}
	note := ""
	if p.IsStaff() {
		note = "代居民登记"
	}
	c.Timeline = []Event{s.event(p, ActSubmit, "", StatusSubmitted, note)}

	seq, err := s.st.NextSequence(ctx, "case_number_"+s.cfg.NumberPrefix+now.In(s.cfg.Zone).Format("2006"))
	if err != nil {
		return nil, "", fmt.Errorf("cases: unable to number case: %w", err)
	}
	c.Number = fmt.Sprintf("%s%s-%06d", s.cfg.NumberPrefix, now.In(s.cfg.Zone).Format("2006"), seq)

	if err := s.cases.InsertOne(ctx, c); err != nil {
		if errors.Is(err, minsheng.ErrDuplicate) && idem != "" {
			// A concurrent retry won the race; its case is the one. The
			// number drawn here is skipped, which numbering tolerates.
			prev, ferr := s.byIdempotencyKey(ctx, idem)
			if ferr == nil {
				return s.replay(ctx, p, prev, in.IdempotencyKey)
			}
		}
		return nil, "", fmt.Errorf("cases: unable to file case: %w", err)
	}
	v, err := s.view(ctx, p, c)
	return v, token, err
}

// replay answers a repeated submission with the case it made.
func (s *Service) replay(ctx context.Context, p auth.Principal, c *Case, key string) (*Case, string, error) {
	token := ""
	if c.Anonymous {
		token = s.trackingToken(key)
	}
	v, err := s.view(ctx, p, c)
	return v, token, err
}
