// Package caseinput holds the rules of what people type into casework: a
// filing (NewCase) and its limits, free text (no bytes that are not UTF-8,
// no controls or bidi overrides, not only invisible characters; one-line
// fields without line breaks), positions and their datum (坐标系), and the
// idempotency key a filing is stored under. Casework (package cases) calls
// these rules for filings, imports, notes, filters and searches, so each
// is written once.
//
// Errors: EINVALID (minsheng) naming every bad field.
package caseinput

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
	"unicode/utf8"

	"minsheng"
	"minsheng/internal/auth"
)

// Input limits, in characters.
const (
	MaxTitle       = 50
	MinTitle       = 2
	MaxDescription = 2000
	MaxAddress     = 200
	MaxContactName = 20
	MaxNote        = 500
	MaxHouseholds  = 100000
)

// NewCase is the input to a filing.
type NewCase struct {
	Area        string
	Title       string
	Description string
	// SubDistrict may be left empty: the community decides it.
	SubDistrict string
	Community   string
	Address     string
	Lat, Lng    *float64
	// Datum is the datum of Lat/Lng (CheckDatum): wgs84 when empty. Left
	// out of Hash, so retries of anonymous filings hash as before it.
	Datum string `json:"-"`
	// AccuracyM is the position's accuracy in metres (CheckDatum bounds
	// it), kept in the case's location; left out of Hash like Datum.
	AccuracyM *int `json:"-"`
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

// Places is what a filing's check needs to know of the district;
// org.Directory has it.
type Places interface {
	SubDistrictOf(community string) (string, bool)
}

var idemKeyRe = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// Check trims in, fills its sub-district from the community, and returns
// EINVALID naming every bad field. areaName names an area code, "" for an
// unknown one.
func Check(in *NewCase, places Places, areaName func(string) string) error {
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
	case areaName(in.Area) == "":
		f["area"] = "领域不存在"
	}
	Field(f, "title", in.Title, MinTitle, MaxTitle)
	Field(f, "description", in.Description, 1, MaxDescription)
	Field(f, "address", in.Address, 1, MaxAddress)
	Line(f, "title", in.Title)
	Line(f, "address", in.Address)
	Line(f, "contact_name", in.ContactName)
	Long(f, "description", in.Description)
	switch {
	case in.Community == "":
		f["community"] = "必填"
	default:
		sub, ok := places.SubDistrictOf(in.Community)
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
	CheckDatum(f, in)
	if utf8.RuneCountInString(in.ContactName) > MaxContactName {
		f["contact_name"] = fmt.Sprintf("不能超过%d字", MaxContactName)
	}
	if in.ContactPhone != "" && !auth.ValidPhone(in.ContactPhone) {
		f["contact_phone"] = "请输入11位手机号码"
	}
	switch {
	case in.Households < 0 || in.Households > MaxHouseholds:
		f["households"] = fmt.Sprintf("须在 0 到 %d 之间", MaxHouseholds)
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

func finiteIn(x, lo, hi float64) bool {
	return !math.IsNaN(x) && !math.IsInf(x, 0) && x >= lo && x <= hi
}

// Coordinate datums (坐标系) a case's position may be given in. Browsers'
// Geolocation API and camera EXIF give WGS-84; Chinese map SDKs (AMap,
// Tencent) give GCJ-02, which is offset from WGS-84 by up to several
// hundred metres, so a position is meaningless without its datum.
const (
	DatumWGS84 = "wgs84"
	DatumGCJ02 = "gcj02"
)

// MaxAccuracyM bounds a position's stated accuracy (100 km).
const MaxAccuracyM = 100000

// CheckDatum normalises in.Datum and names a bad one in f: WGS-84 when a
// position comes without one (what browsers give), nothing without a
// position (nor an accuracy).
func CheckDatum(f map[string]string, in *NewCase) {
	in.Datum = strings.ToLower(strings.TrimSpace(in.Datum))
	switch in.Datum {
	case "", DatumWGS84, DatumGCJ02:
	default:
		f["datum"] = "坐标系须为 wgs84（GPS）或 gcj02（国测局）"
		return
	}
	if in.AccuracyM != nil && (*in.AccuracyM < 0 || *in.AccuracyM > MaxAccuracyM) {
		f["gps_accuracy"] = "须在 0 到 100000 米之间"
	}
	switch {
	case in.Lat == nil:
		in.Datum, in.AccuracyM = "", nil
	case in.Datum == "":
		in.Datum = DatumWGS84
	}
}

// FilingKey returns the idempotency key a filing is stored under ("" without
// one) and, for anonymous filers, the hash of its input.
//
// The key is stored per filer, so one resident's key cannot fetch
// another's case. Anonymous filers have no account to scope it by:
// their key is bound to the filing's content, so another client reusing
// it (with other content) files a case of its own and never sees this
// one.
func FilingKey(p auth.Principal, in NewCase, anonymous bool) (idem, inputHash string) {
	if in.IdempotencyKey == "" {
		return "", ""
	}
	idem = p.UserID + ":" + in.IdempotencyKey
	if anonymous {
		inputHash = Hash(in)
		sum := sha256.Sum256([]byte("minsheng anon idem|" + in.IdempotencyKey + "|" + inputHash))
		idem = "anon:" + hex.EncodeToString(sum[:])
	}
	// No read first: the insert under the unique idempotency_key
	// decides, and a repeat's insert fails and answers with the case
	// already filed (cases.Service.Submit). Repeats rarely get here — the
	// API layers answer them from their own records (internal/idem) — so
	// a first filing, nearly every one, costs no lookup.
	return idem, inputHash
}

// Hash is a digest of a validated filing's content, without its key.
func Hash(in NewCase) string {
	in.IdempotencyKey = ""
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Users finds an account; auth.Service has it.
type Users interface {
	FindUserByID(ctx context.Context, id string) (auth.User, error)
}

// CheckResident refuses a resident_id a cadre files for that is not an
// active resident's account: the case would belong to (and be readable by)
// whoever holds that id. Empty is fine: the resident has no account.
func CheckResident(ctx context.Context, users Users, id string) error {
	if id == "" {
		return nil
	}
	u, err := users.FindUserByID(ctx, id)
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
