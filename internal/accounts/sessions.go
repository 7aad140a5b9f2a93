package accounts

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// touchInterval bounds how often a session's last-seen time is written: once
// a minute is precise enough for idle expiry and keeps page views read-only.
const touchInterval = time.Minute

// Session is a logged-in browser. The cookie token itself is never stored.
type Session struct {
	ID         int64
	UserID     int64
	CSRFToken  string
	IP         string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	// AuthenticatedAt is when the user last proved who they are in this
	// session: at log-in or by re-authenticating.
	AuthenticatedAt time.Time
	User            User
	// Language is the user's chosen language for pages and mail ("" when
	// they chose none), loaded with the session for every page.
	Language string
}

// LogIn authenticates and starts a new session, ending the session in
// oldToken (if any) so a session id fixed before log-in is never promoted.
func (s *Service) LogIn(ctx context.Context, email, password, oldToken string) (User, string, error) {
	u, err := s.Authenticate(ctx, email, password)
	if err != nil {
		return User{}, "", err
	}
	if need, err := s.NeedsSecondFactor(ctx, u.ID); err != nil || need {
		// The caller holds the log-in (HoldLogin) until the second step.
		return u, "", cmp.Or(err, ErrSecondFactorRequired)
	}
	var token string
	err = postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		if token, err = s.StartSession(ctx, tx, u.ID, oldToken); err != nil {
			return err
		}
		return events.Record(ctx, tx, events.Event{Kind: events.LoginCompleted, UserID: u.ID, Data: map[string]any{"method": "password"}})
	})
	return u, token, err
}

// StartSession creates a session for userID inside tx and returns its cookie
// token, ending oldToken's session.
func (s *Service) StartSession(ctx context.Context, tx pgx.Tx, userID int64, oldToken string) (string, error) {
	token, stmts := s.SessionStatements(ctx, userID, oldToken)
	if err := postgres.ExecAll(ctx, tx, stmts...); err != nil {
		return "", fmt.Errorf("start session: %w", err)
	}
	return token, nil
}

// SessionStatements is StartSession as statements, for a transaction that
// sends them in one round trip with its own (logging in with a provider):
// the new session's cookie token, valid once they have run.
func (s *Service) SessionStatements(ctx context.Context, userID int64, oldToken string) (string, []postgres.Statement) {
	var stmts []postgres.Statement
	if oldToken != "" {
		stmts = append(stmts, postgres.Statement{SQL: `DELETE FROM sessions WHERE token_hash = $1`, Args: []any{hashToken(oldToken)}})
	}
	token, csrf := randomToken(), randomToken()
	meta := events.MetaFrom(ctx)
	stmts = append(stmts, postgres.Statement{SQL: `
		INSERT INTO sessions (token_hash, user_id, csrf_token, ip, user_agent, expires_at)
		VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
		Args: []any{hashToken(token), userID, csrf, events.Clip(meta.IP, 64), events.Clip(meta.UserAgent, 512), s.opts.AbsoluteTimeout.Seconds()}})
	return token, stmts
}

// Session returns the live session for a cookie token. Expired sessions,
// idle ones and those of disabled accounts are ErrNoSession.
func (s *Service) Session(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > 128 {
		return Session{}, ErrNoSession
	}
	var ss Session
	u, err := scanUser(s.db.QueryRow(ctx, `
		SELECT u.id, coalesce(u.email, ''), u.email_verified_at IS NOT NULL, u.is_admin, u.password_hash IS NOT NULL, u.disabled_at IS NOT NULL, u.created_at,
		       s.id, s.csrf_token, s.ip, s.user_agent, s.created_at, s.last_seen_at, s.expires_at, s.authenticated_at,
		       coalesce(u.language, '')
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $2)`,
		hashToken(token), s.opts.IdleTimeout.Seconds()),
		&ss.ID, &ss.CSRFToken, &ss.IP, &ss.UserAgent, &ss.CreatedAt, &ss.LastSeenAt, &ss.ExpiresAt, &ss.AuthenticatedAt, &ss.Language)
	if errors.Is(err, ErrNotFound) || (err == nil && u.Disabled) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("look up session: %w", err)
	}
	ss.User, ss.UserID = u, u.ID
	if time.Since(ss.LastSeenAt) > touchInterval {
		if _, err := s.db.Exec(ctx, `UPDATE sessions SET last_seen_at = now() WHERE id = $1`, ss.ID); err != nil {
			return Session{}, fmt.Errorf("touch session: %w", err)
		}
	}
	return ss, nil
}

// EndSession ends the session with a cookie token (log out).
func (s *Service) EndSession(ctx context.Context, token string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashToken(token))
	return err
}

// EndSessionByID ends one of userID's sessions; another user's id is
// ErrNotFound, exactly like an unknown one.
func (s *Service) EndSessionByID(ctx context.Context, userID, id int64) error {
	tag, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// EndSessions ends all of userID's sessions except exceptID (0 ends all) and
// returns how many ended.
func (s *Service) EndSessions(ctx context.Context, userID, exceptID int64) (int64, error) {
	return deleteSessions(ctx, s.db, userID, exceptID)
}

func deleteSessions(ctx context.Context, q querier, userID, exceptID int64) (int64, error) {
	tag, err := q.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, exceptID)
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Sessions lists userID's 25 most recently used live sessions: enough to
// spot a stranger, and a page that stays cheap for someone who never logs out.
func (s *Service) Sessions(ctx context.Context, userID int64) ([]Session, error) {
	rows, err := s.db.Query(ctx, `
		SELECT id, user_id, ip, user_agent, created_at, last_seen_at, expires_at
		FROM sessions WHERE user_id = $1 AND expires_at > now() AND last_seen_at > now() - make_interval(secs => $2)
		ORDER BY last_seen_at DESC, id DESC LIMIT 25`, userID, s.opts.IdleTimeout.Seconds())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Session, error) {
		var ss Session
		err := row.Scan(&ss.ID, &ss.UserID, &ss.IP, &ss.UserAgent, &ss.CreatedAt, &ss.LastSeenAt, &ss.ExpiresAt)
		return ss, err
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// PruneSessions deletes expired and idle sessions; the server runs it
// periodically so the table does not grow without bound.
func (s *Service) PruneSessions(ctx context.Context) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(secs => $1)`, s.opts.IdleTimeout.Seconds())
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewSession starts a session for userID in its own transaction, ending
// oldToken's, as after signing up.
func (s *Service) NewSession(ctx context.Context, userID int64, oldToken string) (string, error) {
	var token string
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		var err error
		token, err = s.StartSession(ctx, tx, userID, oldToken)
		return err
	})
	return token, err
}
