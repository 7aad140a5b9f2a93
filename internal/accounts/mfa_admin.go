package accounts

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// ResetSecondFactors removes userID's second factors for an administrator
// helping someone who lost them; it is recorded with the administrator's
// id and the user is told by mail.
func (s *Service) ResetSecondFactors(ctx context.Context, adminID, userID int64) error {
	return postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err := s.UserTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := wipeSecondFactors(ctx, tx, userID); err != nil {
			return err
		}
		if err := notify(ctx, tx, u, "mfa_changed", map[string]string{"detail": "an administrator reset your two-step verification", "change": "admin_reset"}); err != nil {
			return err
		}
		return events.Record(ctx, tx, events.Event{Kind: events.MFADisabled, UserID: userID,
			Data: map[string]any{"admin_id": adminID, "reset": true}})
	})
}

// ReauthenticateWithCode counts the session as freshly authenticated when
// code is a valid second-factor code (TOTP or recovery code) of its user.
func (s *Service) ReauthenticateWithCode(ctx context.Context, sess Session, code string) error {
	method, err := s.VerifySecondFactor(ctx, sess.UserID, code)
	if err != nil {
		return err
	}
	return postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		return s.MarkReauthenticated(ctx, tx, sess.ID, sess.UserID, method, "")
	})
}
