package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"minsheng"
	"minsheng/cases/casedb"
	"minsheng/cases/tracktoken"
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
	// Datum is the datum of Lat/Lng (location.go): wgs84 when empty. Left
	// out of hashInput, so retries of anonymous filings hash as before it.
	Datum string `json:"-"`
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
	lineText(f, "title", in.Title)
	lineText(f, "address", in.Address)
	lineText(f, "contact_name", in.ContactName)
	longText(f, "description", in.Description)
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
	checkDatum(f, in) // location.go
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

// textProblem says what is wrong with free text, "" when nothing is: bytes
// that are not UTF-8, controls (multiline text may hold \t, \n and \r),
// bidi embeddings, overrides and isolates, which can make a title display
// as something else, and text made only of spaces and invisible
// characters (zero-width space, BOM …). The HTTP decoder refuses most of
// these already; the domain refuses them for every other way in.
func textProblem(v string, multiline bool) string {
	if !utf8.ValidString(v) {
		return "包含无效字符"
	}
	visible := false
	for _, r := range v {
		switch {
		case r == utf8.RuneError:
			return "包含无效字符"
		case multiline && (r == '\t' || r == '\n' || r == '\r'):
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			if !multiline && (r == '\t' || r == '\n' || r == '\r') {
				return "不能包含换行或制表符"
			}
			return "包含控制字符"
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			return "包含文字方向控制字符"
		case invisible(r) || unicode.IsSpace(r):
		default:
			visible = true
		}
	}
	if v != "" && !visible {
		return "不能只包含空白或不可见字符"
	}
	return ""
}

// invisible reports whether r shows nothing: zero-width and format
// characters, fillers.
func invisible(r rune) bool {
	switch {
	case r >= 0x200b && r <= 0x200f, r >= 0x2060 && r <= 0x2064, r == 0xfeff, r == 0x00ad,
		r == 0x180e, r == 0x034f, r == 0x115f, r == 0x1160, r == 0x3164, r == 0xffa0:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// lineText and longText record textProblem for a one-line field and for a
// multi-line one, unless the field already has an error.
func lineText(f map[string]string, name, v string) { textRule(f, name, v, false) }
func longText(f map[string]string, name, v string) { textRule(f, name, v, true) }

func textRule(f map[string]string, name, v string, multiline bool) {
	if _, ok := f[name]; ok {
		return
	}
	if msg := textProblem(v, multiline); msg != "" {
		f[name] = msg
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
	if err := s.checkFiling(ctx, p, &in, anonymous); err != nil {
		return nil, "", err
	}
	idem, inputHash := filingIdempotencyKey(p, in, anonymous)
	now := s.now()
	c = s.newFiledCase(p, in, anonymous, idem, now)
	if anonymous {
		token = tracktoken.New()
		c.TokenHash = tracktoken.Hash(token)
		if idem != "" {
			c.TokenSealed = tracktoken.Seal(token, in.IdempotencyKey, inputHash)
		}
	}
	note := ""
	if p.IsStaff() {
		note = "代居民登记"
	}
	c.Timeline = []Event{s.event(p, ActSubmit, "", StatusSubmitted, note)}

	prefix := s.cfg.NumberPrefix + now.In(s.cfg.Zone).Format("2006")
	seq, err := s.cases.TakeNumbers(ctx, prefix, 1, c.ID)
	if err != nil {
		return nil, "", fmt.Errorf("cases: unable to number case: %w", err)
	}
	c.Number = casedb.FormatNumber(prefix, seq)

	// Written together with the filings arriving meanwhile (group
	// commit, casedb/intake.go); err is this filing's own outcome.
	if err := s.cases.File(ctx, c); err != nil {
		s.cases.Release(c.ID) // a filing its batch never wrote still holds it
		if errors.Is(err, minsheng.ErrDuplicate) && idem != "" {
			// A repeat, or a concurrent copy that won the race: the case
			// already filed is the one. The number drawn here is skipped,
			// which numbering tolerates.
			prev, ferr := s.byIdempotencyKey(ctx, idem)
			if ferr == nil {
				return s.replay(ctx, p, prev, in.IdempotencyKey, inputHash)
			}
		}
		return nil, "", fmt.Errorf("cases: unable to file case: %w", err)
	}
	v, err := s.view(ctx, p, c)
	return v, token, err
}

// checkFiling checks who files and what: the role, the filing's fields,
// and for staff the scope and the resident filed for.
func (s *Service) checkFiling(ctx context.Context, p auth.Principal, in *NewCase, anonymous bool) error {
	if !anonymous {
		if err := p.RequireRole(auth.RoleResident, auth.RoleCadre, auth.RoleSubdistrict); err != nil {
			return err
		}
	}
	if err := s.validate(in); err != nil {
		return err
	}
	if p.IsStaff() {
		if err := p.RequireAccess(in.SubDistrict, in.Community); err != nil {
			return err
		}
		if err := s.checkResident(ctx, in.ResidentID); err != nil {
			return err
		}
	}
	return nil
}

// filingIdempotencyKey returns the idempotency key a filing is stored
// under ("" without one) and, for anonymous filers, the hash of its input.
//
// The key is stored per filer, so one resident's key cannot fetch
// another's case. Anonymous filers have no account to scope it by:
// their key is bound to the filing's content, so another client reusing
// it (with other content) files a case of its own and never sees this
// one.
func filingIdempotencyKey(p auth.Principal, in NewCase, anonymous bool) (idem, inputHash string) {
	if in.IdempotencyKey == "" {
		return "", ""
	}
	idem = p.UserID + ":" + in.IdempotencyKey
	if anonymous {
		inputHash = hashInput(in)
		sum := sha256.Sum256([]byte("minsheng anon idem|" + in.IdempotencyKey + "|" + inputHash))
		idem = "anon:" + hex.EncodeToString(sum[:])
	}
	// No read first: the insert under the unique idempotency_key
	// decides, and a repeat's insert fails and answers with the case
	// already filed (Submit). Repeats rarely get here — the API layers
	// answer them from their own records (internal/idem) — so a first
	// filing, nearly every one, costs no lookup.
	return idem, inputHash
}

// newFiledCase is the case a filing makes, filed at now, before its
// tracking token, timeline and number.
func (s *Service) newFiledCase(p auth.Principal, in NewCase, anonymous bool, idem string, now time.Time) *Case {
	c := &Case{
		ID:          uuid.NewString(),
		Area:        in.Area,
		Title:       in.Title,
		Description: in.Description,
		Location: Location{SubDistrict: in.SubDistrict, Community: in.Community, Address: in.Address,
			Lat: in.Lat, Lng: in.Lng, Datum: in.Datum},
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
	return c
}

// checkResident refuses a resident_id a cadre files for that is not an
// active resident's account: the case would belong to (and be readable by)
// whoever holds that id. Empty is fine: the resident has no account.
func (s *Service) checkResident(ctx context.Context, id string) error {
	if id == "" || s.cfg.Users == nil {
		return nil
	}
	u, err := s.cfg.Users.FindUserByID(ctx, id)
	switch {
	case errors.Is(err, minsheng.ErrNotFound) || minsheng.ErrorCode(err) == minsheng.ENOTFOUND:
		return minsheng.Invalid("请检查填写的内容", map[string]string{"resident_id": "居民账号不存在"})
	case err != nil:
		return fmt.Errorf("cases: unable to look up resident: %w", err)
	case u.Role != auth.RoleResident || u.Disabled:
		return minsheng.Invalid("请检查填写的内容", map[string]string{"resident_id": "须为有效的居民账号"})
	}
	return nil
}

// replay answers a repeated submission with the case it made; an
// anonymous filer's token is read back from its sealed copy.
func (s *Service) replay(ctx context.Context, p auth.Principal, c *Case, key, inputHash string) (*Case, string, error) {
	token := ""
	if c.Anonymous && c.TokenSealed != "" {
		token = tracktoken.Open(c.TokenSealed, key, inputHash)
	}
	v, err := s.view(ctx, p, c)
	return v, token, err
}

// hashInput is a digest of a validated filing's content, without its key.
func hashInput(in NewCase) string {
	in.IdempotencyKey = ""
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
