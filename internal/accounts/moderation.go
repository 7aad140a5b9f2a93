package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// ErrSelf is an administrator trying to disable or demote their own
// account: the console must never lock out the person using it.
var ErrSelf = errors.New("accounts: administrators cannot disable or demote themselves")

// SetAdmin grants or revokes the administrator role on userID, recording
// admin_role_granted or admin_role_revoked with the acting administrator.
// Asking for the role the user already has changes and records nothing.
func (s *Service) SetAdmin(ctx context.Context, adminID, userID int64, admin bool) error {
	if adminID == userID && !admin {
		return ErrSelf
	}
	kind := events.AdminRoleRevoked
	if admin {
		kind = events.AdminRoleGranted
	}
	return s.moderate(ctx, userID, func(tx pgx.Tx, u User) (bool, error) {
		if u.IsAdmin == admin {
			return false, nil
		}
		_, err := tx.Exec(ctx, `UPDATE users SET is_admin = $2, updated_at = now() WHERE id = $1`, userID, admin)
		return true, err
	}, events.Event{Kind: kind, UserID: userID, Data: map[string]any{"admin_id": adminID}})
}

// Disable stops userID from logging in by any route and ends all of its
// sessions in the same transaction; its API tokens stop working because
// every token lookup checks the account. Records admin_user_disabled.
func (s *Service) Disable(ctx context.Context, adminID, userID int64) error {
	if adminID == userID {
		return ErrSelf
	}
	var ended int64
	return s.moderate(ctx, userID, func(tx pgx.Tx, u User) (bool, error) {
		if u.Disabled {
			return false, nil
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET disabled_at = now(), updated_at = now() WHERE id = $1`, userID); err != nil {
			return false, err
		}
		var err error
		ended, err = deleteSessions(ctx, tx, userID, 0)
		return true, err
	}, events.Event{Kind: events.AdminUserDisabled, UserID: userID, Data: map[string]any{"admin_id": adminID, "sessions_ended": &ended}})
}

// Enable lets a disabled account log in again. Records admin_user_enabled.
func (s *Service) Enable(ctx context.Context, adminID, userID int64) error {
	return s.moderate(ctx, userID, func(tx pgx.Tx, u User) (bool, error) {
		if !u.Disabled {
			return false, nil
		}
		_, err := tx.Exec(ctx, `UPDATE users SET disabled_at = NULL, updated_at = now() WHERE id = $1`, userID)
		return true, err
	}, events.Event{Kind: events.AdminUserEnabled, UserID: userID, Data: map[string]any{"admin_id": adminID}})
}

// EndAllSessions logs userID out everywhere, as when a device is lost.
// Records admin_sessions_ended with how many ended.
func (s *Service) EndAllSessions(ctx context.Context, adminID, userID int64) (int64, error) {
	var ended int64
	err := s.moderate(ctx, userID, func(tx pgx.Tx, _ User) (bool, error) {
		var err error
		ended, err = deleteSessions(ctx, tx, userID, 0)
		return true, err
	}, events.Event{Kind: events.AdminSessionsEnded, UserID: userID, Data: map[string]any{"admin_id": adminID, "sessions_ended": &ended}})
	return ended, err
}

// moderate locks userID, lets change decide and apply a change, and records
// e in the same transaction when change reports one. e.Data may hold
// pointers that change fills in; they are read when e is recorded.
func (s *Service) moderate(ctx context.Context, userID int64, change func(pgx.Tx, User) (bool, error), e events.Event) error {
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err := s.UserTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		changed, err := change(tx, u)
		if err != nil || !changed {
			return err
		}
		return events.Record(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("%s user %d: %w", e.Kind, userID, err)
	}
	return nil
}

// User returns the account with id, or ErrNotFound.
func (s *Service) User(ctx context.Context, id int64) (User, error) {
	return scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}
