package mail

import (
	"context"
	"fmt"
	"time"
)

// Prune deletes mail sent (or skipped) more than olderThan ago and links
// that were used or expired that long ago, so the outbox holds recent
// history, not every mail ever sent. Dead mail stays until an
// administrator retries it or it ages out the same way.
func Prune(ctx context.Context, db Querier, olderThan time.Duration) (int64, error) {
	secs := olderThan.Seconds()
	tag, err := db.Exec(ctx, `
		DELETE FROM mail_outbox
		WHERE coalesce(sent_at, dead_at) < now() - make_interval(secs => $1)`, secs)
	if err != nil {
		return 0, fmt.Errorf("mail: prune outbox: %w", err)
	}
	n := tag.RowsAffected()
	tag, err = db.Exec(ctx, `
		DELETE FROM mail_links l
		WHERE coalesce(l.used_at, l.expires_at) < now() - make_interval(secs => $1)
		  AND NOT EXISTS (SELECT 1 FROM mail_outbox o WHERE o.link_id = l.id AND o.sent_at IS NULL)`, secs)
	if err != nil {
		return n, fmt.Errorf("mail: prune links: %w", err)
	}
	return n + tag.RowsAffected(), nil
}
