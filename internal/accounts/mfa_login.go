package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// The held second step of a log-in lasts minutes and takes a few wrong
// codes; after that the user starts the log-in again.
const (
	holdTTL         = 5 * time.Minute
	holdMaxAttempts = 5
)

// Pending is a log-in whose first step passed and that waits for a second
// factor.
type Pending struct {
	UserID    int64
	Method    string // how the first step was passed: "password", "provider"
	Provider  string // the provider of a provider log-in, else ""
	ExpiresAt time.Time
}

// HoldLogin holds a log-in of userID whose first step (method, provider)
// passed, bound to the browser value the caller keeps in a cookie, and
// returns the token that finds it again. No session exists until
// CompleteLogin.
func (s *Service) HoldLogin(ctx context.Context, userID int64, browser, method, provider string) (string, error) {
	if browser == "" || method == "" {
		return "", errors.New("accounts: hold log-in: browser binding and method are required")
	}
	token := randomToken()
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM login_holds WHERE user_id = $1 AND expires_at <= now()`, userID)
	b.Queue(`
		INSERT INTO login_holds (token_hash, user_id, browser_hash, method, provider, expires_at)
		VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
		hashToken(token), userID, hashToken(browser), method, provider, holdTTL.Seconds())
	if err := s.db.SendBatch(ctx, b).Close(); err != nil {
		return "", fmt.Errorf("hold log-in: %w", err)
	}
	return token, nil
}

// PendingLogin returns the held log-in of token in this browser, or
// ErrNoPending.
func (s *Service) PendingLogin(ctx context.Context, token, browser string) (Pending, error) {
	return lookupHold(ctx, s.db, token, browser, false)
}

func lookupHold(ctx context.Context, q querier, token, browser string, lock bool) (Pending, error) {
	if token == "" || len(token) > 128 || browser == "" {
		return Pending{}, ErrNoPending
	}
	sql := `SELECT user_id, method, provider, expires_at FROM login_holds
		WHERE token_hash = $1 AND browser_hash = $2 AND expires_at > now()`
	if lock {
		sql += ` FOR UPDATE`
	}
	var p Pending
	err := q.QueryRow(ctx, sql, hashToken(token), hashToken(browser)).Scan(&p.UserID, &p.Method, &p.Provider, &p.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Pending{}, ErrNoPending
	}
	if err != nil {
		return Pending{}, fmt.Errorf("look up held log-in: %w", err)
	}
	return p, nil
}

// CompleteLogin finishes a held log-in with a second-factor code: the hold
// goes, a session starts (ending oldSessionToken's) and login_completed is
// recorded, all in one transaction. A wrong code is ErrWrongCode, and the
// last allowed one is ErrTooManyAttempts, which drops the hold.
func (s *Service) CompleteLogin(ctx context.Context, token, browser, code, oldSessionToken string) (User, string, error) {
	var u User
	var session string
	var outcome error // an answer that still commits (a counted attempt)
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		p, err := lookupHold(ctx, tx, token, browser, false)
		if err != nil {
			return err
		}
		// The user first, then the hold: the order every user change locks in.
		if u, err = s.UserTx(ctx, tx, p.UserID); err != nil {
			return err
		}
		if p, err = lookupHold(ctx, tx, token, browser, true); err != nil {
			return err
		}
		has, err := hasSecondFactor(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if u.Disabled || !has {
			outcome = ErrNoPending
			if u.Disabled {
				// Disabled between the two steps: the refusal is recorded
				// on the account, as a password log-in's is.
				outcome = ErrAccountDisabled
				if err := events.Record(ctx, tx, events.Event{Kind: events.LoginFailed, UserID: u.ID, Provider: p.Provider,
					Reason: "account disabled", Data: map[string]any{"method": p.Method}}); err != nil {
					return err
				}
			}
			return deleteHold(ctx, tx, token)
		}
		method, reason, err := s.checkCode(ctx, tx, u, code)
		if err != nil {
			return err
		}
		if method == "" {
			outcome, err = failHold(ctx, tx, token, p, reason)
			return err
		}
		if err := deleteHold(ctx, tx, token); err != nil {
			return err
		}
		if session, err = s.StartSession(ctx, tx, u.ID, oldSessionToken); err != nil {
			return err
		}
		return events.Record(ctx, tx, events.Event{Kind: events.LoginCompleted, UserID: u.ID, Provider: p.Provider,
			Data: map[string]any{"method": p.Method, "mfa": method}})
	})
	if err == nil {
		err = outcome
	}
	if err != nil {
		return User{}, "", wrapMFA("complete log-in", err)
	}
	return u, session, nil
}

// failHold counts a wrong code against the hold, dropping it at the limit,
// records mfa_failed and returns the answer for the user.
func failHold(ctx context.Context, tx pgx.Tx, token string, p Pending, reason string) (answer, err error) {
	var attempts int
	if err := tx.QueryRow(ctx, `UPDATE login_holds SET attempts = attempts + 1 WHERE token_hash = $1 RETURNING attempts`,
		hashToken(token)).Scan(&attempts); err != nil {
		return nil, fmt.Errorf("count wrong code: %w", err)
	}
	answer = ErrWrongCode
	if attempts >= holdMaxAttempts {
		answer = ErrTooManyAttempts
		if err := deleteHold(ctx, tx, token); err != nil {
			return nil, err
		}
	}
	return answer, events.Record(ctx, tx, events.Event{Kind: kindMFAFailed, UserID: p.UserID, Provider: p.Provider, Reason: reason,
		Data: map[string]any{"method": p.Method, "attempt": attempts}})
}

func deleteHold(ctx context.Context, tx pgx.Tx, token string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM login_holds WHERE token_hash = $1`, hashToken(token)); err != nil {
		return fmt.Errorf("drop held log-in: %w", err)
	}
	return nil
}

// PruneLoginHolds deletes expired held log-ins; the server runs it with
// PruneSessions.
func (s *Service) PruneLoginHolds(ctx context.Context) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM login_holds WHERE expires_at <= now()`)
	if err != nil {
		return 0, fmt.Errorf("prune held log-ins: %w", err)
	}
	return tag.RowsAffected(), nil
}

// VerifySecondFactor checks and consumes a TOTP or recovery code of userID,
// for a caller that needs proof beyond the password, and returns the method
// that matched. A wrong code is ErrWrongCode, recorded as mfa_failed.
func (s *Service) VerifySecondFactor(ctx context.Context, userID int64, code string) (string, error) {
	var method string
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err := s.UserTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		var reason string
		if method, reason, err = s.checkCode(ctx, tx, u, code); err != nil || method != "" {
			return err
		}
		return events.Record(ctx, tx, events.Event{Kind: kindMFAFailed, UserID: u.ID, Reason: reason})
	})
	if err == nil && method == "" {
		err = ErrWrongCode
	}
	return method, wrapMFA("verify second factor", err)
}

// checkCode consumes code when it is one of u's inside tx: a TOTP code (six
// digits, spaces ignored) or a recovery code. It returns the method that
// matched, or "" and why none did.
func (s *Service) checkCode(ctx context.Context, tx pgx.Tx, u User, code string) (method, reason string, err error) {
	if len(code) > 64 {
		return "", "malformed code", nil
	}
	if c := stripSpaces(code); len(c) == 6 && strings.Trim(c, "0123456789") == "" {
		ok, reason, err := s.checkTOTP(ctx, tx, u.ID, c)
		if ok {
			return MethodTOTP, "", err
		}
		return "", reason, err
	}
	ok, reason, err := useRecoveryCode(ctx, tx, u, code)
	if ok {
		return MethodRecoveryCode, "", err
	}
	return "", reason, err
}

func stripSpaces(s string) string {
	return strings.Join(strings.Fields(s), "")
}
