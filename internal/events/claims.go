package events

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// claimed is one event on its way to a subscriber: read past the cursor, or
// claimed from event_deliveries for another attempt.
type claimed struct {
	event    Event
	attempts int  // counting this one
	held     bool // its user has earlier deliveries pending: queue it behind them
}

// retrySQL claims due deliveries of subscriber $1 from event_deliveries,
// oldest first: up to $2 heads, each with up to $4 followers, while
// dispatcher $3 holds the subscriber's lease (one owner, so rows need no
// lease of their own). A head is a delivery no earlier pending delivery of
// the same user precedes, which keeps order per user (events without a user
// have no order among them and no followers). Followers are the same user's
// next pending deliveries, so a user's backlog goes in one run instead of
// one event per round trip. Dead deliveries do not hold back later ones:
// parking means giving up on that event so the user's stream can go on.
// attempts counts claims (a claim that crashed counts) and doubles as a
// token: a result is written only while it matches.
const retrySQL = `
	WITH heads AS (
		SELECT c.event_id, c.user_id FROM event_deliveries c
		WHERE c.subscriber = $1 AND c.delivered_at IS NULL AND c.dead_at IS NULL
		  AND c.next_attempt_at <= now()
		  AND EXISTS (SELECT 1 FROM event_subscribers s
		              WHERE s.name = $1 AND s.owner = $3 AND s.lease_until > now())
		  AND NOT EXISTS (
			SELECT 1 FROM event_deliveries p
			WHERE p.subscriber = c.subscriber AND p.user_id = c.user_id AND p.event_id < c.event_id
			  AND p.delivered_at IS NULL AND p.dead_at IS NULL)
		ORDER BY c.event_id
		LIMIT $2
	), picked AS (
		SELECT event_id FROM heads
		UNION ALL
		SELECT f.event_id FROM heads h CROSS JOIN LATERAL (
			SELECT f.event_id FROM event_deliveries f
			WHERE f.subscriber = $1 AND f.user_id = h.user_id AND f.event_id > h.event_id
			  AND f.delivered_at IS NULL AND f.dead_at IS NULL
			ORDER BY f.event_id
			LIMIT $4) f
		WHERE h.user_id IS NOT NULL
	), claimed AS (
		UPDATE event_deliveries d SET attempts = d.attempts + 1
		FROM picked WHERE d.subscriber = $1 AND d.event_id = picked.event_id
		RETURNING d.event_id, d.attempts
	)
	SELECT ` + eventColumns + `, c.attempts, (SELECT count(*) FROM heads)
	FROM claimed c JOIN events e ON e.id = c.event_id
	ORDER BY e.id`

// eventColumns reads an events row aliased e into eventDest's order. Every
// column is coalesced so that a missing row (an outer join) scans too.
const eventColumns = `coalesce(e.id, 0), coalesce(e.kind, ''), coalesce(e.user_id, 0),
	coalesce(e.provider, ''), coalesce(e.provider_user_id, ''), coalesce(e.connection_id, 0),
	coalesce(e.reason, ''), coalesce(e.request_id, ''), coalesce(e.ip, ''),
	coalesce(e.user_agent, ''), coalesce(e.data, '{}'), coalesce(e.created_at, 'epoch')`

// eventDest returns the scan destinations, in eventColumns order.
func eventDest(e *Event) []any {
	return []any{&e.ID, &e.Kind, &e.UserID, &e.Provider, &e.ProviderUserID, &e.ConnectionID,
		&e.Reason, &e.Meta.RequestID, &e.Meta.IP, &e.Meta.UserAgent, &e.Data, &e.CreatedAt}
}

// maxFollowers bounds one run, so one busy user cannot hold a lane's slots.
const maxFollowers = 15

// claimRetries claims up to n due heads and their followers from
// event_deliveries. It returns them in event order and how many heads
// there were.
func (l *lane) claimRetries(ctx context.Context, n int) ([]claimed, int, error) {
	rows, err := l.d.work.Query(ctx, retrySQL, l.sub.Name, n, l.d.id, maxFollowers)
	if err != nil {
		return nil, 0, err
	}
	heads := 0
	batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimed, error) {
		var c claimed
		err := r.Scan(append(eventDest(&c.event), &c.attempts, &heads)...)
		return c, err
	})
	return batch, heads, err
}

// finishSQL writes the outcome of claimed retries: delivered, retry at a
// later time, dead, or released untried (its claim does not count as an
// attempt). A row whose attempts moved on was claimed again by a dispatcher
// that took the lease over; it writes the outcome instead.
const finishSQL = `
	UPDATE event_deliveries d
	SET attempts = CASE WHEN f.released THEN d.attempts - 1 ELSE d.attempts END,
	    delivered_at = CASE WHEN f.ok THEN now() END,
	    dead_at = CASE WHEN f.dead THEN now() END,
	    last_error = CASE WHEN f.released THEN d.last_error ELSE f.err END,
	    next_attempt_at = CASE WHEN f.released THEN d.next_attempt_at
	                           ELSE now() + f.wait_ms * interval '1 millisecond' END
	FROM unnest($2::bigint[], $3::int[], $4::bool[], $5::bool[], $6::text[], $7::bigint[], $8::bool[])
	     AS f(event_id, attempts, ok, dead, err, wait_ms, released)
	WHERE d.subscriber = $1 AND d.event_id = f.event_id AND d.attempts = f.attempts
	  AND d.delivered_at IS NULL`

// finish records the outcomes of retries. If it fails the rows stay
// claimed-but-pending and are attempted again: at least once, never lost.
func (l *lane) finish(ctx context.Context, done []outcome) {
	if len(done) == 0 {
		return
	}
	n := len(done)
	ids, attempts := make([]int64, n), make([]int32, n)
	ok, dead, released := make([]bool, n), make([]bool, n), make([]bool, n)
	errs, waits := make([]string, n), make([]int64, n)
	for i, r := range done {
		ids[i], attempts[i], released[i] = r.event.ID, int32(r.attempts), r.released
		ok[i] = r.err == nil && !r.released
		if r.err != nil {
			errs[i], dead[i], waits[i] = l.failure(r)
		}
	}
	err := retryWrite(ctx, func() error {
		_, err := l.d.work.Exec(ctx, finishSQL, l.sub.Name, ids, attempts, ok, dead, errs, waits, released)
		return err
	})
	if err != nil {
		l.d.o.Logger.Warn("events: record delivery results; they will be delivered again",
			"subscriber", l.sub.Name, "count", n, "err", err)
	}
}

// failure logs a failed attempt and returns what to store: the error, whether
// the delivery is now dead, and the wait before the next attempt.
func (l *lane) failure(r outcome) (msg string, dead bool, waitMS int64) {
	dead = r.attempts >= l.d.o.MaxAttempts
	log, text := l.d.o.Logger.Warn, "events: delivery failed; will retry"
	if dead {
		l.observe(r.event, "dead")
		log, text = l.d.o.Logger.Error, "events: delivery parked as dead after the last attempt"
	}
	log(text, "subscriber", l.sub.Name, "event_id", r.event.ID, "attempt", r.attempts, "err", fmt.Sprint(r.err))
	return Clip(r.err.Error(), 1024), dead, l.d.o.Backoff(r.attempts).Milliseconds()
}

// retryWrite runs write until it succeeds, for a few seconds while the
// database is unreachable (a restart).
func retryWrite(ctx context.Context, write func() error) error {
	var err error
	for try, wait := 0, 50*time.Millisecond; try < 8; try, wait = try+1, wait*2 {
		if err = write(); err == nil {
			return nil
		}
		if !sleep(ctx, wait) {
			break
		}
	}
	return err
}
