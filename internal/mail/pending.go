package mail

import (
	"errors"

	"github.com/jackc/pgx/v5"
)

// QueuePendingEmail queues on b the look-up of the address of userID's
// newest live link with purpose (an email change waiting to be confirmed
// there); out is set, "" when none, when the batch runs.
func QueuePendingEmail(b *pgx.Batch, userID int64, purpose Purpose, out *string) {
	b.Queue(pendingSQL, userID, string(purpose)).QueryRow(func(row pgx.Row) error {
		err := row.Scan(out)
		if errors.Is(err, pgx.ErrNoRows) {
			*out = ""
			return nil
		}
		return err
	})
}

const pendingSQL = `
	SELECT email FROM mail_links
	WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
	ORDER BY id DESC LIMIT 1`
