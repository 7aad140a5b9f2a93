package main

import (
	"context"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"
)

// scenario is one kind of traffic: which clients send it and what one
// operation is.
type scenario struct {
	name    string
	unit    string                                      // what one operation is, for the report
	clients func(settings) int                          // how many clients run it
	users   func(population) []*vclient                 // which clients
	op      func(c *vclient, ctx context.Context) error // one operation; nil is a success
}

var scenarios = []scenario{
	{
		name:    "healthz",
		unit:    "GET /healthz",
		clients: func(s settings) int { return s.Clients },
		users:   func(p population) []*vclient { return p.page },
		op:      (*vclient).checkHealthz,
	},
	{
		name:    "profile",
		unit:    "GET /profile",
		clients: func(s settings) int { return s.Clients },
		users:   func(p population) []*vclient { return p.page },
		op:      (*vclient).checkProfile,
	},
	{
		name:    "login",
		unit:    "GET /login + POST /login",
		clients: func(s settings) int { return s.LoginClients },
		users:   func(p population) []*vclient { return p.login },
		op:      (*vclient).logIn,
	},
}

func scenarioByName(name string) (scenario, bool) {
	i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
	if i < 0 {
		return scenario{}, false
	}
	return scenarios[i], true
}

func scenarioNames() []string {
	var names []string
	for _, s := range scenarios {
		names = append(names, s.name)
	}
	return names
}

// worker is one client's loop and everything it measured.
type worker struct {
	c          *vclient
	lat        []time.Duration // successes after the warm-up, in order
	errors     int
	errSamples []string
	last       time.Time // when its last measured operation finished
}

// loop runs operations back to back until end. Operations that start
// before from are the warm-up and are not recorded; the one running at end
// finishes and counts, so every recorded latency is whole.
func (w *worker) loop(ctx context.Context, op func(*vclient, context.Context) error, from, end time.Time) {
	for ctx.Err() == nil {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		err := op(w.c, ctx)
		t1 := time.Now()
		if t0.Before(from) || ctx.Err() != nil {
			continue
		}
		w.last = t1
		if err != nil {
			w.errors++
			if msg := err.Error(); len(w.errSamples) < 3 && !slices.Contains(w.errSamples, msg) {
				w.errSamples = append(w.errSamples, msg)
			}
			continue
		}
		w.lat = append(w.lat, t1.Sub(t0))
	}
}

// latencyHint sizes each worker's latency slice up front so appending does
// not reallocate during the run: room for 40,000 req/s shared by n clients.
func latencyHint(d time.Duration, n int) int {
	return max(1024, int(d.Seconds()*40000)/n)
}

// runScenario runs sc for the warm-up and the measured duration and
// gathers the result. srv may be nil (-url): then there is no server RSS
// or CPU to read.
func runScenario(ctx context.Context, sc scenario, pop population, set settings, srv *server) result {
	users := sc.users(pop)
	from := time.Now().Add(set.Warmup)
	end := from.Add(set.Duration)
	workers := make([]*worker, len(users))
	var wg sync.WaitGroup
	for i, c := range users {
		w := &worker{c: c, lat: make([]time.Duration, 0, latencyHint(set.Duration, len(users)))}
		workers[i] = w
		wg.Go(func() { w.loop(ctx, sc.op, from, end) })
	}
	var rss *rssSampler
	if srv != nil {
		rss = srv.rss
	}
	select {
	case <-time.After(time.Until(from)):
	case <-ctx.Done():
	}
	rss.reset()
	cpu0 := readCPUTimes(srv.pid(), set.Database)
	wg.Wait()
	cpu1 := readCPUTimes(srv.pid(), set.Database)
	r := summarize(sc, workers, from)
	r.CPU = cpuBetween(cpu0, cpu1, runtime.NumCPU(), r.Requests)
	r.RSSPeakKiB = rss.reset()
	r.HWMKiB = srv.hwm()
	return r
}

// summarize merges the workers' latencies and counts.
func summarize(sc scenario, workers []*worker, from time.Time) result {
	r := result{Name: sc.name, Unit: sc.unit, Clients: len(workers)}
	var all []time.Duration
	last := from
	for _, w := range workers {
		all = append(all, w.lat...)
		r.Errors += w.errors
		for _, s := range w.errSamples {
			if len(r.ErrorSamples) < 5 && !slices.Contains(r.ErrorSamples, s) {
				r.ErrorSamples = append(r.ErrorSamples, s)
			}
		}
		if w.last.After(last) {
			last = w.last
		}
	}
	slices.Sort(all)
	r.Requests = len(all) + r.Errors
	r.Seconds = last.Sub(from).Seconds()
	if r.Seconds > 0 {
		r.PerSecond = float64(r.Requests) / r.Seconds
	}
	r.P50 = percentile(all, 0.50)
	r.P90 = percentile(all, 0.90)
	r.P99 = percentile(all, 0.99)
	if len(all) > 0 {
		r.Max = ms(all[len(all)-1])
	}
	return r
}

// percentile is the nearest-rank percentile of sorted, in milliseconds.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p*float64(len(sorted)))) - 1
	return ms(sorted[min(max(rank, 0), len(sorted)-1)])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func anyErrors(rs []result) bool {
	return slices.ContainsFunc(rs, func(r result) bool { return r.Errors > 0 })
}
