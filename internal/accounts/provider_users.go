package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/postgres"
)

// CreateProviderUser creates, inside tx, an account that logs in only with a
// provider, named after the provider account (name, which may be ""). email
// is the provider's verified address or ""; an address that already belongs
// to an account is ErrEmailTaken, never a silent merge. The returned
// statement records user_created: the caller sends it in tx, with the rest
// of the log-in, before committing.
func (s *Service) CreateProviderUser(ctx context.Context, tx pgx.Tx, email, name, provider string) (User, postgres.Statement, error) {
	if email != "" {
		norm, err := NormalizeEmail(email)
		if err != nil {
			norm = "" // an address we cannot use is left off, not fatal
		}
		email = norm
	}
	var ep *string
	if email != "" {
		ep = &email
	}
	u, err := scanUser(tx.QueryRow(ctx, `
		INSERT INTO users (email, name, email_verified_at)
		VALUES ($1, $2, CASE WHEN $1::text IS NOT NULL THEN now() END)
		ON CONFLICT (email) WHERE email IS NOT NULL DO NOTHING
		RETURNING `+userColumns, ep, linkName(name)))
	if errors.Is(err, ErrNotFound) {
		return User{}, postgres.Statement{}, ErrEmailTaken
	}
	if err != nil {
		return User{}, postgres.Statement{}, fmt.Errorf("insert user: %w", err)
	}
	ev, err := events.Insert(ctx, events.Event{Kind: events.UserCreated, UserID: u.ID, Provider: provider,
		Data: map[string]any{"method": "provider"}})
	return u, ev, err
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
