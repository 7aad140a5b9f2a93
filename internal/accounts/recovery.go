package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/postgres"
)

// RequestPasswordReset mails a reset link to the account with rawEmail, if
// one exists and is enabled. The request only queues the mail by address
// (mailByAddress), the same work whether or not the account exists, so
// neither the answer nor its timing says which; the sender looks the
// address up.
func (s *Service) RequestPasswordReset(ctx context.Context, rawEmail string) error {
	return s.mailByAddress(ctx, rawEmail, mail.KindPasswordReset, s.opts.ResetLinkTTL)
}

// mailByAddress queues a link mail of kind to whoever holds rawEmail; the
// mail sender asks ResolveRecipient who that is when it sends.
func (s *Service) mailByAddress(ctx context.Context, rawEmail string, kind mail.Kind, ttl time.Duration) error {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return err
	}
	return postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		_, err := mail.EnqueueForAddress(ctx, tx, email, kind, ttl.Milliseconds())
		return err
	})
}

// ResolveRecipient tells the mail sender which account a mail queued by
// address is for: an enabled account holding email, and for a verification
// link only one whose address is still unproven.
func (s *Service) ResolveRecipient(ctx context.Context, tx pgx.Tx, kind mail.Kind, email string) (int64, bool, error) {
	u, _, err := userByEmail(ctx, tx, email)
	switch {
	case errors.Is(err, ErrNotFound):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case u.Disabled, kind == mail.KindVerifyEmail && u.EmailVerified:
		return 0, false, nil
	}
	return u.ID, true, nil
}

// SendPasswordReset mails userID a reset link, for an administrator who
// helps someone locked out; the administrator never sees the link.
func (s *Service) SendPasswordReset(ctx context.Context, userID int64) error {
	return postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err := s.UserTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		if u.Email == "" {
			return ErrNoEmail
		}
		return s.enqueueReset(ctx, tx, u)
	})
}

func (s *Service) enqueueReset(ctx context.Context, tx pgx.Tx, u User) error {
	_, err := mail.Enqueue(ctx, tx, mail.Message{UserID: u.ID, To: u.Email, Kind: mail.KindPasswordReset,
		Link: &mail.LinkSpec{Purpose: mail.PurposePasswordReset, Email: u.Email, TTL: s.opts.ResetLinkTTL}})
	return err
}

// ResetPassword sets a new password from a reset link. The link proves the
// inbox, so the address counts as verified; every session ends and every
// API token is revoked, since whoever knew the old password may hold them.
// A password the rules refuse leaves the link usable.
func (s *Service) ResetPassword(ctx context.Context, token, password string) (User, error) {
	l, err := mail.LookupLink(ctx, s.db, token, mail.PurposePasswordReset)
	if err != nil {
		return User{}, err
	}
	if err := CheckPassword("password", password, l.Email); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		l, err := mail.ConsumeLink(ctx, tx, token, mail.PurposePasswordReset)
		if err != nil {
			return err
		}
		if u, err = s.UserTx(ctx, tx, l.UserID); err != nil {
			return err
		}
		if u.Email != l.Email || u.Disabled {
			return mail.ErrLinkNotFound
		}
		if _, err := tx.Exec(ctx, `
			UPDATE users SET password_hash = $2, email_verified_at = coalesce(email_verified_at, now()), updated_at = now()
			WHERE id = $1`, u.ID, hash); err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		if err := wipeCredentials(ctx, tx, u.ID); err != nil {
			return err
		}
		if err := notify(ctx, tx, u, "password_reset", nil); err != nil {
			return err
		}
		return events.Record(ctx, tx, events.Event{Kind: events.PasswordReset, UserID: u.ID})
	})
	return u, err
}

// wipeCredentials ends every session, revokes every API token and kills
// every mailed link of userID: what a reset or a takeover must leave behind.
func wipeCredentials(ctx context.Context, tx pgx.Tx, userID int64) error {
	if _, err := deleteSessions(ctx, tx, userID, 0); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM api_tokens WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("revoke tokens: %w", err)
	}
	// A log-in halfway through its second step was started with the old
	// password (the second factor itself stays).
	if _, err := tx.Exec(ctx, `DELETE FROM login_holds WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("end held log-ins: %w", err)
	}
	return mail.VoidLinks(ctx, tx, userID, mail.PurposePasswordReset, mail.PurposeLoginUnlock)
}

// RequestUnlock mails the owner of rawEmail a link that lets one browser log
// in while the account's log-in limit holds off everyone else. Like a reset
// request it is queued by address, the same work whether or not the
// address has an account.
func (s *Service) RequestUnlock(ctx context.Context, rawEmail string) error {
	return s.mailByAddress(ctx, rawEmail, mail.KindLoginUnlock, s.opts.ResetLinkTTL)
}

// Unlock uses an unlock link and returns the address it unlocks.
func (s *Service) Unlock(ctx context.Context, token string) (string, error) {
	var email string
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		l, err := mail.ConsumeLink(ctx, tx, token, mail.PurposeLoginUnlock)
		if err != nil {
			return err
		}
		email = l.Email
		return nil
	})
	return email, err
}
