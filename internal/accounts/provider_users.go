package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/mail"
)

// CreateProviderUser creates, inside tx, an account that logs in only with a
// provider. email is the provider's verified address or ""; an address that
// already belongs to an account is ErrEmailTaken, never a silent merge.
func (s *Service) CreateProviderUser(ctx context.Context, tx pgx.Tx, email, provider string) (User, error) {
	if email != "" {
		norm, err := NormalizeEmail(email)
		if err != nil {
			norm = "" // an address we cannot use is left off, not fatal
		}
		email = norm
	}
	var u User
	var err error
	if email == "" {
		u, err = scanUser(tx.QueryRow(ctx, `INSERT INTO users (email) VALUES (NULL) RETURNING `+userColumns))
	} else {
		u, err = insertUser(ctx, tx, email, "", false, true)
	}
	if err != nil {
		return User{}, err
	}
	return u, events.Record(ctx, tx, events.Event{Kind: events.UserCreated, UserID: u.ID, Provider: provider,
		Data: map[string]any{"method": "provider"}})
}

// UserByEmail returns the account with a (normalised) email inside tx.
func (s *Service) UserByEmail(ctx context.Context, tx pgx.Tx, email string) (User, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return User{}, ErrNotFound
	}
	u, _, err := userByEmail(ctx, tx, norm)
	return u, err
}

// UserTx returns the account with id inside tx, locked against concurrent
// changes for the rest of the transaction.
func (s *Service) UserTx(ctx context.Context, tx pgx.Tx, id int64) (User, error) {
	u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrNotFound
	}
	return u, err
}

// Claim hands the unverified account u to someone who just proved its
// address through provider: whoever made u never proved it, so its
// password, sessions, API tokens and mailed links are wiped (the caller
// removes its connections in the same transaction) and the address counts
// as verified from now on.
func (s *Service) Claim(ctx context.Context, tx pgx.Tx, u User, provider string) error {
	if u.EmailVerified {
		return fmt.Errorf("claim user %d: %w", u.ID, ErrAlreadyVerified)
	}
	if _, err := tx.Exec(ctx, `
		UPDATE users SET password_hash = NULL, email_verified_at = now(), updated_at = now() WHERE id = $1`, u.ID); err != nil {
		return fmt.Errorf("claim user: %w", err)
	}
	if err := wipeCredentials(ctx, tx, u.ID); err != nil {
		return err
	}
	// A second factor the unproven holder set up would lock the prover out.
	if err := wipeSecondFactors(ctx, tx, u.ID); err != nil {
		return err
	}
	if err := mail.VoidLinks(ctx, tx, u.ID, mail.PurposeVerifyEmail, mail.PurposeEmailChange); err != nil {
		return err
	}
	return events.Record(ctx, tx, events.Event{Kind: events.AccountClaimed, UserID: u.ID, Provider: provider,
		Data: map[string]any{"had_password": u.HasPassword}})
}
