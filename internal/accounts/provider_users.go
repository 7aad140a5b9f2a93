package accounts

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
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
		u, err = insertUser(ctx, tx, email, "", false)
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
