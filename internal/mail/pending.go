package mail

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// PendingEmail returns the address of userID's newest live link with
// purpose (an email change waiting to be confirmed there), "" when none.
func PendingEmail(ctx context.Context, q Querier, userID int64, purpose Purpose) (string, error) {
	var email string
	err := q.QueryRow(ctx, `
		SELECT email FROM mail_links
		WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
		ORDER BY id DESC LIMIT 1`, userID, string(purpose)).Scan(&email)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("mail: pending %s of user %d: %w", purpose, userID, err)
	}
	return email, nil
}
