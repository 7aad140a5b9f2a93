package events

import (
	"context"
	"sync"
	"time"
)

// batchSize bounds the events one read takes past the cursor.
const batchSize = 1000

// lane delivers to one subscriber. Each subscriber has its own lane, with its
// own cursor, lease and bound on calls in flight, so a subscriber that fails,
// panics or hangs only ever delays itself. Only the lane's goroutine touches
// its fields.
type lane struct {
	d       *Dispatcher
	sub     Subscriber
	kinds   []string
	wake    chan struct{}
	awake   time.Time // until when this lane promised to poll (see keepAwake)
	owned   bool      // this dispatcher holds the subscriber's lease
	cursor  position  // while owned: the subscriber's cursor
	renewed time.Time // when the lease was last written
	retried time.Time // when event_deliveries was last looked at
}

// outcome is the result of one event's delivery.
type outcome struct {
	event    Event
	attempts int
	err      error
	released bool // not attempted: an earlier event of its run failed or was held
}

func (l *lane) nudge() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// run delivers while this dispatcher holds the subscriber's lease, and
// otherwise tries every Poll to take it (not on every notification: one
// UPDATE per replica per commit would be waste): a dispatcher that stops
// gives it up, one that dies loses it when it runs out. The owner looks for work at
// start, on a notification, on every poll tick, right away after a step
// that found work, and every claimGap while it promised to poll or while
// committed events wait for an older transaction to end.
func (l *lane) run(ctx context.Context) {
	poll := time.NewTicker(l.d.o.Poll)
	defer poll.Stop()
	defer l.release()
	var last, nextTry time.Time
	for ctx.Err() == nil {
		soon := false
		if !l.owned && time.Now().After(nextTry) && !l.acquire(ctx) {
			nextTry = time.Now().Add(l.d.o.Poll / 2) // stand by: try again on a poll tick
		}
		if l.owned {
			if gap := claimGap - time.Since(last); gap > 0 {
				sleep(ctx, gap)
			}
			last = time.Now()
			busy, later := l.step(ctx)
			if busy {
				continue
			}
			soon = later || time.Now().Before(l.awake.Add(awakeMargin))
		}
		var tick <-chan time.Time
		var t *time.Timer
		if soon {
			t = time.NewTimer(claimGap)
			tick = t.C
		}
		select {
		case <-ctx.Done():
		case <-l.wake:
		case <-poll.C:
		case <-tick:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// step delivers one page of new events, then due retries. It reports
// whether it found work (look again at once) and whether committed events
// wait behind an older running transaction.
func (l *lane) step(ctx context.Context) (busy, later bool) {
	p, err := l.read(ctx)
	if err != nil {
		l.warn(ctx, "events: read events", err)
		return false, false
	}
	if len(p.events) > 0 || time.Since(l.renewed) > l.d.o.Lease/3 {
		done := l.deliverAll(ctx, p.events)
		if err := l.save(context.WithoutCancel(ctx), done, p.next); err != nil {
			l.warn(ctx, "events: save the cursor; its events will be delivered again", err)
			return false, false
		}
		l.renewed = time.Now()
		busy = len(p.events) == batchSize
		if len(p.events) > 0 {
			l.keepAwake(ctx)
		}
		if hasRetries(done) {
			l.retried = time.Time{} // queued some: look at them now
		}
	}
	if time.Since(l.retried) >= l.d.o.Poll {
		more, err := l.retry(ctx)
		if err != nil {
			l.warn(ctx, "events: claim retries", err)
		}
		busy = busy || more
	}
	return busy, p.later
}

// hasRetries reports whether some outcome was queued in event_deliveries.
func hasRetries(done []outcome) bool {
	for _, r := range done {
		if r.err != nil || r.released {
			return true
		}
	}
	return false
}

// retry delivers due deliveries from event_deliveries, reporting whether
// there may be more due.
func (l *lane) retry(ctx context.Context) (bool, error) {
	batch, heads, err := l.claimRetries(ctx, l.d.o.InFlight)
	if err != nil {
		return false, err
	}
	if len(batch) == 0 {
		l.retried = time.Now()
		return false, nil
	}
	done := l.deliverAll(ctx, batch)
	l.finish(context.WithoutCancel(ctx), done)
	return heads == l.d.o.InFlight || hasRetries(done), nil
}

func (l *lane) warn(ctx context.Context, msg string, err error) {
	if ctx.Err() == nil {
		l.d.o.Logger.Warn(msg, "subscriber", l.sub.Name, "err", err)
	}
}

// acquire takes the subscriber's lease when it is free or has run out, and
// reads the cursor it starts from.
func (l *lane) acquire(ctx context.Context) bool {
	err := l.d.work.QueryRow(ctx, `
		UPDATE event_subscribers
		SET owner = $2, lease_until = now() + $3 * interval '1 millisecond'
		WHERE name = $1 AND (owner = $2 OR owner IS NULL OR lease_until IS NULL OR lease_until < now())
		RETURNING cursor_tx, cursor_id`, l.sub.Name, l.d.id, l.d.o.Lease.Milliseconds(),
	).Scan(&l.cursor.tx, &l.cursor.id)
	if err == nil {
		l.owned, l.renewed, l.retried = true, time.Now(), time.Time{}
	}
	return err == nil
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
// every claimGap for the next second, and keeps that promise for awakeMargin
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

// deliverAll splits batch into runs, one user's events each, and delivers
// the runs concurrently, at most InFlight at a time, renewing the lease
// while they take long. Calls outlive shutdown up to their timeout, so a
// clean stop finishes what it started.
func (l *lane) deliverAll(ctx context.Context, batch []claimed) []outcome {
	if len(batch) == 0 {
		return nil
	}
	stop := make(chan struct{})
	var renewer sync.WaitGroup
	renewer.Go(func() {
		t := time.NewTicker(l.d.o.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				l.renew(context.WithoutCancel(ctx))
			}
		}
	})
	rs := runs(batch)
	done := make([][]outcome, len(rs))
	slots := make(chan struct{}, l.d.o.InFlight)
	var wg sync.WaitGroup
	for i, r := range rs {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			done[i] = l.deliver(context.WithoutCancel(ctx), r)
		})
	}
	wg.Wait()
	close(stop)
	renewer.Wait()
	var out []outcome
	for _, d := range done {
		out = append(out, d...)
	}
	return out
}

// runs splits a batch into runs: one user's events in order, or one event
// without a user.
func runs(batch []claimed) [][]claimed {
	var out [][]claimed
	at := map[int64]int{}
	for _, c := range batch {
		if i, ok := at[c.event.UserID]; ok && c.event.UserID != 0 {
			out[i] = append(out[i], c)
			continue
		}
		at[c.event.UserID] = len(out)
		out = append(out, []claimed{c})
	}
	return out
}

// deliver calls the subscriber for one run in order and stops at the first
// failure (the rest must not overtake it). A run whose user has deliveries
// pending is not called at all: it is queued behind them.
func (l *lane) deliver(ctx context.Context, run []claimed) []outcome {
	done := make([]outcome, len(run))
	stopped := run[0].held
	for i, c := range run {
		done[i] = outcome{event: c.event, attempts: c.attempts, released: stopped}
		if !stopped {
			done[i].err = call(ctx, l.sub, c.event)
			stopped = done[i].err != nil
		}
	}
	return done
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
