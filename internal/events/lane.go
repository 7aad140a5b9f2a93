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
	awake   time.Time       // until when this lane promised to poll (see keepAwake)
	owned   bool            // this dispatcher holds the subscriber's lease
	cursor  position        // while owned: the subscriber's cursor
	ahead   map[uint64]bool // while owned: transactions past the cursor whose events were delivered
	renewed time.Time       // when the lease was last written
	retried time.Time       // when event_deliveries was last looked at
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
// gives it up, one that dies loses it when it runs out. The owner looks for
// work at start, on a notification, on every poll tick, right away after a
// step that found work, and every Gap while it promised to poll or
// while committed events wait for an older transaction to end.
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
			if gap := l.sub.Gap - time.Since(last); gap > 0 {
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
			t = time.NewTimer(l.sub.Gap)
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
	if len(p.events) > 0 || p.next != l.cursor || time.Since(l.renewed) > l.d.o.Lease/3 {
		done := l.deliverAll(ctx, p.events)
		if err := l.save(context.WithoutCancel(ctx), done, p); err != nil {
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
			l.observe(c.event, map[bool]string{false: "delivered", true: "failed"}[stopped])
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

// observe tells OnDelivery what became of an attempt to deliver e.
func (l *lane) observe(e Event, outcome string) {
	if l.d.o.OnDelivery != nil {
		l.d.o.OnDelivery(l.sub.Name, outcome, time.Since(e.CreatedAt))
	}
}
