package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/internal/sms"
)

// Residents sign in with a six-digit code sent by SMS (短信验证码). Two
// things must hold at once, and the numbers in DefaultConfig are chosen
// for both:
//
//   - A stranger must not lock a resident out. Every code sent is its own
//     document with its own attempts, so a new request never replaces the
//     code a resident is typing in; sending is limited per phone from one
//     address (2 an hour) well below the phone's cap (10 an hour), so a
//     stranger needs five addresses to use up the phone's sends; and
//     guesses are limited per phone from one address (4 an hour, below a
//     code's 5 attempts, so one address cannot even use up one code) well
//     below the phone's 25, so a stranger needs seven addresses to use up
//     the phone's guesses. These per-address limits are the Limiter's, so
//     they are as exact as its windows (a fixed window lets twice the
//     number through around its end).
//   - Brute force stays at most 25 guesses per phone in any hour, from any
//     number of addresses. A guess is one code compared (a guess checked
//     against three live codes is three chances, so it costs three). The
//     phone's guesses are counted in a ledger of OTPGuessPerPhone.N slots
//     (otp_guesses): a guess claims a slot unused for longer than the
//     window, by an insert or a conditional update of that slot alone, so
//     no window of that length ever holds more guesses than slots, on any
//     engine, whatever the limiter's windows.

// otpCode is one code sent; only its hash is kept, and a hash of the
// address that asked for it (guesses from there try it first).
type otpCode struct {
	ID        string    `bson:"_id"`
	Phone     string    `bson:"phone"`
	CodeHash  string    `bson:"code_hash"`
	From      string    `bson:"from"`
	IssuedAt  time.Time `bson:"issued_at"`
	ExpiresAt time.Time `bson:"expires_at"`
	Attempts  int64     `bson:"attempts"`
}

// guessSlot is one slot of a phone's guess ledger: At is when a guess last
// took it.
type guessSlot struct {
	ID    string    `bson:"_id"`
	Phone string    `bson:"phone"`
	At    time.Time `bson:"at"`
}

// maxOTPAttempts is how many guesses one code allows.
const maxOTPAttempts = 5

// RequestOTP sends a six-digit sign-in code to a resident's phone. Codes
// already sent stay valid. Sends are limited per address, per phone from
// one address and per phone, in that order, so requests refused for one
// address do not count against the phone. ERATELIMITED states the wait.
func (s *Service) RequestOTP(ctx context.Context, phone, ip string) error {
	if !ValidPhone(phone) {
		return minsheng.Invalid("手机号格式不正确", map[string]string{"phone": "请输入11位手机号"})
	}
	if err := s.limiter.AllowAs(ctx, "otp-ip:"+ip, s.cfg.OTPPerIP, "获取验证码过于频繁"); err != nil {
		return err
	}
	if err := s.limiter.AllowAs(ctx, "otp-phone-ip:"+phone+"|"+ip, s.cfg.OTPPerPhoneIP, "获取验证码过于频繁"); err != nil {
		return err
	}
	if err := s.limiter.AllowAs(ctx, "otp-phone:"+phone, s.cfg.OTPPerPhone, "该手机号获取验证码过于频繁"); err != nil {
		return err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return fmt.Errorf("auth: unable to draw code: %w", err)
	}
	code := fmt.Sprintf("%06d", n.Int64())
	if fixed, ok := s.cfg.FixedCodes[phone]; ok {
		code = fixed
	}
	now := s.cfg.Now().UTC()
	doc := otpCode{ID: uuid.NewString(), Phone: phone, CodeHash: sha256Hex(phone + ":" + code), From: sha256Hex(ip),
		IssuedAt: now, ExpiresAt: now.Add(s.cfg.OTPTTL)}
	if err := s.otps.InsertOne(ctx, doc); err != nil {
		return fmt.Errorf("auth: unable to store code: %w", err)
	}
	// With the outbox the code is queued (the worker is woken at once and
	// sends it first); its id is the stored code's, so one request is one
	// message, and it is given up when the code expires.
	msg, err := sms.New("otp:"+doc.ID, sms.KindOTP, phone, map[string]string{"code": code, "minutes": strconv.Itoa(int(s.cfg.OTPTTL.Minutes()))})
	if err != nil {
		return err
	}
	msg.Expires = doc.ExpiresAt
	if _, err := sms.Dispatch(ctx, s.cfg.SMS, msg); err != nil {
		return fmt.Errorf("auth: unable to send code: %w", err)
	}
	return nil
}

var errBadOTP = minsheng.Errorf(minsheng.EUNAUTHORIZED, "验证码错误或已过期")

// VerifyOTP signs a resident in with a code sent to phone, creating the
// resident's account on first sign-in. The code is compared with the
// phone's live codes — those asked for from this address first, then the
// oldest — each comparison costing one of the code's five attempts and one
// guess of the phone's and of this address's; a code works once.
// EUNAUTHORIZED for a wrong or expired code, ERATELIMITED with the wait
// when the guesses are used up.
func (s *Service) VerifyOTP(ctx context.Context, phone, code, ip string) (Tokens, error) {
	if !ValidPhone(phone) || len(code) != 6 {
		f := map[string]string{}
		if !ValidPhone(phone) {
			f["phone"] = "请输入11位手机号"
		}
		if len(code) != 6 {
			f["code"] = "请输入6位验证码"
		}
		return Tokens{}, minsheng.Invalid("手机号或验证码格式不正确", f)
	}
	if err := s.limiter.Allow(ctx, "otp-verify-ip:"+ip, s.cfg.LoginPerIP); err != nil {
		return Tokens{}, err
	}
	live, err := s.liveCodes(ctx, phone, ip)
	if err != nil {
		return Tokens{}, err
	}
	guess := sha256Hex(phone + ":" + code)
	for _, c := range live {
		// Count the guess before comparing: of racing guesses, only
		// those the ledger admits are ever compared.
		if err := s.limiter.AllowAs(ctx, "otp-guess:"+phone+"|"+ip, s.cfg.OTPGuessPerPhoneIP, "验证码尝试过于频繁"); err != nil {
			return Tokens{}, err
		}
		if err := s.claimGuess(ctx, phone); err != nil {
			return Tokens{}, err
		}
		matched, err := s.otps.UpdateOne(ctx,
			bson.M{"_id": c.ID, "attempts": bson.M{"$lt": int64(maxOTPAttempts)}},
			bson.M{"$inc": bson.M{"attempts": int64(1)}})
		if err != nil {
			return Tokens{}, fmt.Errorf("auth: unable to check code: %w", err)
		}
		if matched == 0 || s.cfg.Now().After(c.ExpiresAt) ||
			subtle.ConstantTimeCompare([]byte(c.CodeHash), []byte(guess)) != 1 {
			continue
		}
		// Deleting is what makes the code one-time: of two racing
		// verifications only the one that deletes it signs in.
		deleted, err := s.otps.DeleteOne(ctx, bson.M{"_id": c.ID})
		if err != nil {
			return Tokens{}, fmt.Errorf("auth: unable to use up code: %w", err)
		}
		if !deleted {
			return Tokens{}, errBadOTP
		}
		u, err := s.residentByPhone(ctx, phone)
		if err != nil {
			return Tokens{}, err
		}
		if u.Disabled {
			return Tokens{}, minsheng.Errorf(minsheng.EFORBIDDEN, "账号已停用，请联系管理员")
		}
		return s.issue(ctx, u, uuid.NewString())
	}
	return Tokens{}, errBadOTP
}

// liveCodes returns phone's codes that have not expired and have attempts
// left, those asked for from ip first, then the oldest first: a stranger
// asks for codes after the resident, so the resident's is tried early from
// any address.
func (s *Service) liveCodes(ctx context.Context, phone, ip string) ([]otpCode, error) {
	var all []otpCode
	if err := s.otps.FindAll(ctx, bson.M{"phone": phone}, &all); err != nil {
		return nil, fmt.Errorf("auth: unable to find codes: %w", err)
	}
	now := s.cfg.Now()
	from := sha256Hex(ip)
	live := all[:0]
	for _, c := range all {
		if !now.After(c.ExpiresAt) && c.Attempts < maxOTPAttempts {
			live = append(live, c)
		}
	}
	sort.SliceStable(live, func(i, j int) bool {
		if (live[i].From == from) != (live[j].From == from) {
			return live[i].From == from
		}
		return live[i].IssuedAt.Before(live[j].IssuedAt)
	})
	return live, nil
}

// claimGuess takes one slot of phone's guess ledger, or returns
// ERATELIMITED with the time until the oldest slot frees. A slot is free
// when missing or last taken more than the window ago; taking it is an
// insert (unique _id) or an update conditional on the time read, so two
// racing guesses never share a slot.
func (s *Service) claimGuess(ctx context.Context, phone string) error {
	lim := s.cfg.OTPGuessPerPhone
	var slots []guessSlot
	if err := s.guesses.FindAll(ctx, bson.M{"phone": phone}, &slots); err != nil {
		return fmt.Errorf("auth: unable to read guesses: %w", err)
	}
	taken := make(map[string]time.Time, len(slots))
	for _, g := range slots {
		taken[g.ID] = g.At
	}
	now := s.cfg.Now().UTC()
	var lastErr error
	oldest := now
	for i := int64(0); i < lim.N; i++ {
		id := phone + "|" + strconv.FormatInt(i, 10)
		at, ok := taken[id]
		if !ok {
			err := s.guesses.InsertOne(ctx, guessSlot{ID: id, Phone: phone, At: now})
			if err == nil {
				return nil
			}
			if !errors.Is(err, minsheng.ErrDuplicate) {
				// MongoDB may answer a write conflict here; another
				// slot may still be free.
				lastErr = err
			}
			continue
		}
		if now.Sub(at) <= lim.Window {
			if at.Before(oldest) {
				oldest = at
			}
			continue
		}
		matched, err := s.guesses.UpdateOne(ctx, bson.M{"_id": id, "at": at}, bson.M{"$set": bson.M{"at": now}})
		if err != nil {
			lastErr = err
			continue
		}
		if matched == 1 {
			return nil
		}
	}
	if lastErr != nil {
		return fmt.Errorf("auth: unable to count guess: %w", lastErr)
	}
	wait := oldest.Add(lim.Window).Sub(now)
	if wait <= 0 {
		wait = time.Second // lost every race for a free slot
	}
	return rateLimited("该手机号验证码尝试过于频繁", wait)
}

// SweepCodes deletes sign-in codes and guess slots older than any limit
// that reads them. serve calls it with the limiter's sweep.
func (s *Service) SweepCodes(ctx context.Context) error {
	now := s.cfg.Now().UTC()
	if _, err := s.otps.DeleteMany(ctx, bson.M{"expires_at": bson.M{"$lt": now.Add(-time.Hour)}}); err != nil {
		return fmt.Errorf("auth: unable to sweep codes: %w", err)
	}
	if _, err := s.guesses.DeleteMany(ctx, bson.M{"at": bson.M{"$lt": now.Add(-s.cfg.OTPGuessPerPhone.Window)}}); err != nil {
		return fmt.Errorf("auth: unable to sweep guesses: %w", err)
	}
	return nil
}

func (s *Service) residentByPhone(ctx context.Context, phone string) (User, error) {
	var u User
	err := s.users.FindOne(ctx, bson.M{"phone": phone, "role": RoleResident}, &u)
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, minsheng.ErrNotFound) {
		return User{}, fmt.Errorf("auth: unable to find resident: %w", err)
	}
	u, err = s.CreateUser(ctx, NewUser{Role: RoleResident, Phone: phone, Name: "居民" + phone[len(phone)-4:]})
	if minsheng.ErrorCode(err) == minsheng.ECONFLICT {
		// Created by a concurrent first sign-in.
		if err := s.users.FindOne(ctx, bson.M{"phone": phone, "role": RoleResident}, &u); err != nil {
			return User{}, fmt.Errorf("auth: unable to find resident: %w", err)
		}
		return u, nil
	}
	return u, err
}
