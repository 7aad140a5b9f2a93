package accounts

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// Recent reports whether the session's user proved who they are within the
// re-authentication window, as sensitive actions require.
func (s *Service) Recent(sess Session) bool {
	return time.Since(sess.AuthenticatedAt) < s.opts.ReauthWindow
}

// ReauthWindow is how recent an authentication sensitive actions need.
func (s *Service) ReauthWindow() time.Duration { return s.opts.ReauthWindow }

// Reauthenticate checks the session user's password and, when it is right,
// counts the session as freshly authenticated.
func (s *Service) Reauthenticate(ctx context.Context, sess Session, password string) error {
	_, hash, err := userWithHash(ctx, s.db, sess.UserID)
	if err != nil {
		return err
	}
	if len(password) > MaxPasswordLength {
		password = ""
	}
	ok, err := s.hasher.verify(ctx, password, hash)
	if err != nil {
		return err
	}
	if !ok {
		s.recordLoginFailed(ctx, sess.UserID, "wrong password on re-authentication")
		return &FieldError{Field: "password", Message: "That password is wrong.", MessageID: "field_error.password_wrong"}
	}
	return postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		return s.MarkReauthenticated(ctx, tx, sess.ID, sess.UserID, "password", "")
	})
}

// MarkReauthenticated counts sessionID as freshly authenticated inside tx,
// after the user proved who they are by method (and provider, for a dance).
func (s *Service) MarkReauthenticated(ctx context.Context, tx pgx.Tx, sessionID, userID int64, method, provider string) error {
	tag, err := tx.Exec(ctx, `UPDATE sessions SET authenticated_at = now() WHERE id = $1 AND user_id = $2`, sessionID, userID)
	if err != nil {
		return fmt.Errorf("re-authenticate: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNoSession
	}
	return events.Record(ctx, tx, events.Event{Kind: events.Reauthenticated, UserID: userID, Provider: provider,
		Data: map[string]any{"method": method}})
}

// Verification is how sign-up treats unproven addresses.
func (s *Service) Verification() Verification { return s.opts.Verification }
