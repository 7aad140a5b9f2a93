package events

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// claimed is one leased delivery.
type claimed struct {
	event    Event
	attempts int
}

// claimSQL leases due deliveries of subscriber $1, oldest first: up to $2
// heads, each with up to $4 followers. A head is a delivery no earlier
// pending delivery of the same user precedes, which keeps order per user
// (events without a user have no order among them and no followers); FOR
// UPDATE SKIP LOCKED gives each head to one dispatcher. Followers are the
// same user's next pending deliveries; only the head's holder can reach
// them, so they need no lock of their own, and claiming them with the head
// lets a busy user's backlog go in one run instead of one event per round
// trip. Dead deliveries do not hold back later ones: parking means giving up
// on that event so the user's stream can go on. attempts counts claims and
// doubles as the lease token: a result is written only while it matches.
const claimSQL = `
	WITH heads AS (
		SELECT c.event_id, c.user_id FROM event_deliveries c
		WHERE c.subscriber = $1 AND c.delivered_at IS NULL AND c.dead_at IS NULL
		  AND c.next_attempt_at <= now() AND (c.claimed_until IS NULL OR c.claimed_until < now())
		  AND NOT EXISTS (
			SELECT 1 FROM event_deliveries p
			WHERE p.subscriber = c.subscriber AND p.user_id = c.user_id AND p.event_id < c.event_id
			  AND p.delivered_at IS NULL AND p.dead_at IS NULL)
		ORDER BY c.event_id
		LIMIT $2
		FOR UPDATE SKIP LOCKED
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
	), leased AS (
		UPDATE event_deliveries d
		SET claimed_until = now() + $3 * interval '1 millisecond', attempts = d.attempts + 1
		FROM picked WHERE d.subscriber = $1 AND d.event_id = picked.event_id
		RETURNING d.event_id, d.attempts
	)
	SELECT ` + eventColumns + `, l.attempts, (SELECT count(*) FROM heads)
	FROM leased l JOIN events e ON e.id = l.event_id
	ORDER BY e.id`

// eventColumns reads an events row aliased e into scanEvent's order.
const eventColumns = `e.id, e.kind, coalesce(e.user_id, 0), coalesce(e.provider, ''),
	coalesce(e.provider_user_id, ''), coalesce(e.connection_id, 0), e.reason,
	e.request_id, e.ip, e.user_agent, e.data, e.created_at`

// scanEvent's destinations, in eventColumns order.
func eventDest(e *Event) []any {
	return []any{&e.ID, &e.Kind, &e.UserID, &e.Provider, &e.ProviderUserID, &e.ConnectionID,
		&e.Reason, &e.Meta.RequestID, &e.Meta.IP, &e.Meta.UserAgent, &e.Data, &e.CreatedAt}
}

// maxFollowers bounds one run, so one busy user cannot hold a lane's slots.
const maxFollowers = 15

// claim leases up to n heads and their followers. It returns them in event
// order and how many heads there were.
func (l *lane) claim(ctx context.Context, n int) ([]claimed, int, error) {
	rows, err := l.d.work.Query(ctx, claimSQL, l.sub.Name, n, l.d.o.Lease.Milliseconds(), maxFollowers)
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

// finishSQL writes the outcome of claims: delivered, retry at a later time,
// dead, or released untried (its claim does not count as an attempt). A row
// whose attempts moved on was re-claimed after our lease ran out; its new
// owner writes its outcome instead.
const finishSQL = `
	UPDATE event_deliveries d
	SET claimed_until = NULL,
	    attempts = CASE WHEN f.released THEN d.attempts - 1 ELSE d.attempts END,
	    delivered_at = CASE WHEN f.ok THEN now() END,
	    dead_at = CASE WHEN f.dead THEN now() END,
	    last_error = CASE WHEN f.released THEN d.last_error ELSE f.err END,
	    next_attempt_at = CASE WHEN f.released THEN d.next_attempt_at
	                           ELSE now() + f.wait_ms * interval '1 millisecond' END
	FROM unnest($2::bigint[], $3::int[], $4::bool[], $5::bool[], $6::text[], $7::bigint[], $8::bool[])
	     AS f(event_id, attempts, ok, dead, err, wait_ms, released)
	WHERE d.subscriber = $1 AND d.event_id = f.event_id AND d.attempts = f.attempts
	  AND d.delivered_at IS NULL`

// finish records outcomes, retrying for a few seconds while the database is
// unreachable (a restart). If it still fails the leases run out and the
// events are delivered again: at least once, never lost.
func (l *lane) finish(ctx context.Context, done []outcome) {
	if len(done) == 0 {
		return
	}
	n := len(done)
	ids, attempts := make([]int64, n), make([]int32, n)
	ok, dead, released := make([]bool, n), make([]bool, n), make([]bool, n)
	errs, waits := make([]string, n), make([]int64, n)
	for i, r := range done {
		ids[i], attempts[i], released[i] = r.eventID, int32(r.attempts), r.released
		ok[i] = r.err == nil && !r.released
		if r.err != nil {
			errs[i] = Clip(r.err.Error(), 1024)
			dead[i] = r.attempts >= l.d.o.MaxAttempts
			waits[i] = l.d.o.Backoff(r.attempts).Milliseconds()
			l.logFailure(r, dead[i])
		}
	}
	var err error
	for try, wait := 0, 50*time.Millisecond; try < 8; try, wait = try+1, wait*2 {
		if _, err = l.d.work.Exec(ctx, finishSQL, l.sub.Name, ids, attempts, ok, dead, errs, waits, released); err == nil {
			return
		}
		if !sleep(ctx, wait) {
			break
		}
	}
	l.d.o.Logger.Warn("events: record delivery results; they will be delivered again when their lease ends",
		"subscriber", l.sub.Name, "count", n, "err", err)
}

func (l *lane) logFailure(r outcome, dead bool) {
	log := l.d.o.Logger.Warn
	msg := "events: delivery failed; will retry"
	if dead {
		log = l.d.o.Logger.Error
		msg = "events: delivery parked as dead after the last attempt"
	}
	log(msg, "subscriber", l.sub.Name, "event_id", r.eventID, "attempt", r.attempts, "err", fmt.Sprint(r.err))
}
