package mail

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
)

// Why a link was refused. Handlers tell the three apart so a person learns
// whether to ask for a new link.
var (
	ErrLinkNotFound = errors.New("mail: no such link")
	ErrLinkExpired  = errors.New("mail: the link has expired")
	ErrLinkUsed     = errors.New("mail: the link was already used or replaced by a newer one")
)

// Link is a one-time link as the code that honours it sees it.
type Link struct {
	ID, UserID int64
	Purpose    Purpose
	Email      string // the address the link was sent to, lower-case
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

const (
	tokenBytes  = 32  // 256 bits: guessing is hopeless, so no rate limit is needed here
	maxTokenLen = 128 // longer input is refused before any hashing or query
)

// newToken returns a fresh secret and the hash stored for it.
func newToken() (token string, hash []byte) {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails since Go 1.24
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// parseToken returns the hash to look up, or false for input that cannot be
// a token this package minted, which then costs no query.
func parseToken(token string) ([]byte, bool) {
	if len(token) > maxTokenLen {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != tokenBytes {
		return nil, false
	}
	return hashToken(token), true
}

// linkPath is where each purpose's link lands in the web interface.
func linkPath(p Purpose) string {
	switch p {
	case PurposePasswordReset:
		return "/password/reset"
	case PurposeLoginUnlock:
		return "/login/unlock"
	default: // verify_email, email_change
		return "/email/verify"
	}
}

// linkURL is base plus the purpose's path, carrying token.
func linkURL(base *url.URL, p Purpose, token string) string {
	u := base.JoinPath(linkPath(p))
	u.RawQuery = url.Values{"token": {token}}.Encode()
	return u.String()
}

// newerLink is true when a later link of the same user and purpose exists:
// only the newest link works, even if two requests raced to void each other.
const newerLink = `EXISTS (SELECT 1 FROM mail_links n
	WHERE n.user_id = l.user_id AND n.purpose = l.purpose AND n.id > l.id)`

const linkColumns = `l.id, l.user_id, l.purpose, l.email, l.created_at, l.expires_at`

func linkDest(l *Link) []any {
	return []any{&l.ID, &l.UserID, &l.Purpose, &l.Email, &l.CreatedAt, &l.ExpiresAt}
}

// LookupLink finds the live link token opens, with one of purposes, and
// changes nothing: the page a link opens is a GET, and mail scanners and
// previewers open links before the person does, so only the form that page
// posts may consume it (see ConsumeLink). It returns ErrLinkNotFound for an
// unknown, malformed or wrong-purpose token, ErrLinkUsed for a used or
// replaced link and ErrLinkExpired for an expired one.
func LookupLink(ctx context.Context, q Querier, token string, purposes ...Purpose) (Link, error) {
	if len(purposes) == 0 {
		return Link{}, errors.New("mail: look up link: no purpose given")
	}
	hash, ok := parseToken(token)
	if !ok {
		return Link{}, ErrLinkNotFound
	}
	var l Link
	var used, expired bool
	err := q.QueryRow(ctx, `
		SELECT `+linkColumns+`, l.used_at IS NOT NULL OR `+newerLink+`, l.expires_at <= now()
		FROM mail_links l WHERE l.token_hash = $1 AND l.purpose = ANY ($2)`,
		hash, purposeStrings(purposes)).Scan(append(linkDest(&l), &used, &expired)...)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Link{}, ErrLinkNotFound
	case err != nil:
		return Link{}, fmt.Errorf("mail: look up link: %w", err)
	case used:
		return Link{}, ErrLinkUsed
	case expired:
		return Link{}, ErrLinkExpired
	}
	return l, nil
}

// ConsumeLink marks the link token opens as used, inside tx, and returns
// it; the caller makes the change the link authorises in the same tx, so a
// rollback leaves the link usable. Of concurrent consumers exactly one wins:
// the update is conditional on the link being unused, and a loser waits for
// the winner's row lock and then finds it used. Errors are LookupLink's.
func ConsumeLink(ctx context.Context, tx pgx.Tx, token string, purposes ...Purpose) (Link, error) {
	if len(purposes) == 0 {
		return Link{}, errors.New("mail: consume link: no purpose given")
	}
	hash, ok := parseToken(token)
	if !ok {
		return Link{}, ErrLinkNotFound
	}
	var l Link
	err := tx.QueryRow(ctx, `
		UPDATE mail_links l SET used_at = now()
		WHERE l.token_hash = $1 AND l.purpose = ANY ($2)
		  AND l.used_at IS NULL AND l.expires_at > now() AND NOT `+newerLink+`
		RETURNING `+linkColumns,
		hash, purposeStrings(purposes)).Scan(linkDest(&l)...)
	if err == nil {
		return l, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Link{}, fmt.Errorf("mail: consume link: %w", err)
	}
	// Say why: LookupLink's answer, now that no concurrent consumer holds it.
	if _, err := LookupLink(ctx, tx, token, purposes...); err != nil {
		return Link{}, err
	}
	return Link{}, ErrLinkUsed
}

// VoidLinks kills every unused link of userID with one of purposes, for
// when what they offer no longer makes sense: every reset link once the
// password has changed, every verification link once the address changed.
// A mail still queued with a voided link is not sent.
func VoidLinks(ctx context.Context, q Querier, userID int64, purposes ...Purpose) error {
	_, err := q.Exec(ctx, `
		UPDATE mail_links SET used_at = now()
		WHERE user_id = $1 AND purpose = ANY ($2) AND used_at IS NULL AND expires_at > now()`,
		userID, purposeStrings(purposes))
	if err != nil {
		return fmt.Errorf("mail: void links of user %d: %w", userID, err)
	}
	return nil
}

// mint gives link id a fresh secret, replacing any earlier one, and returns
// the token with the link. ok is false when the link can no longer be
// honoured (used, voided, expired or deleted with its user): its mail must
// not go out.
func mint(ctx context.Context, q Querier, id int64) (token string, l Link, ok bool, err error) {
	token, hash := newToken()
	err = q.QueryRow(ctx, `
		UPDATE mail_links l SET token_hash = $2
		WHERE l.id = $1 AND l.used_at IS NULL AND l.expires_at > now() AND NOT `+newerLink+`
		RETURNING `+linkColumns, id, hash).Scan(linkDest(&l)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", Link{}, false, nil
	}
	if err != nil {
		return "", Link{}, false, fmt.Errorf("mint link %d: %w", id, err)
	}
	return token, l, true, nil
}

func purposeStrings(ps []Purpose) []string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return s
}
