package cases

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"minsheng"
	"minsheng/cases/casedb"
	"minsheng/cases/caseinput"
	"minsheng/cases/tracktoken"
	"minsheng/internal/auth"
)

// maxHouseholds bounds the households a case or an assessment names
// (caseinput holds the input limits and the rules of free text).
const maxHouseholds = caseinput.MaxHouseholds

// note checks a step's note and invalid names the fields found wrong
// (caseinput.Note, caseinput.Invalid).
var (
	note    = caseinput.Note
	invalid = caseinput.Invalid
)

// NewCase is the input to Submit; package caseinput holds its rules.
type NewCase = caseinput.NewCase

// validate trims in and returns EINVALID naming every bad field.
func (s *Service) validate(in *NewCase) error { return caseinput.Check(in, s.dir, AreaName) }

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
	idem, inputHash := caseinput.FilingKey(p, in, anonymous)
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

// newFiledCase is the case a filing makes, filed at now, before its
// tracking token, timeline and number.
func (s *Service) newFiledCase(p auth.Principal, in NewCase, anonymous bool, idem string, now time.Time) *Case {
	c := &Case{
		ID:          uuid.NewString(),
		Area:        in.Area,
		Title:       in.Title,
		Description: in.Description,
		Location: Location{SubDistrict: in.SubDistrict, Community: in.Community, Address: in.Address,
			Lat: in.Lat, Lng: in.Lng, Datum: in.Datum, AccuracyM: in.AccuracyM},
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
// active resident's account (caseinput.CheckResident).
func (s *Service) checkResident(ctx context.Context, id string) error {
	if s.cfg.Users == nil {
		return nil
	}
	return caseinput.CheckResident(ctx, s.cfg.Users, id)
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
