package events

import (
	"context"
	"errors"
	"strconv"
)

// position is a place in the events table, in delivery order: (tx, id).
type position struct {
	tx uint64
	id int64
}

// readSQL reads the next events of subscriber $1 past its cursor ($2, $3),
// at most $5, of the kinds $4 (empty: all): the final ones and, when $7,
// those of committed transactions past xmin except the transactions $6
// whose events were already delivered ahead of the cursor.
//
// Visibility: ids are taken before commit and commits come out of order, so
// a cursor over id alone would pass an event whose transaction has not
// committed yet and never come back for it. Instead every event carries its
// transaction id tx, and the cursor only moves through final events: those
// with tx below the xmin of this statement's snapshot, the oldest
// transaction still running. Every transaction with a smaller id has ended,
// so no event with such a tx can appear any more, and an event not yet
// visible has a tx of at least xmin, which sorts after the cursor. Moving
// the cursor through final events in (tx, id) order therefore never skips
// one that commits later.
//
// Events of transactions at or past xmin that are visible have committed
// too; they are read (after every final one) and delivered at once rather
// than when every older transaction has ended, so one slow transaction does
// not delay the others' events. Those transactions are saved with the
// cursor (event_subscribers.ahead), which cannot pass them yet, and handed
// back as $6 until it has, so a dispatcher that takes over does not deliver
// them again. Delivery order per user is therefore the order in which
// the user's transactions became visible, which for transactions that
// overlap is their commit order.
//
// Each row also says whether its user has deliveries pending in
// event_deliveries (held: it must wait behind them), and every row, or the
// single empty row when nothing is new, carries the snapshot's xmin and
// whether events at or past xmin exist (later): then the lane polls, to move
// the cursor past them once their transactions are final. (Both are
// computed once, in h: as a column, the planner ran the EXISTS once per
// row, as a sequential scan. And "later" is the first tx at or past xmin
// in tx order rather than an EXISTS: for an EXISTS over a table without
// statistics, as events is between ANALYZEs, the planner chose a
// sequential scan of the whole table, on every read.)
const readSQL = `
	WITH h AS MATERIALIZED (
		SELECT x.xmin, (SELECT w.tx FROM events w WHERE w.tx >= x.xmin ORDER BY w.tx LIMIT 1) IS NOT NULL AS later
		FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) x)
	SELECT h.xmin, h.later, coalesce(e.tx, '0'), coalesce(e.held, false), ` + eventColumns + `
	FROM h LEFT JOIN LATERAL (
		SELECT e.*, EXISTS (
			SELECT 1 FROM event_deliveries p
			WHERE p.subscriber = $1 AND p.user_id = e.user_id
			  AND p.delivered_at IS NULL AND p.dead_at IS NULL) AS held
		FROM (
			(SELECT * FROM events e
			 WHERE (e.tx, e.id) > ($2, $3) AND e.tx < h.xmin
			   AND (cardinality($4::text[]) = 0 OR e.kind = ANY ($4::text[]))
			 ORDER BY e.tx, e.id
			 LIMIT $5)
			UNION ALL
			(SELECT * FROM events e
			 WHERE $7 AND (e.tx, e.id) > (h.xmin, 0) AND e.tx <> ALL ($6::text[]::xid8[])
			   AND (cardinality($4::text[]) = 0 OR e.kind = ANY ($4::text[]))
			 ORDER BY e.tx, e.id
			 LIMIT $5)
		) e
		ORDER BY e.tx, e.id
		LIMIT $5) e ON true
	ORDER BY e.tx, e.id`

// maxAhead bounds the transactions delivered ahead of the cursor. While an
// old transaction runs for long, every read visits the events delivered
// ahead again; past this many, events wait for the cursor as they would
// without delivery ahead, and the reads stay cheap.
const maxAhead = 256

// page is what one read found.
type page struct {
	events []claimed // to deliver, in (tx, id) order
	// next is where the cursor may move once these events are handled: the
	// last final one, or the snapshot's xmin when the read reached it (every
	// final event of this subscriber's kinds was read; any other has a tx >=
	// xmin).
	next  position
	later bool
	// ahead are the transactions past xmin whose events this page delivers.
	ahead []uint64
}

// read returns the next events past the cursor: final ones, then those of
// committed transactions the cursor cannot pass yet.
func (l *lane) read(ctx context.Context) (page, error) {
	done := make([]string, 0, len(l.ahead))
	for tx := range l.ahead {
		done = append(done, strconv.FormatUint(tx, 10))
	}
	rows, err := l.d.work.Query(ctx, readSQL, l.sub.Name, l.cursor.tx, l.cursor.id, l.kinds, batchSize, done,
		len(l.ahead) < maxAhead)
	if err != nil {
		return page{}, err
	}
	defer rows.Close()
	var p page
	var xmin uint64
	var lastFinal position
	n, cut := 0, 0    // rows read; where the events of the page's last ahead transaction start
	capped := false   // maxAhead reached: the rest waits for the cursor
	sawAhead := false // a row past xmin came, so every final one was read
	for rows.Next() {
		c := claimed{attempts: 1}
		var tx uint64
		if err := rows.Scan(append([]any{&xmin, &p.later, &tx, &c.held}, eventDest(&c.event)...)...); err != nil {
			return page{}, err
		}
		if c.event.ID == 0 {
			continue
		}
		n++
		sawAhead = sawAhead || tx >= xmin
		switch {
		case tx >= xmin && capped:
			continue
		case tx >= xmin && (len(p.ahead) == 0 || p.ahead[len(p.ahead)-1] != tx):
			if len(l.ahead)+len(p.ahead) >= maxAhead {
				capped = true // the transactions read so far are whole: a later one's row came
				continue
			}
			p.ahead, cut = append(p.ahead, tx), len(p.events)
		case tx >= xmin:
		case l.ahead[tx]:
			lastFinal = position{tx, c.event.ID} // delivered while it was ahead
			continue
		default:
			lastFinal = position{tx, c.event.ID}
		}
		p.events = append(p.events, c)
	}
	if err := rows.Err(); err != nil {
		return page{}, err
	}
	if n == batchSize && len(p.ahead) > 0 && !capped {
		// The page may end inside the last transaction's events: leave
		// that transaction for the next read, whole.
		p.events, p.ahead = p.events[:cut], p.ahead[:len(p.ahead)-1]
	}
	p.next = position{tx: xmin}
	if n == batchSize && !sawAhead {
		p.next = lastFinal // the page ended among final events
	}
	if p.next.tx < l.cursor.tx || (p.next.tx == l.cursor.tx && p.next.id < l.cursor.id) {
		p.next = l.cursor // never back (xmin cannot go below a final event, but be sure)
	}
	return p, nil
}

// saveSQL moves the cursor of subscriber $1 to ($3, $4), with $12 the
// transactions past it whose events were delivered, renews the lease of
// dispatcher $2 for $5 ms and queues in event_deliveries the events that
// must be delivered again: the failed one of a run (attempts 1, due after
// the backoff, or dead) and the ones behind it or held behind earlier
// deliveries of their user (attempts 0, due now). All or nothing, and only
// while $2 still holds the lease: a dispatcher that lost it writes nothing,
// and the new owner reads again from the old cursor (at least once).
const saveSQL = `
	WITH lease AS (
		UPDATE event_subscribers
		SET cursor_tx = $3, cursor_id = $4, ahead = $12::text[]::xid8[],
		    lease_until = now() + $5 * interval '1 millisecond'
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

// save records the outcomes of a page and moves the cursor to p.next,
// remembering (in the lane and in event_subscribers, for a dispatcher that
// takes over) the transactions delivered ahead of it until it passes them.
// On errLeaseLost or any other error the lane gives up the lease and reads
// the cursor afresh when it holds it again.
func (l *lane) save(ctx context.Context, done []outcome, p page) error {
	next := p.next
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
	ahead := map[uint64]bool{}
	for tx := range l.ahead {
		ahead[tx] = true
	}
	for _, tx := range p.ahead {
		ahead[tx] = true
	}
	aheadList := []string{} // not nil: NULL is no array
	for tx := range ahead {
		if tx < next.tx {
			delete(ahead, tx) // the cursor passes it
			continue
		}
		aheadList = append(aheadList, strconv.FormatUint(tx, 10))
	}
	var held int
	err := retryWrite(ctx, func() error {
		return l.d.work.QueryRow(ctx, saveSQL, l.sub.Name, l.d.id, next.tx, next.id, l.d.o.Lease.Milliseconds(),
			ids, users, attempts, errs, waits, dead, aheadList).Scan(&held)
	})
	if err == nil && held == 0 {
		err = errLeaseLost
	}
	if err != nil {
		l.owned, l.ahead = false, nil
		return err
	}
	l.cursor, l.ahead = next, ahead
	return nil
}
