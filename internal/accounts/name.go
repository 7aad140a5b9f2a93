package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
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

// QueueName queues the read of userID's display name on b, so a page can
// fetch it with others in one round trip; out is set when the batch runs.
func (s *Service) QueueName(b *pgx.Batch, userID int64, out *string) {
	b.Queue(`SELECT name FROM users WHERE id = $1`, userID).QueryRow(func(row pgx.Row) error {
		err := row.Scan(out)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
}
