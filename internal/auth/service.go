package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/crypto/bcrypt"

	"minsheng"
	"minsheng/internal/org"
	"minsheng/internal/store"
)

// Config tunes the auth service.
type Config struct {
	Secret     []byte
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	OTPTTL     time.Duration
	// RevocationRefresh is how often each instance reloads revoked token
	// versions: a disabled or re-scoped user's access tokens stop working
	// everywhere within it. Default 2 s.
	RevocationRefresh time.Duration
	// BcryptCost is bcrypt.DefaultCost in production; tests lower it.
	BcryptCost int
	// LoginPerIP bounds failed sign-ins from one address, whatever the
	// accounts; Lockout is what wrong passwords cost an account+address.
	LoginPerIP Limit
	Lockout    Lockout
	// Sign-in codes (otp.go): codes sent per phone, per phone from one
	// address, and per address whatever the phones.
	OTPPerPhone, OTPPerPhoneIP, OTPPerIP Limit
	// Guesses, each one code compared: per phone (exact over any rolling
	// window, the brute-force bound) and per phone from one address (so
	// a stranger needs many addresses to use up the phone's).
	OTPGuessPerPhone, OTPGuessPerPhoneIP Limit
	// Filings and photo uploads: per signed-in user, per address for
	// signed-in callers (many share a carrier's or an office's address),
	// and per address for anonymous filers.
	FilePerUser, FilePerIP, FileAnonymousPerIP Limit
	UploadPerUser, UploadPerIP                 Limit
	Now                                        func() time.Time
	SMS                                        SMSSender
	Logger                                     *slog.Logger
	// FixedCodes gives phones a fixed sign-in code instead of a random
	// one: the demo resident's, set by cmd in demo mode only.
	FixedCodes map[string]string

	// Searches (similar cases, free text in case lists; AllowSearch): per
	// signed-in user, per address for signed-in callers, and per address
	// for anonymous ones.
	SearchPerUser, SearchPerIP, SearchAnonymousPerIP Limit
}

// DefaultConfig returns production settings around secret.
func DefaultConfig(secret []byte, logger *slog.Logger) Config {
	return Config{
		Secret:             secret,
		AccessTTL:          15 * time.Minute,
		RefreshTTL:         30 * 24 * time.Hour,
		OTPTTL:             5 * time.Minute,
		RevocationRefresh:  2 * time.Second,
		BcryptCost:         bcrypt.DefaultCost,
		LoginPerIP:         Limit{N: 60, Window: 15 * time.Minute},
		Lockout:            DefaultLockout,
		OTPPerPhone:        Limit{N: 10, Window: time.Hour},
		OTPPerPhoneIP:      Limit{N: 2, Window: time.Hour},
		OTPPerIP:           Limit{N: 30, Window: time.Hour},
		OTPGuessPerPhone:   Limit{N: 25, Window: time.Hour},
		OTPGuessPerPhoneIP: Limit{N: 4, Window: time.Hour},
		FilePerUser:        Limit{N: 60, Window: time.Hour},
		FilePerIP:          Limit{N: 600, Window: time.Hour},
		FileAnonymousPerIP: Limit{N: 60, Window: time.Hour},
		UploadPerUser:      Limit{N: 200, Window: time.Hour},
		UploadPerIP:        Limit{N: 1000, Window: time.Hour},
		Logger:             logger,

		SearchPerUser:        Limit{N: 60, Window: time.Minute},
		SearchPerIP:          Limit{N: 120, Window: time.Minute},
		SearchAnonymousPerIP: Limit{N: 60, Window: time.Minute},
	}
}

// Service signs users in and out and manages accounts.
type Service struct {
	cfg     Config
	users   *store.Collection
	refresh *store.Collection
	otps    *store.Collection
	guesses *store.Collection
	limiter *Limiter
	revoked *revocations
	org     *org.Directory
}

// Collections and the indexes their queries need.
const (
	usersCollection    = "users"
	refreshCollection  = "refresh_tokens"
	otpCollection      = "otp_codes"
	otpGuessCollection = "otp_guesses"
)

// Indexes are the indexes auth's queries need.
var Indexes = []store.Index{
	{Collection: usersCollection, Name: "username_unique", Keys: bson.D{{Key: "username", Value: 1}}, Unique: true, Sparse: true},
	{Collection: usersCollection, Name: "phone_unique", Keys: bson.D{{Key: "phone", Value: 1}}, Unique: true, Sparse: true},
	{Collection: usersCollection, Name: "scope", Keys: bson.D{{Key: "community", Value: 1}, {Key: "role", Value: 1}}},
	{Collection: refreshCollection, Name: "family", Keys: bson.D{{Key: "family", Value: 1}}},
	{Collection: refreshCollection, Name: "user", Keys: bson.D{{Key: "user_id", Value: 1}}},
	{Collection: usersCollection, Name: "list", Keys: bson.D{{Key: "role", Value: 1}, {Key: "_id", Value: 1}}},
	{Collection: revocationsCollection, Name: "expires", Keys: bson.D{{Key: "expires_at", Value: 1}}},
	{Collection: rateLimitCollection, Name: "expires", Keys: bson.D{{Key: "expires_at", Value: 1}}},
	{Collection: otpCollection, Name: "phone", Keys: bson.D{{Key: "phone", Value: 1}}},
	{Collection: otpCollection, Name: "expires", Keys: bson.D{{Key: "expires_at", Value: 1}}},
	{Collection: otpGuessCollection, Name: "phone", Keys: bson.D{{Key: "phone", Value: 1}}},
	{Collection: otpGuessCollection, Name: "at", Keys: bson.D{{Key: "at", Value: 1}}},
}

// NewService returns an auth service on st. dir validates scopes.
func NewService(st *store.Store, dir *org.Directory, cfg Config) (*Service, error) {
	if len(cfg.Secret) < 32 {
		return nil, errors.New("auth: secret must be at least 32 bytes")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SMS == nil {
		cfg.SMS = LogSender{Logger: cfg.Logger}
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcrypt.DefaultCost
	}
	if cfg.RevocationRefresh <= 0 {
		cfg.RevocationRefresh = 2 * time.Second
	}
	return &Service{
		cfg:     cfg,
		users:   st.Collection(usersCollection),
		refresh: st.Collection(refreshCollection),
		otps:    st.Collection(otpCollection),
		guesses: st.Collection(otpGuessCollection),
		limiter: NewLimiter(st, cfg.Now),
		revoked: newRevocations(st, cfg.RevocationRefresh),
		org:     dir,
	}, nil
}

// Limiter returns the service's rate limiter, for other endpoints to share.
func (s *Service) Limiter() *Limiter { return s.limiter }

// User is an account.
type User struct {
	ID           string    `bson:"_id" json:"id"`
	Username     string    `bson:"username,omitempty" json:"username,omitempty"`
	Phone        string    `bson:"phone,omitempty" json:"phone,omitempty"`
	Name         string    `bson:"name" json:"name"`
	Role         Role      `bson:"role" json:"role"`
	SubDistrict  string    `bson:"sub_district,omitempty" json:"sub_district,omitempty"`
	Community    string    `bson:"community,omitempty" json:"community,omitempty"`
	PasswordHash string    `bson:"password_hash,omitempty" json:"-"`
	Disabled     bool      `bson:"disabled" json:"disabled"`
	CreatedAt    time.Time `bson:"created_at" json:"created_at"`
	// UpdatedAt is the last change by an admin (disable, role, scope,
	// password); nil if none.
	UpdatedAt *time.Time `bson:"updated_at,omitempty" json:"updated_at,omitempty"`
	// TokenVersion rises with every such change; tokens issued under an
	// older one are void (revoke.go).
	TokenVersion int64 `bson:"token_version" json:"-"`
}

// Principal returns what a token for u says.
func (u User) Principal() Principal {
	return Principal{UserID: u.ID, Name: u.Name, Role: u.Role, SubDistrict: u.SubDistrict, Community: u.Community}
}

// NewUser is the input to CreateUser. Scope is a community code for a
// cadre, a sub-district code for subdistrict staff, empty otherwise.
type NewUser struct {
	Username string
	Password string
	Name     string
	Role     Role
	Scope    string
	Phone    string
}

var (
	usernameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{2,31}$`)
	phoneRe    = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
)

// ValidPhone reports whether phone is a mainland mobile number.
func ValidPhone(phone string) bool { return phoneRe.MatchString(phone) }

// CreateUser validates and stores a new account. EINVALID names the bad
// fields; ECONFLICT when the username or phone is taken.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (User, error) {
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	in.Name = strings.TrimSpace(in.Name)
	fields := map[string]string{}
	u := User{ID: uuid.NewString(), Username: in.Username, Phone: in.Phone, Name: in.Name, Role: in.Role, CreatedAt: s.cfg.Now().UTC()}
	if !in.Role.Valid() {
		fields["role"] = "角色必须是 resident、cadre、subdistrict、finance 或 admin"
	}
	if in.Role == RoleResident {
		if !ValidPhone(in.Phone) {
			fields["phone"] = "请输入11位手机号"
		}
	} else {
		if !usernameRe.MatchString(in.Username) {
			fields["username"] = "用户名为3–32位小写字母、数字或 _ . -"
		}
		if len(in.Password) < 8 || len(in.Password) > 72 {
			fields["password"] = "密码长度须为8–72个字符"
		}
		if in.Phone != "" {
			// The phone is a resident's sign-in identity (OTP); a staff
			// account must never be reachable through it.
			fields["phone"] = "工作人员账号不绑定登录手机号"
		}
	}
	if in.Name == "" {
		u.Name = in.Username
		if u.Name == "" {
			u.Name = MaskPhone(in.Phone)
		}
	}
	if len([]rune(u.Name)) > 50 {
		fields["name"] = "姓名不能超过50个字"
	}
	switch in.Role {
	case RoleCadre:
		c, err := s.org.Community(in.Scope)
		if err != nil {
			fields["scope"] = "社区干部须指定所属社区代码"
		} else {
			u.Community, u.SubDistrict = c.Code, c.SubDistrictCode
		}
	case RoleSubdistrict:
		sd, err := s.org.SubDistrict(in.Scope)
		if err != nil {
			fields["scope"] = "街道工作人员须指定所属街道代码"
		} else {
			u.SubDistrict = sd.Code
		}
	default:
		if in.Scope != "" {
			fields["scope"] = "该角色不设范围"
		}
	}
	if len(fields) > 0 {
		return User{}, minsheng.Invalid("账号信息有误", fields)
	}
	if in.Password != "" {
		h, err := hashPassword(in.Password, s.cfg.BcryptCost)
		if err != nil {
			return User{}, err
		}
		u.PasswordHash = h
	}
	if err := s.users.InsertOne(ctx, u); err != nil {
		if errors.Is(err, minsheng.ErrDuplicate) {
			return User{}, minsheng.Errorf(minsheng.ECONFLICT, "用户名或手机号已被使用")
		}
		return User{}, fmt.Errorf("auth: unable to create user: %w", err)
	}
	return u, nil
}

// FindUserByID returns the user with id; ENOTFOUND if none.
func (s *Service) FindUserByID(ctx context.Context, id string) (User, error) {
	var u User
	if err := s.users.FindOne(ctx, bson.M{"_id": id}, &u); err != nil {
		return User{}, fmt.Errorf("auth: unable to find user: %w", err)
	}
	return u, nil
}

// FindStaff lists the staff accounts of a community or sub-district that p
// may see; EFORBIDDEN outside p's scope.
func (s *Service) FindStaff(ctx context.Context, p Principal, subDistrict, community string) ([]User, error) {
	if !p.IsStaff() {
		return nil, minsheng.Errorf(minsheng.EFORBIDDEN, "居民无权查看工作人员名单")
	}
	if community != "" {
		c, err := s.org.Community(community)
		if err != nil {
			return nil, err
		}
		subDistrict = c.SubDistrictCode
	}
	if err := p.RequireAccess(subDistrict, community); err != nil {
		return nil, err
	}
	filter := bson.M{"role": bson.M{"$in": []Role{RoleCadre, RoleSubdistrict}}, "sub_district": subDistrict}
	if community != "" {
		filter = bson.M{"role": RoleCadre, "community": community}
	}
	out := []User{}
	if err := s.users.FindAll(ctx, filter, &out); err != nil {
		return nil, fmt.Errorf("auth: unable to list staff: %w", err)
	}
	return out, nil
}

// EnsureAdmin creates the "admin" account if it does not exist, with
// password or, when empty, a random one that is returned to be shown once.
func (s *Service) EnsureAdmin(ctx context.Context, password string) (created bool, generated string, err error) {
	n, err := s.users.Count(ctx, bson.M{"username": "admin"})
	if err != nil || n > 0 {
		return false, "", err
	}
	if password == "" {
		password = RandomPassword()
		generated = password
	}
	_, err = s.CreateUser(ctx, NewUser{Username: "admin", Password: password, Name: "系统管理员", Role: RoleAdmin})
	if errors.Is(err, minsheng.ErrDuplicate) || minsheng.ErrorCode(err) == minsheng.ECONFLICT {
		return false, "", nil // another instance created it first
	}
	if err != nil {
		return false, "", err
	}
	return true, generated, nil
}

// Tokens is what a successful sign-in returns.
type Tokens struct {
	AccessToken  string    `json:"access_token"`
	ExpiresAt    time.Time `json:"expires_at"`
	RefreshToken string    `json:"refresh_token"`
	TokenType    string    `json:"token_type"`
	User         User      `json:"user"`
}

var errBadCredentials = minsheng.Errorf(minsheng.EUNAUTHORIZED, "用户名或密码错误")

// Login checks a staff password. Attempts are limited per IP, and wrong
// passwords lock out one account from one address with exponential
// backoff (Lockout); both give ERATELIMITED stating the real wait. A wrong
// name or password gives the same EUNAUTHORIZED.
func (s *Service) Login(ctx context.Context, username, password, ip string) (Tokens, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	if username == "" || password == "" {
		f := map[string]string{}
		if username == "" {
			f["username"] = "必填"
		}
		if password == "" {
			f["password"] = "必填"
		}
		return Tokens{}, minsheng.Invalid("请输入用户名和密码", f)
	}
	// Only failures count against the address: a busy office behind one
	// address signs in all morning, a credential-stuffing one is stopped.
	if err := s.limiter.Full(ctx, "login-ip-fail:"+ip, s.cfg.LoginPerIP, "登录失败次数过多"); err != nil {
		return Tokens{}, err
	}
	// A locked-out address gets no password check at all, so guessing on
	// during the lock learns nothing; simultaneous guesses wait for the
	// one check in progress.
	failures, err := s.claimCheck(ctx, username, ip)
	if err != nil {
		return Tokens{}, err
	}
	var u User
	err = s.users.FindOne(ctx, bson.M{"username": username}, &u)
	if err != nil && !errors.Is(err, minsheng.ErrNotFound) {
		s.releaseCheck(ctx, failures)
		return Tokens{}, fmt.Errorf("auth: unable to find user: %w", err)
	}
	hash := u.PasswordHash
	if hash == "" {
		// Unknown names and password-less accounts cost the same time
		// and the same failure count as a wrong password.
		hash = string(dummyHash)
	}
	ok, err := checkPassword(hash, password)
	if err != nil {
		s.releaseCheck(ctx, failures)
		return Tokens{}, err
	}
	if !ok || u.PasswordHash == "" {
		if err := s.limiter.Count(ctx, "login-ip-fail:"+ip, s.cfg.LoginPerIP); err != nil {
			s.releaseCheck(ctx, failures)
			return Tokens{}, err
		}
		lock, err := s.recordFailure(ctx, username, ip, failures)
		if err != nil {
			return Tokens{}, err
		}
		if lock > 0 {
			return Tokens{}, errLocked(lock)
		}
		return Tokens{}, errBadCredentials
	}
	if err := s.forgetFailures(ctx, username, ip); err != nil {
		return Tokens{}, err
	}
	if u.Disabled {
		return Tokens{}, minsheng.Errorf(minsheng.EFORBIDDEN, "账号已停用，请联系管理员")
	}
	return s.issue(ctx, u, uuid.NewString())
}

// refreshToken is a stored refresh token. The client holds "<id>.<secret>";
// only the secret's hash is kept. Tokens of one sign-in share a family so a
// reused (stolen) one revokes them all.
type refreshToken struct {
	ID         string     `bson:"_id"`
	Family     string     `bson:"family"`
	UserID     string     `bson:"user_id"`
	SecretHash string     `bson:"secret_hash"`
	CreatedAt  time.Time  `bson:"created_at"`
	ExpiresAt  time.Time  `bson:"expires_at"`
	Used       bool       `bson:"used"`
	UsedAt     *time.Time `bson:"used_at,omitempty"`
	Revoked    bool       `bson:"revoked"`
	// TokenVersion is the user's when issued; an older one than the
	// user's current is refused even if revoking it was interrupted.
	TokenVersion int64 `bson:"token_version"`
}

func (s *Service) issue(ctx context.Context, u User, family string) (Tokens, error) {
	now := s.cfg.Now()
	access, exp, err := s.signAccess(u.Principal(), u.TokenVersion, now)
	if err != nil {
		return Tokens{}, err
	}
	id, secret := uuid.NewString(), randomToken(32)
	rt := refreshToken{ID: id, Family: family, UserID: u.ID, SecretHash: sha256Hex(secret), CreatedAt: now.UTC(),
		ExpiresAt: now.Add(s.cfg.RefreshTTL).UTC(), TokenVersion: u.TokenVersion}
	if err := s.refresh.InsertOne(ctx, rt); err != nil {
		return Tokens{}, fmt.Errorf("auth: unable to store refresh token: %w", err)
	}
	return Tokens{AccessToken: access, ExpiresAt: exp.UTC(), RefreshToken: id + "." + secret, TokenType: "Bearer", User: u}, nil
}

var errBadRefresh = minsheng.Errorf(minsheng.EUNAUTHORIZED, "登录已失效，请重新登录")

func (s *Service) findRefresh(ctx context.Context, token string) (refreshToken, error) {
	id, secret, ok := strings.Cut(token, ".")
	if !ok || id == "" || secret == "" {
		return refreshToken{}, errBadRefresh
	}
	var rt refreshToken
	if err := s.refresh.FindOne(ctx, bson.M{"_id": id}, &rt); err != nil {
		if errors.Is(err, minsheng.ErrNotFound) {
			return refreshToken{}, errBadRefresh
		}
		return refreshToken{}, fmt.Errorf("auth: unable to find refresh token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(rt.SecretHash), []byte(sha256Hex(secret))) != 1 {
		return refreshToken{}, errBadRefresh
	}
	return rt, nil
}

// Refresh exchanges a refresh token for new tokens; the old one is used up.
// Presenting a used token again means it was copied: the whole family is
// revoked and the caller must sign in again.
func (s *Service) Refresh(ctx context.Context, token string) (Tokens, error) {
	rt, err := s.findRefresh(ctx, token)
	if err != nil {
		return Tokens{}, err
	}
	now := s.cfg.Now()
	if rt.Revoked || now.After(rt.ExpiresAt) {
		return Tokens{}, errBadRefresh
	}
	// One conditional update decides which of two racing presenters wins.
	matched, err := s.refresh.UpdateOne(ctx,
		bson.M{"_id": rt.ID, "used": false, "revoked": false},
		bson.M{"$set": bson.M{"used": true, "used_at": now.UTC()}})
	if err != nil {
		return Tokens{}, fmt.Errorf("auth: unable to rotate refresh token: %w", err)
	}
	if matched == 0 {
		if err := s.revokeFamily(ctx, rt.Family); err != nil {
			return Tokens{}, err
		}
		s.cfg.Logger.WarnContext(ctx, "refresh token reused; family revoked", "user_id", rt.UserID, "family", rt.Family)
		return Tokens{}, minsheng.Errorf(minsheng.EUNAUTHORIZED, "登录凭证被重复使用，已全部注销，请重新登录")
	}
	u, err := s.FindUserByID(ctx, rt.UserID)
	if err != nil {
		return Tokens{}, errBadRefresh
	}
	if u.Disabled {
		return Tokens{}, minsheng.Errorf(minsheng.EFORBIDDEN, "账号已停用，请联系管理员")
	}
	if rt.TokenVersion < u.TokenVersion {
		return Tokens{}, errRevoked
	}
	return s.issue(ctx, u, rt.Family)
}

func (s *Service) revokeFamily(ctx context.Context, family string) error {
	if _, err := s.refresh.UpdateMany(ctx, bson.M{"family": family}, bson.M{"$set": bson.M{"revoked": true}}); err != nil {
		return fmt.Errorf("auth: unable to revoke token family: %w", err)
	}
	return nil
}

// Logout revokes the refresh token's whole family (this device's sign-in).
// An unknown token is not an error: the client is signed out either way.
func (s *Service) Logout(ctx context.Context, token string) error {
	rt, err := s.findRefresh(ctx, token)
	if err != nil {
		if minsheng.ErrorCode(err) == minsheng.EUNAUTHORIZED {
			return nil
		}
		return err
	}
	return s.revokeFamily(ctx, rt.Family)
}
