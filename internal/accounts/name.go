package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// ErrBadName is a display name that is too long or holds control
// characters.
var ErrBadName = errors.New("accounts: a name is at most 200 characters, without control characters")

// maxName bounds a display name, in characters.
const maxName = 200

// SetName changes the name userID goes by, which administrators see and
// search by; surrounding spaces are dropped and "" clears it (links then
// fills it from the next linked account that has a name).
func (s *Service) SetName(ctx context.Context, userID int64, name string) (string, error) {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxName || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", ErrBadName
	}
	tag, err := s.db.Exec(ctx, `UPDATE users SET name = $2 WHERE id = $1`, userID, name)
	if err != nil {
		return "", fmt.Errorf("set name: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return "", ErrNotFound
	}
	return name, nil
}

// NameFromLink is the statement that gives userID the name of a provider
// account just linked when the user has no name yet, for a transaction
// that sends it with its own: an account takes its display name from the
// first linked account that has one, and administrators search by it.
// None when the provider account has no name.
func NameFromLink(userID int64, name string) []postgres.Statement {
	name = linkName(name)
	if name == "" {
		return nil
	}
	return []postgres.Statement{{SQL: `UPDATE users SET name = $2 WHERE id = $1 AND name = ''`, Args: []any{userID, name}}}
}

// linkName is the display name an account takes from a provider account's.
func linkName(name string) string {
	return strings.TrimSpace(events.Clip(name, maxName))
}

// Name returns the name userID goes by, "" when none; ErrNotFound when
// there is no such user.
func (s *Service) Name(ctx context.Context, userID int64) (string, error) {
	var name string
	err := s.db.QueryRow(ctx, `SELECT name FROM users WHERE id = $1`, userID).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read name: %w", err)
	}
	return name, nil
}
