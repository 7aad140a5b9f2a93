package events

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// lane delivers to one subscriber. Each subscriber has its own lane, with its
// own claims and its own bound on calls in flight, so a subscriber that fails,
// panics or hangs only ever delays itself.
type lane struct {
	d    *Dispatcher
	sub  Subscriber
	wake chan struct{}
}

// outcome is the result of one delivery attempt.
type outcome struct {
	eventID  int64
	attempts int
	err      error
}

func (l *lane) nudge() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// run claims work whenever a slot is free and something may be waiting: at
// start, on a notification, after results were written (a user's next event
// may now be due) and on every poll tick (retries that came due, lost
// notifications).
func (l *lane) run(ctx context.Context) {
	limit := l.d.o.InFlight
	results := make(chan outcome, limit)
	poll := time.NewTicker(l.d.o.Poll)
	defer poll.Stop()
	inFlight := 0
	for {
		more := false
		if free := limit - inFlight; free > 0 {
			batch, err := l.claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				l.d.o.Logger.Warn("events: claim deliveries", "subscriber", l.sub.Name, "err", err)
			}
			for _, c := range batch {
				inFlight++
				go func() {
					// A call outlives shutdown up to its timeout, so that a
					// clean stop finishes what it started.
					results <- outcome{c.event.ID, c.attempts, call(context.WithoutCancel(ctx), l.sub, c.event)}
				}()
			}
			more = err == nil && len(batch) == free
		}
		if more {
			continue
		}
		select {
		case <-ctx.Done():
			l.drain(results, inFlight)
			return
		case r := <-results:
			done := collect(r, results)
			inFlight -= len(done)
			l.finish(ctx, done)
		case <-l.wake:
		case <-poll.C:
		}
	}
}

// collect takes first and every other result already waiting, so that one
// statement records them all.
func collect(first outcome, results chan outcome) []outcome {
	done := []outcome{first}
	for {
		select {
		case r := <-results:
			done = append(done, r)
		default:
			return done
		}
	}
}

// drain records the calls still running at shutdown, for a few seconds, so
// that a clean stop does not leave leases to expire and deliveries to repeat.
func (l *lane) drain(results chan outcome, inFlight int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var done []outcome
	for ; inFlight > 0; inFlight-- {
		select {
		case r := <-results:
			done = append(done, r)
		case <-ctx.Done():
			inFlight = 0
		}
	}
	l.finish(ctx, done)
}

// claimed is one leased delivery.
type claimed struct {
	event    Event
	attempts int
}

// claimSQL leases up to $2 due deliveries of subscriber $1, oldest first,
// skipping rows another dispatcher holds. A delivery is due only when no
// earlier event of the same user is still pending for this subscriber, which
// keeps order per user (events without a user have no order among them).
// Dead deliveries do not hold back later ones: parking means giving up on
// that event so the user's stream can go on. attempts counts claims and
// doubles as the lease token: a result is written only while it matches.
const claimSQL = `
	WITH next AS (
		SELECT c.event_id FROM event_deliveries c
		WHERE c.subscriber = $1 AND c.delivered_at IS NULL AND c.dead_at IS NULL
		  AND c.next_attempt_at <= now() AND (c.claimed_until IS NULL OR c.claimed_until < now())
		  AND NOT EXISTS (
			SELECT 1 FROM event_deliveries p
			WHERE p.subscriber = c.subscriber AND p.user_id = c.user_id AND p.event_id < c.event_id
			  AND p.delivered_at IS NULL AND p.dead_at IS NULL)
		ORDER BY c.event_id
		LIMIT $2
		FOR UPDATE SKIP LOCKED
	), leased AS (
		UPDATE event_deliveries d
		SET claimed_until = now() + $3 * interval '1 millisecond', attempts = d.attempts + 1
		FROM next WHERE d.subscriber = $1 AND d.event_id = next.event_id
		RETURNING d.event_id, d.attempts
	)
	SELECT ` + eventColumns + `, l.attempts
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

func (l *lane) claim(ctx context.Context, n int) ([]claimed, error) {
	rows, err := l.d.o.DB.Query(ctx, claimSQL, l.sub.Name, n, l.d.o.Lease.Milliseconds())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimed, error) {
		var c claimed
		err := r.Scan(append(eventDest(&c.event), &c.attempts)...)
		return c, err
	})
}

// finishSQL writes the outcome of attempts: delivered, retry at a later time,
// or dead. A row whose attempts moved on was re-claimed after our lease ran
// out; its new owner writes its outcome instead.
const finishSQL = `
	UPDATE event_deliveries d
	SET claimed_until = NULL,
	    delivered_at = CASE WHEN f.ok THEN now() END,
	    dead_at = CASE WHEN f.dead THEN now() END,
	    last_error = f.err,
	    next_attempt_at = now() + f.wait_ms * interval '1 millisecond'
	FROM unnest($2::bigint[], $3::int[], $4::bool[], $5::bool[], $6::text[], $7::bigint[])
	     AS f(event_id, attempts, ok, dead, err, wait_ms)
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
	ok, dead := make([]bool, n), make([]bool, n)
	errs, waits := make([]string, n), make([]int64, n)
	for i, r := range done {
		ids[i], attempts[i], ok[i] = r.eventID, int32(r.attempts), r.err == nil
		if r.err != nil {
			errs[i] = Clip(r.err.Error(), 1024)
			dead[i] = r.attempts >= l.d.o.MaxAttempts
			waits[i] = l.d.o.Backoff(r.attempts).Milliseconds()
			l.logFailure(r, dead[i])
		}
	}
	var err error
	for try, wait := 0, 50*time.Millisecond; try < 8; try, wait = try+1, wait*2 {
		if _, err = l.d.o.DB.Exec(ctx, finishSQL, l.sub.Name, ids, attempts, ok, dead, errs, waits); err == nil {
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

// sleep waits d or until ctx ends, reporting whether the full wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
