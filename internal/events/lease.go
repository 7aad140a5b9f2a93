package events

import (
	"context"
	"strconv"
	"time"
)

// acquire takes the subscriber's lease when it is free or has run out, and
// reads the cursor it starts from, with the transactions past it whose
// events were already delivered.
func (l *lane) acquire(ctx context.Context) bool {
	var ahead []string
	err := l.d.work.QueryRow(ctx, `
		UPDATE event_subscribers
		SET owner = $2, lease_until = now() + $3 * interval '1 millisecond'
		WHERE name = $1 AND (owner = $2 OR owner IS NULL OR lease_until IS NULL OR lease_until < now())
		RETURNING cursor_tx, cursor_id, ahead::text[]`, l.sub.Name, l.d.id, l.d.o.Lease.Milliseconds(),
	).Scan(&l.cursor.tx, &l.cursor.id, &ahead)
	if err != nil {
		return false
	}
	l.owned, l.renewed, l.retried, l.ahead = true, time.Now(), time.Time{}, map[uint64]bool{}
	for _, a := range ahead {
		if tx, err := strconv.ParseUint(a, 10, 64); err == nil {
			l.ahead[tx] = true
		}
	}
	return true
}

// renew extends the lease while a page is being delivered; if the lease was
// lost the save that follows fails, and the new owner delivers again.
func (l *lane) renew(ctx context.Context) {
	_, err := l.d.work.Exec(ctx, `
		UPDATE event_subscribers SET lease_until = now() + $3 * interval '1 millisecond'
		WHERE name = $1 AND owner = $2`, l.sub.Name, l.d.id, l.d.o.Lease.Milliseconds())
	if err != nil {
		l.warn(ctx, "events: renew the lease", err)
	}
}

// release gives the lease up on shutdown so another dispatcher takes over
// at its next poll rather than when the lease runs out.
func (l *lane) release() {
	if !l.owned {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = l.d.work.Exec(ctx, `UPDATE event_subscribers SET owner = NULL, lease_until = NULL
		WHERE name = $1 AND owner = $2`, l.sub.Name, l.d.id)
	l.owned = false
}

// keepAwake promises, in event_subscribers.awake_until, that this lane polls
// every Gap for the next second, and keeps that promise for awakeMargin
// longer. While a promise holds, the trigger sends no notification for this
// subscriber: a NOTIFY makes PostgreSQL serialize the commits of every
// notifying transaction, which under load costs the requests far more than
// polling does. When no work came for a second the promise lapses and the
// next event notifies again. It is renewed at most every quarter second.
func (l *lane) keepAwake(ctx context.Context) {
	if time.Until(l.awake) > 750*time.Millisecond {
		return
	}
	// The promise is written on PostgreSQL's clock, which the trigger reads,
	// and kept on ours: both count the same second from now.
	until := time.Now().Add(time.Second)
	_, err := l.d.work.Exec(ctx, `UPDATE event_subscribers
		SET awake_until = clock_timestamp() + interval '1 second' WHERE name = $1`, l.sub.Name)
	if err == nil {
		l.awake = until
	}
}
