// Package accounts owns local accounts: users, their passwords (argon2id),
// the administrator role and server-side login sessions.
package accounts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/text/unicode/norm"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/postgres"
)

// Errors callers map to messages. They never say whether an email exists,
// except ErrEmailTaken on sign-up, where the form must say why it failed.
var (
	ErrInvalidCredentials = errors.New("accounts: invalid email or password")
	ErrAccountDisabled    = errors.New("accounts: account disabled")
	ErrEmailTaken         = errors.New("accounts: email already registered")
	ErrWrongPassword      = errors.New("accounts: current password is wrong")
	ErrNotFound           = errors.New("accounts: not found")
	ErrNoSession          = errors.New("accounts: no such session")
	ErrEmailUnverified    = errors.New("accounts: email address not verified")
	ErrAlreadyVerified    = errors.New("accounts: email address already verified")
	ErrNoEmail            = errors.New("accounts: account has no email address")
	ErrReauthRequired     = errors.New("accounts: recent authentication required")
)

// FieldError is a validation failure tied to one form field, so the page can
// show the message next to it.
type FieldError struct {
	Field   string
	Message string // in English, for logs and the API
	// MessageID names Message in the translation catalogues
	// (internal/i18n), and Args fills in its placeholders, so a page can
	// show it in the reader's language. This package knows no language.
	MessageID string
	Args      map[string]any
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// FieldErrors lists every *FieldError in err's tree, in order. Checks that
// find several problems join them (errors.Join), so a form can show them
// all at once instead of one per submission; errors.As still finds the
// first.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(e error) {
		if fe, ok := e.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// User is a local account.
type User struct {
	ID            int64
	Email         string
	EmailVerified bool // the address was proven (link, reset, or a provider vouching)
	IsAdmin       bool
	HasPassword   bool
	Disabled      bool
	CreatedAt     time.Time
}

// Options tune the service; zero values take the documented defaults.
type Options struct {
	IdleTimeout     time.Duration // a session unused this long ends (default 72h)
	AbsoluteTimeout time.Duration // a session ends this long after log-in regardless (default 720h)
	Verification    Verification  // signup.email_verification (default optional)
	VerifyLinkTTL   time.Duration // verification and email-change links (default 72h)
	ResetLinkTTL    time.Duration // password-reset links (default 1h)
	ReauthWindow    time.Duration // sensitive actions need an authentication this recent (default 10m)
	// TestHashMemoryKiB lowers argon2id's memory per password hash from
	// OWASP's 46 MiB, for tests only: under the race detector one hash
	// took up to 0.9 s, and the suite hashes hundreds of passwords. A
	// server never sets it; hashes record their parameters, so any
	// setting verifies any stored hash.
	TestHashMemoryKiB uint32
}

// Verification is how sign-up treats an address nobody has proven yet.
type Verification string

// The settings of signup.email_verification.
const (
	VerifyOptional Verification = "optional" // mail a link; log in at once
	VerifyRequired Verification = "required" // no password log-in until verified
	VerifyOff      Verification = "off"      // mail nothing at sign-up
)

// Service is the accounts domain. It is safe for concurrent use.
type Service struct {
	db     *pgxpool.Pool
	hasher *hasher
	opts   Options
	// mfaState is what second factors need beyond the database (the
	// sealer for TOTP secrets, the clock); set at start-up (mfa_seal.go).
	mfaState atomic.Pointer[mfaDeps]
}

// New returns a Service on db.
func New(db *pgxpool.Pool, opts Options) *Service {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 72 * time.Hour
	}
	if opts.AbsoluteTimeout <= 0 {
		opts.AbsoluteTimeout = 720 * time.Hour
	}
	if opts.Verification == "" {
		opts.Verification = VerifyOptional
	}
	opts.VerifyLinkTTL = cmp.Or(opts.VerifyLinkTTL, 72*time.Hour)
	opts.ResetLinkTTL = cmp.Or(opts.ResetLinkTTL, time.Hour)
	opts.ReauthWindow = cmp.Or(opts.ReauthWindow, 10*time.Minute)
	return &Service{db: db, hasher: newHasher(cmp.Or(opts.TestHashMemoryKiB, hashMemoryKiB)), opts: opts}
}

// NormalizeEmail trims, Unicode-normalises and lower-cases an address and
// checks it is a bare addr-spec, so "Ann@Example.com " and "ann@example.com"
// are one account.
func NormalizeEmail(raw string) (string, error) {
	bad := &FieldError{Field: "email", Message: "Enter an email address like name@example.com.", MessageID: "field_error.email_invalid"}
	if !utf8.ValidString(raw) || len(raw) > 320 {
		return "", bad
	}
	email := strings.ToLower(norm.NFC.String(strings.TrimSpace(raw)))
	if email == "" {
		return "", &FieldError{Field: "email", Message: "Enter your email address.", MessageID: "field_error.email_missing"}
	}
	addr, err := netmail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" || len(email) > 254 {
		return "", bad
	}
	at := strings.LastIndexByte(email, '@')
	if at < 1 || at > 64 || !strings.Contains(email[at+1:], ".") || strings.ContainsAny(email, " \t\r\n\x00") {
		return "", bad
	}
	return email, nil
}

// SignUp creates a local account with a password, records user_created and,
// unless verification is off, mails a verification link. An address that
// already has an account is ErrEmailTaken; when verification is required the
// caller answers "check your mail" either way, so SignUp mails the owner that
// someone tried, in place of the link.
func (s *Service) SignUp(ctx context.Context, rawEmail, password string) (User, error) {
	email, err := CheckSignUp(rawEmail, password)
	if err != nil {
		return User{}, err
	}
	hash, err := s.hasher.hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	var u User
	taken := false
	err = postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err = insertUser(ctx, tx, email, hash, false, false)
		if errors.Is(err, ErrEmailTaken) && s.opts.Verification == VerifyRequired {
			taken = true
			return s.mailOwnerOfTaken(ctx, tx, email)
		}
		if err != nil {
			return err
		}
		if s.opts.Verification != VerifyOff {
			if err := s.enqueueVerify(ctx, tx, u.ID, email); err != nil {
				return err
			}
		}
		return events.Record(ctx, tx, events.Event{Kind: events.UserCreated, UserID: u.ID, Data: map[string]any{"method": "password"}})
	})
	if taken {
		return User{}, ErrEmailTaken
	}
	return u, err
}

// CheckSignUp normalises the email of a sign-up and checks its password,
// returning the address or every *FieldError found, joined.
func CheckSignUp(rawEmail, password string) (string, error) {
	email, emailErr := NormalizeEmail(rawEmail)
	// An address that does not parse still keeps "ann" from being the
	// password of "ann@example"; one that does is compared as normalised.
	compare := email
	if emailErr != nil {
		compare = strings.ToLower(strings.TrimSpace(rawEmail))
	}
	if err := errors.Join(emailErr, CheckPassword("password", password, compare)); err != nil {
		return "", err
	}
	return email, nil
}

// Authenticate checks an email and password. Unknown emails and wrong
// passwords give the same error after the same amount of work, and each
// failure is recorded as login_failed.
func (s *Service) Authenticate(ctx context.Context, rawEmail, password string) (User, error) {
	email, err := NormalizeEmail(rawEmail)
	if err != nil || len(password) > MaxPasswordLength {
		s.recordLoginFailed(ctx, 0, "malformed email or password")
		return User{}, ErrInvalidCredentials
	}
	u, hash, err := userByEmail(ctx, s.db, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, err
	}
	ok, verr := s.hasher.verify(ctx, password, hash)
	if verr != nil {
		return User{}, verr
	}
	switch {
	case !ok:
		reason := "wrong password"
		if u.ID == 0 {
			reason = "unknown email"
		}
		s.recordLoginFailed(ctx, u.ID, reason)
		return User{}, ErrInvalidCredentials
	case u.Disabled:
		s.recordLoginFailed(ctx, u.ID, "account disabled")
		return User{}, ErrAccountDisabled
	case s.opts.Verification == VerifyRequired && !u.EmailVerified:
		// Said only after the right password, so it reveals nothing new.
		s.recordLoginFailed(ctx, u.ID, "email not verified")
		return User{}, ErrEmailUnverified
	}
	return u, nil
}

func (s *Service) recordLoginFailed(ctx context.Context, userID int64, reason string) {
	// A failure to record the failure must not turn a wrong password into a
	// 500, so the error is dropped here; the database being down surfaces on
	// the next query anyway.
	_ = postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		return events.Record(ctx, tx, events.Event{Kind: events.LoginFailed, UserID: userID, Reason: reason, Data: map[string]any{"method": "password"}})
	})
}

// ChangePassword sets a new password after checking the current one (unless
// the account has none yet, as after signing up with a provider) and ends
// every other session, since a password change is how people evict someone
// who learned the old one.
func (s *Service) ChangePassword(ctx context.Context, userID, keepSessionID int64, current, newPassword string) error {
	u, err := s.checkPasswordChange(ctx, userID, current, newPassword)
	if err != nil {
		return err
	}
	newHash, err := s.hasher.hash(ctx, newPassword)
	if err != nil {
		return err
	}
	return postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := setPasswordHash(ctx, tx, userID, newHash); err != nil {
			return err
		}
		if _, err := deleteSessions(ctx, tx, userID, keepSessionID); err != nil {
			return err
		}
		// A reset link mailed before the change must not undo it.
		if err := mail.VoidLinks(ctx, tx, userID, mail.PurposePasswordReset); err != nil {
			return err
		}
		if err := notify(ctx, tx, u, "password_changed", nil); err != nil {
			return err
		}
		return events.Record(ctx, tx, events.Event{Kind: events.PasswordChanged, UserID: userID})
	})
}

// CheckPasswordChange reports what ChangePassword would refuse, changing
// nothing: a wrong current password and a new one the policy refuses come
// together, joined, so a form whose own checks failed can show them too.
func (s *Service) CheckPasswordChange(ctx context.Context, userID int64, current, newPassword string) error {
	_, err := s.checkPasswordChange(ctx, userID, current, newPassword)
	return err
}

func (s *Service) checkPasswordChange(ctx context.Context, userID int64, current, newPassword string) (User, error) {
	u, hash, err := userWithHash(ctx, s.db, userID)
	if err != nil {
		return User{}, err
	}
	var wrong error
	if hash != "" {
		ok, err := s.hasher.verify(ctx, current, hash)
		if err != nil {
			return User{}, err
		}
		if !ok {
			wrong = &FieldError{Field: "current_password", Message: "The current password is wrong.", MessageID: "field_error.current_password_wrong"}
		}
	}
	return u, errors.Join(wrong, CheckPassword("new_password", newPassword, u.Email))
}

// CreateAdmin creates an administrator; the email must be new.
func (s *Service) CreateAdmin(ctx context.Context, rawEmail, password string) (User, error) {
	u, _, err := s.ensureAdmin(ctx, rawEmail, password, false)
	return u, err
}

// EnsureAdmin creates the administrator, or resets the password and role of
// the existing account with that email, and reports whether it was created.
// Dev mode uses it for the demo administrator.
func (s *Service) EnsureAdmin(ctx context.Context, rawEmail, password string) (User, bool, error) {
	return s.ensureAdmin(ctx, rawEmail, password, true)
}

func (s *Service) ensureAdmin(ctx context.Context, rawEmail, password string, reset bool) (User, bool, error) {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return User{}, false, err
	}
	if err := CheckPassword("password", password, email); err != nil {
		return User{}, false, err
	}
	hash, err := s.hasher.hash(ctx, password)
	if err != nil {
		return User{}, false, err
	}
	var u User
	created := true
	err = postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err = insertUser(ctx, tx, email, hash, true, true)
		if errors.Is(err, ErrEmailTaken) && reset {
			created = false
			u, err = promoteUser(ctx, tx, email, hash)
		}
		if err != nil {
			return err
		}
		kind := events.AdminUserCreated
		if !created {
			kind = events.AdminPasswordReset
		}
		return events.Record(ctx, tx, events.Event{Kind: kind, UserID: u.ID})
	})
	if err != nil {
		return User{}, false, fmt.Errorf("create administrator %s: %w", email, err)
	}
	return u, created, nil
}
