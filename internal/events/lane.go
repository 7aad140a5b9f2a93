package events

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// lane delivers to one subscriber. Each subscriber has its own lane, with its
// own claims and its own bound on calls in flight, so a subscriber that fails,
// panics or hangs only ever delays itself.
type lane struct {
	d        *Dispatcher
	sub      Subscriber
	wake     chan struct{}
	inFlight atomic.Int64 // claimed deliveries not yet finished
	awake    time.Time    // until when this lane promised to poll (see keepAwake)
}

// outcome is the result of one claimed delivery.
type outcome struct {
	eventID  int64
	attempts int
	err      error
	released bool // not attempted: an earlier event of its run failed first
}

func (l *lane) nudge() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// run claims work whenever a slot is free and something may be waiting: at
// start, on a notification, after a run was finished (a user's next event
// may now be due) and on every poll tick (retries that came due, lost
// notifications). Each run is delivered on its own goroutine; results are
// recorded by one finisher per lane, which writes every result waiting in one
// statement, so under load a few statements cover many deliveries.
func (l *lane) run(ctx context.Context) {
	limit := int64(l.d.o.InFlight)
	poll := time.NewTicker(l.d.o.Poll)
	defer poll.Stop()
	results := make(chan []outcome, limit)
	finished := make(chan struct{})
	go l.finisher(ctx, results, finished)
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		close(results)
		<-finished
	}()
	var last time.Time
	for {
		more := false
		if free := limit - l.inFlight.Load(); free > 0 {
			if gap := claimGap - time.Since(last); gap > 0 {
				sleep(ctx, gap)
			}
			last = time.Now()
			batch, heads, err := l.claim(ctx, int(free))
			if err != nil && ctx.Err() == nil {
				l.d.o.Logger.Warn("events: claim deliveries", "subscriber", l.sub.Name, "err", err)
			}
			for _, r := range runs(batch) {
				l.inFlight.Add(int64(len(r)))
				wg.Go(func() { results <- l.deliver(ctx, r) })
			}
			more = err == nil && heads == int(free)
			if len(batch) > 0 {
				l.keepAwake(ctx)
			}
		}
		if more {
			continue
		}
		var tick <-chan time.Time
		var t *time.Timer
		if time.Now().Before(l.awake.Add(awakeMargin)) {
			t = time.NewTimer(claimGap) // awake: poll instead of waiting to be notified
			tick = t.C
		}
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		case <-poll.C:
		case <-tick:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// keepAwake promises, in event_subscribers.awake_until, that this lane polls
// every claimGap for the next second, and keeps that promise for awakeMargin
// longer. While a promise holds, the fan-out trigger sends no notification
// for this subscriber: a NOTIFY makes PostgreSQL serialize the commits of
// every notifying transaction, which under load costs the requests far more
// than polling does. When no work came for a second the promise lapses and
// the next event notifies again. It is renewed at most every quarter second.
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

// runs splits a claimed batch into runs: one user's events in order, or one
// event without a user.
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
// failure (the rest must not overtake it). Calls outlive shutdown up to their
// timeout, so a clean stop finishes what it started.
func (l *lane) deliver(ctx context.Context, run []claimed) []outcome {
	done := make([]outcome, len(run))
	failed := false
	for i, c := range run {
		done[i] = outcome{eventID: c.event.ID, attempts: c.attempts, released: failed}
		if !failed {
			done[i].err = call(context.WithoutCancel(ctx), l.sub, c.event)
			failed = done[i].err != nil
		}
	}
	return done
}

// finisher records results until results is closed, taking together all
// that are waiting, then frees their slots and nudges the lane: the users'
// next events may now be due.
func (l *lane) finisher(ctx context.Context, results chan []outcome, finished chan struct{}) {
	defer close(finished)
	for first := range results {
		batch := first
	collect:
		for {
			select {
			case more, ok := <-results:
				if !ok {
					break collect
				}
				batch = append(batch, more...)
			default:
				break collect
			}
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		l.finish(fctx, batch)
		cancel()
		l.inFlight.Add(-int64(len(batch)))
		l.nudge()
	}
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
