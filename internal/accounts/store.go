package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what the store functions need: a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

const userColumns = `id, coalesce(email, ''), email_verified_at IS NOT NULL, is_admin, password_hash IS NOT NULL, disabled_at IS NOT NULL, created_at`

func scanUser(row pgx.Row, extra ...any) (User, error) {
	var u User
	dest := append([]any{&u.ID, &u.Email, &u.EmailVerified, &u.IsAdmin, &u.HasPassword, &u.Disabled, &u.CreatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return User{}, ErrNotFound
		}
		return User{}, err
	}
	return u, nil
}

// insertUser adds an account; verified says its address is already proven
// (an administrator created it, or a provider vouched for it).
func insertUser(ctx context.Context, tx pgx.Tx, email, hash string, admin, verified bool) (User, error) {
	var ph *string
	if hash != "" {
		ph = &hash
	}
	u, err := scanUser(tx.QueryRow(ctx, `
		INSERT INTO users (email, password_hash, is_admin, email_verified_at)
		VALUES ($1, $2, $3, CASE WHEN $4::boolean THEN now() END)
		ON CONFLICT (email) WHERE email IS NOT NULL DO NOTHING
		RETURNING `+userColumns, email, ph, admin, verified))
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrEmailTaken
	}
	if err != nil {
		return User{}, fmt.Errorf("insert user: %w", err)
	}
	return u, nil
}

func promoteUser(ctx context.Context, tx pgx.Tx, email, hash string) (User, error) {
	return scanUser(tx.QueryRow(ctx, `
		UPDATE users SET password_hash = $2, is_admin = true, disabled_at = NULL,
		    email_verified_at = coalesce(email_verified_at, now()), updated_at = now()
		WHERE email = $1 RETURNING `+userColumns, email, hash))
}

// userByEmail returns the user and its password hash ("" when it has none).
func userByEmail(ctx context.Context, q querier, email string) (User, string, error) {
	var hash string
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userColumns+`, coalesce(password_hash, '') FROM users WHERE email = $1`, email), &hash)
	return u, hash, err
}

func userWithHash(ctx context.Context, q querier, id int64) (User, string, error) {
	var hash string
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userColumns+`, coalesce(password_hash, '') FROM users WHERE id = $1`, id), &hash)
	return u, hash, err
}

func setPasswordHash(ctx context.Context, tx pgx.Tx, id int64, hash string) error {
	tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, id, hash)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
