package events

import (
	"context"
	"errors"
)

// position is a place in the events table, in delivery order: (tx, id).
type position struct {
	tx uint64
	id int64
}

// readSQL reads the next events of subscriber $1 past its cursor ($2, $3),
// at most $5, of the kinds $4 (empty: all).
//
// Visibility: ids are taken before commit and commits come out of order, so
// a cursor over id alone would pass an event whose transaction has not
// committed yet and never come back for it. Instead every event carries its
// transaction id tx, and only final events are read: those with tx below
// the xmin of this statement's snapshot, the oldest transaction still
// running. Every transaction with a smaller id has ended, so no event with
// such a tx can appear any more, and an event not yet visible has a tx of at
// least xmin, which sorts after everything read here. Reading in (tx, id)
// order and moving the cursor through final events therefore never skips
// one that commits later. The price: a long transaction that wrote
// anything delays delivery of the events of every transaction that took its
// id after it.
//
// Each row also says whether its user has deliveries pending in
// event_deliveries (held: it must wait behind them), and every row, or the
// single empty row when nothing is final, carries the snapshot's xmin and
// whether committed events wait for an older transaction (later): then the
// lane polls instead of waiting for a notification that will not come.
// (Both are computed once, in h: as a column, the planner ran the EXISTS
// once per row, as a sequential scan.)
const readSQL = `
	WITH h AS MATERIALIZED (
		SELECT x.xmin, EXISTS (SELECT 1 FROM events w WHERE w.tx >= x.xmin) AS later
		FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) x)
	SELECT h.xmin, h.later, coalesce(e.tx, '0'), coalesce(e.held, false), ` + eventColumns + `
	FROM h LEFT JOIN LATERAL (
		SELECT e.*, EXISTS (
			SELECT 1 FROM event_deliveries p
			WHERE p.subscriber = $1 AND p.user_id = e.user_id
			  AND p.delivered_at IS NULL AND p.dead_at IS NULL) AS held
		FROM events e
		WHERE (e.tx, e.id) > ($2, $3) AND e.tx < h.xmin
		  AND (cardinality($4::text[]) = 0 OR e.kind = ANY ($4::text[]))
		ORDER BY e.tx, e.id
		LIMIT $5) e ON true
	ORDER BY e.tx, e.id`

// page is what one read found.
type page struct {
	events []claimed
	// next is where the cursor may move once these events are handled: the
	// last one, or the snapshot's xmin when the read reached it (every final
	// event of this subscriber's kinds was read; any other has a tx >= xmin).
	next  position
	later bool
}

// read returns the next final events past the cursor.
func (l *lane) read(ctx context.Context) (page, error) {
	rows, err := l.d.work.Query(ctx, readSQL, l.sub.Name, l.cursor.tx, l.cursor.id, l.kinds, batchSize)
	if err != nil {
		return page{}, err
	}
	defer rows.Close()
	var p page
	var xmin uint64
	for rows.Next() {
		c := claimed{attempts: 1}
		var tx uint64
		if err := rows.Scan(append([]any{&xmin, &p.later, &tx, &c.held}, eventDest(&c.event)...)...); err != nil {
			return page{}, err
		}
		if c.event.ID != 0 {
			p.events = append(p.events, c)
			p.next = position{tx, c.event.ID}
		}
	}
	if err := rows.Err(); err != nil {
		return page{}, err
	}
	if len(p.events) < batchSize {
		p.next = position{tx: xmin}
	}
	if p.next.tx < l.cursor.tx || (p.next.tx == l.cursor.tx && p.next.id < l.cursor.id) {
		p.next = l.cursor // never back (xmin cannot go below a final event, but be sure)
	}
	return p, nil
}

// saveSQL moves the cursor of subscriber $1 to ($3, $4), renews the lease of
// dispatcher $2 for $5 ms and queues in event_deliveries the events that
// must be delivered again: the failed one of a run (attempts 1, due after
// the backoff, or dead) and the ones behind it or held behind earlier
// deliveries of their user (attempts 0, due now). All or nothing, and only
// while $2 still holds the lease: a dispatcher that lost it writes nothing,
// and the new owner reads again from the old cursor (at least once).
const saveSQL = `
	WITH lease AS (
		UPDATE event_subscribers
		SET cursor_tx = $3, cursor_id = $4, lease_until = now() + $5 * interval '1 millisecond'
		WHERE name = $1 AND owner = $2
		RETURNING name
	), queued AS (
		INSERT INTO event_deliveries (event_id, subscriber, user_id, attempts, last_error, next_attempt_at, dead_at)
		SELECT f.event_id, l.name, nullif(f.user_id, 0), f.attempts, f.err,
		       now() + f.wait_ms * interval '1 millisecond', CASE WHEN f.dead THEN now() END
		FROM lease l, unnest($6::bigint[], $7::bigint[], $8::int[], $9::text[], $10::bigint[], $11::bool[])
		     AS f(event_id, user_id, attempts, err, wait_ms, dead)
		ON CONFLICT (event_id, subscriber) DO NOTHING
	)
	SELECT count(*) FROM lease`

// errLeaseLost reports that another dispatcher took this subscriber over.
var errLeaseLost = errors.New("events: the subscriber's lease passed to another dispatcher")

// save records the outcomes of a page and moves the cursor to next. On
// errLeaseLost or any other error the lane gives up the lease and reads the
// cursor afresh when it holds it again.
func (l *lane) save(ctx context.Context, done []outcome, next position) error {
	var ids, users, waits []int64
	var attempts []int32
	var errs []string
	var dead []bool
	for _, r := range done {
		if r.err == nil && !r.released {
			continue
		}
		var msg string
		var parked bool
		var wait int64
		n := int32(0)
		if r.err != nil {
			msg, parked, wait = l.failure(r)
			n = int32(r.attempts)
		}
		ids, users, attempts = append(ids, r.event.ID), append(users, r.event.UserID), append(attempts, n)
		errs, waits, dead = append(errs, msg), append(waits, wait), append(dead, parked)
	}
	var held int
	err := retryWrite(ctx, func() error {
		return l.d.work.QueryRow(ctx, saveSQL, l.sub.Name, l.d.id, next.tx, next.id, l.d.o.Lease.Milliseconds(),
			ids, users, attempts, errs, waits, dead).Scan(&held)
	})
	if err == nil && held == 0 {
		err = errLeaseLost
	}
	if err != nil {
		l.owned = false
		return err
	}
	l.cursor = next
	return nil
}
