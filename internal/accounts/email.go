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

// LinkInfo is what a mailed link's page shows before anything is done with
// it: opening a link changes nothing, since mail scanners open links too.
type LinkInfo struct {
	Purpose mail.Purpose
	Email   string
}

// enqueueVerify mails userID a link proving email, in tx.
func (s *Service) enqueueVerify(ctx context.Context, tx pgx.Tx, userID int64, email string) error {
	_, err := mail.Enqueue(ctx, tx, mail.Message{UserID: userID, To: email, Kind: mail.KindVerifyEmail,
		Link: &mail.LinkSpec{Purpose: mail.PurposeVerifyEmail, Email: email, TTL: s.opts.VerifyLinkTTL}})
	return err
}

// mailOwnerOfTaken tells the owner of email that someone tried to sign up
// with it, in place of the answer the sign-up form does not give.
func (s *Service) mailOwnerOfTaken(ctx context.Context, tx pgx.Tx, email string) error {
	u, _, err := userByEmail(ctx, tx, email)
	if err != nil {
		return err
	}
	_, err = mail.Enqueue(ctx, tx, mail.Message{UserID: u.ID, To: email, Kind: mail.KindSignupExists})
	return err
}

// notify mails u a notice about a change to their account, when u has an
// address to send it to.
func notify(ctx context.Context, tx pgx.Tx, u User, notice string, data map[string]string) error {
	if u.Email == "" {
		return nil
	}
	d := map[string]string{"notice": notice, "at": time.Now().UTC().Format(time.RFC3339)}
	for k, v := range data {
		d[k] = v
	}
	_, err := mail.Enqueue(ctx, tx, mail.Message{UserID: u.ID, To: u.Email, Kind: mail.KindNotice, Data: d})
	return err
}

// Notify mails userID a notice inside tx (a provider connected, a token
// created): other packages' changes that the account's owner should hear of.
func (s *Service) Notify(ctx context.Context, tx pgx.Tx, userID int64, notice string, data map[string]string) error {
	u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, userID))
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return notify(ctx, tx, u, notice, data)
}

// ResendVerification mails the signed-in user a new verification link; the
// older ones stop working.
func (s *Service) ResendVerification(ctx context.Context, userID int64) error {
	return postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err := s.UserTx(ctx, tx, userID)
		switch {
		case err != nil:
			return err
		case u.Email == "":
			return ErrNoEmail
		case u.EmailVerified:
			return ErrAlreadyVerified
		}
		return s.enqueueVerify(ctx, tx, u.ID, u.Email)
	})
}

// ResendVerificationTo mails a new link to an unverified account's address,
// for the log-in page, which knows only the address. It answers nil whether
// or not such an account exists.
func (s *Service) ResendVerificationTo(ctx context.Context, rawEmail string) error {
	return s.mailByAddress(ctx, rawEmail, mail.KindVerifyEmail, s.opts.VerifyLinkTTL)
}

// PeekLink says what a verification or email-change token would do,
// changing nothing.
func (s *Service) PeekLink(ctx context.Context, token string, purposes ...mail.Purpose) (LinkInfo, error) {
	l, err := mail.LookupLink(ctx, s.db, token, purposes...)
	if err != nil {
		return LinkInfo{}, err
	}
	return LinkInfo{Purpose: l.Purpose, Email: l.Email}, nil
}

// VerifyEmail uses a verification or email-change link. A verification link
// proves the account's current address, so one sent to an address the
// account no longer has is refused; an email-change link moves the account
// to the address it proves, and the old address hears of it.
func (s *Service) VerifyEmail(ctx context.Context, token string) (LinkInfo, error) {
	var info LinkInfo
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		l, err := mail.ConsumeLink(ctx, tx, token, mail.PurposeVerifyEmail, mail.PurposeEmailChange)
		if err != nil {
			return err
		}
		info = LinkInfo{Purpose: l.Purpose, Email: l.Email}
		u, err := s.UserTx(ctx, tx, l.UserID)
		if err != nil {
			return err
		}
		if l.Purpose == mail.PurposeEmailChange {
			return s.changeEmail(ctx, tx, u, l.Email)
		}
		if u.Email != l.Email {
			return mail.ErrLinkNotFound
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET email_verified_at = coalesce(email_verified_at, now()), updated_at = now() WHERE id = $1`, u.ID); err != nil {
			return fmt.Errorf("verify email: %w", err)
		}
		return events.Record(ctx, tx, events.Event{Kind: events.EmailVerified, UserID: u.ID})
	})
	return info, err
}

// changeEmail moves u to the proven address email inside tx.
func (s *Service) changeEmail(ctx context.Context, tx pgx.Tx, u User, email string) error {
	tag, err := tx.Exec(ctx, `
		UPDATE users SET email = $2, email_verified_at = now(), updated_at = now()
		WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM users WHERE email = $2 AND id <> $1)`, u.ID, email)
	if err != nil {
		return fmt.Errorf("change email: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrEmailTaken
	}
	// Links mailed to the old address prove nothing about the new one.
	if err := mail.VoidLinks(ctx, tx, u.ID, mail.PurposeVerifyEmail, mail.PurposePasswordReset, mail.PurposeLoginUnlock); err != nil {
		return err
	}
	if err := notify(ctx, tx, u, "email_changed", map[string]string{"new_email": email}); err != nil {
		return err
	}
	return events.Record(ctx, tx, events.Event{Kind: events.EmailChanged, UserID: u.ID,
		Data: map[string]any{"had_email": u.Email != ""}})
}

// RequestEmailChange mails a confirmation link to a new address; the
// account's address changes only when that link is used. An account made
// with a provider that shared no address adds its first one the same way.
func (s *Service) RequestEmailChange(ctx context.Context, userID int64, rawEmail string) (string, error) {
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return "", err
	}
	return email, postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err := s.UserTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		if u.Email == email {
			return &FieldError{Field: "email", Message: "That is already your email address.", MessageID: "field_error.email_same"}
		}
		if _, _, err := userByEmail(ctx, tx, email); err == nil {
			return &FieldError{Field: "email", Message: "That address belongs to another account.", MessageID: "field_error.email_taken"}
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		_, err = mail.Enqueue(ctx, tx, mail.Message{UserID: u.ID, To: email, Kind: mail.KindEmailChange,
			Data: map[string]string{"old_email": u.Email},
			Link: &mail.LinkSpec{Purpose: mail.PurposeEmailChange, Email: email, TTL: s.opts.VerifyLinkTTL}})
		return err
	})
}

// PendingEmail returns the address a change of userID's email is waiting
// to be confirmed at, "" when none.
func (s *Service) PendingEmail(ctx context.Context, userID int64) (string, error) {
	return mail.PendingEmail(ctx, s.db, userID, mail.PurposeEmailChange)
}
