package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	benchevents "github.com/dancecard/dancecard/bench/events"
	"github.com/dancecard/dancecard/internal/events"
)

// The goals of the events issue.
const (
	goalLagP99  = 100 * time.Millisecond
	goalCostPct = 10.0
)

// eventsRun is what -events measures.
type eventsRun struct {
	c         int
	warmup, d time.Duration
	mode      string
	rounds    int
	burst     int
	jsonOut   string
	logOnly   bool   // the second server has only the log subscriber: no lag, no burst
	logLevel  string // both servers' log.level: below info the log subscriber does not run
}

type eventsReport struct {
	runInfo
	Rounds  []eventsRound `json:"rounds"`
	CostPct float64       `json:"cost_pct"` // dance rate lost with subscribers, all rounds together
	CostMet bool          `json:"cost_goal_met"`
	LagMet  bool          `json:"lag_goal_met"`
	LogOnly bool          `json:"log_only,omitempty"`
	// LogLevel is both servers' log.level; below info the second server's
	// log subscriber does not run, and only the webhook delivers.
	LogLevel string `json:"log_level"`
}

// eventsRound is one pair: the same load without, then with, subscribers.
type eventsRound struct {
	Without *result           `json:"without"`
	With    *result           `json:"with"`
	Lag     benchevents.Stats `json:"webhook_lag"` // webhooks that arrived during the measured window
	Burst   *burstResult      `json:"burst,omitempty"`
	Drained bool              `json:"drained,omitempty"` // log only: every delivery done within a minute after the load
}

// burstResult is how fast a backlog inserted at once is delivered.
type burstResult struct {
	Events        int     `json:"events"`
	WebhookPerSec float64 `json:"webhook_per_sec"` // the webhook subscriber alone
	AllPerSec     float64 `json:"all_per_sec"`     // deliveries per second, both subscribers
}

// runEvents measures what the event machinery costs the dances: each round
// runs the dance load against a server without subscribers, then against
// one with the log subscriber and a webhook to a receiver in this process,
// each on a fresh database. With subscribers it also reports the webhook's
// delivery lag during the load and, after it, the dispatch throughput on a
// burst of events inserted at once.
func runEvents(ctx context.Context, adminURL string, o eventsRun) error {
	f, err := startFake()
	if err != nil {
		return err
	}
	defer f.Close()
	recv, err := benchevents.Start()
	if err != nil {
		return err
	}
	defer recv.Close()
	without := "events:\n  log: false\n"
	with := fmt.Sprintf("events:\n  log: true\n  webhooks:\n    - url: %s\n      secret: %s\n      timeout: 5s\n", recv.URL, benchevents.Secret)
	withRecv := recv
	if o.logOnly {
		with, withRecv = "events:\n  log: true\n", nil
	}
	rep := &eventsReport{runInfo: newRunInfo(o.mode, o.c, o.warmup, o.d)}
	var rateWithout, rateWith float64
	rep.LagMet, rep.LogOnly, rep.LogLevel = !o.logOnly, o.logOnly, o.logLevel
	for i := range o.rounds {
		var rd eventsRound
		fmt.Fprintf(os.Stderr, "round %d: without subscribers\n", i+1)
		if rd.Without, err = danceRound(ctx, adminURL, f, without, o, nil, &rd); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "round %d: with subscribers\n", i+1)
		if rd.With, err = danceRound(ctx, adminURL, f, with, o, withRecv, &rd); err != nil {
			return err
		}
		rateWithout += rd.Without.PerSec
		rateWith += rd.With.PerSec
		rep.LagMet = rep.LagMet && rd.Lag.Received > 0 && rd.Lag.P99 < goalLagP99
		rep.Rounds = append(rep.Rounds, rd)
	}
	if rateWithout > 0 {
		rep.CostPct = 100 * (1 - rateWith/rateWithout)
	}
	rep.CostMet = rep.CostPct < goalCostPct
	printEvents(os.Stdout, rep)
	if o.jsonOut != "" {
		data, _ := json.MarshalIndent(rep, "", "  ")
		return os.WriteFile(o.jsonOut, append(data, '\n'), 0o644)
	}
	return nil
}

// danceRound runs the dance load against a fresh server configured with
// extraYAML; with a receiver it fills rd's lag and burst figures.
func danceRound(ctx context.Context, adminURL string, f *fake, extraYAML string, o eventsRun, recv *benchevents.Receiver, rd *eventsRound) (*result, error) {
	dbURL, dropDB, err := createDB(ctx, adminURL)
	if err != nil {
		return nil, err
	}
	defer dropDB()
	srv, err := startServer(ctx, dbURL, f, extraYAML, o.logLevel)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	db, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	name := "without subscribers"
	if strings.Contains(extraYAML, "log: true") {
		name = "with subscribers"
	}
	t := dancecardTarget(name, srv, f)
	user := accounts(o.mode)
	if err := signUpAccounts(ctx, t, o.mode, o.c, user); err != nil {
		srv.dumpLog(os.Stderr)
		return nil, err
	}
	if recv != nil {
		recv.Reset()
	}
	begin := time.Now()
	res := runLoad(ctx, t, o.c, o.warmup, o.d, srv.pid(), db, user)
	if res.Errors > 0 {
		srv.dumpLog(os.Stderr)
	}
	if recv == nil {
		if name != "without subscribers" {
			rd.Drained = waitDrained(ctx, db, time.Minute) == nil
		}
		return res, ctx.Err()
	}
	rd.Lag = recv.Between(begin.Add(o.warmup), begin.Add(o.warmup+o.d))
	if o.burst > 0 {
		if rd.Burst, err = burst(ctx, db, recv, o.burst); err != nil {
			srv.dumpLog(os.Stderr)
			return nil, err
		}
	}
	return res, ctx.Err()
}

// burst inserts n events in one transaction, spread over 500 users, and
// times their delivery: to the webhook (counted by the receiver) and to
// every subscriber (every cursor past them, no delivery left pending).
func burst(ctx context.Context, db *pgxpool.Pool, recv *benchevents.Receiver, n int) (*burstResult, error) {
	if err := waitDrained(ctx, db, time.Minute); err != nil {
		return nil, fmt.Errorf("before the burst: %w", err)
	}
	recv.Reset()
	fmt.Fprintf(os.Stderr, "burst: %d events\n", n)
	t0 := time.Now()
	_, err := db.Exec(ctx, `INSERT INTO events (kind, user_id, provider)
		SELECT 'connection_updated', 1000000 + g % 500, 'fast' FROM generate_series(1, $1::int) g`, n)
	if err != nil {
		return nil, fmt.Errorf("burst: %w", err)
	}
	last, err := recv.WaitFor(ctx, n, 5*time.Minute)
	if err != nil {
		return nil, fmt.Errorf("burst: %w", err)
	}
	if err := waitDrained(ctx, db, 5*time.Minute); err != nil {
		return nil, fmt.Errorf("burst: %w", err)
	}
	// Drained: each burst event reached each subscriber of its kind.
	var deliveries int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM events e JOIN event_subscribers s
		ON s.kinds = '{}' OR e.kind = ANY (s.kinds) WHERE e.user_id >= 1000000`).Scan(&deliveries); err != nil {
		return nil, err
	}
	all := time.Since(t0)
	return &burstResult{Events: n, WebhookPerSec: float64(n) / last.Sub(t0).Seconds(),
		AllPerSec: float64(deliveries) / all.Seconds()}, nil
}

// waitDrained waits until no delivery is pending.
func waitDrained(ctx context.Context, db *pgxpool.Pool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := events.NewDeliveries(db).Undelivered(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d deliveries still pending after %s", n, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func printEvents(w io.Writer, r *eventsReport) {
	fmt.Fprintf(w, "dances -events: mode %s, c=%d, warm-up %s, measured %s, %d CPUs, GOMAXPROCS %d, %s\n",
		r.Mode, r.C, r.Warmup, r.Duration, r.NumCPU, r.GOMAXPROCS, r.GoVersion)
	running := "log + webhook"
	switch {
	case r.LogOnly:
		running = "log"
	case r.LogLevel != "info" && r.LogLevel != "debug":
		running = "webhook (the log subscriber does not run at log.level " + r.LogLevel + ")"
	}
	fmt.Fprintf(w, "log.level %s; subscribers running with subscribers: %s\n\n", r.LogLevel, running)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\ttarget\tdances/s\tdance p50 ms\tdance p99 ms\terrors\tCPU ms/dance: server\tpostgres\tdriver\tother\tcommits/dance\t")
	for i, rd := range r.Rounds {
		for _, x := range []*result{rd.Without, rd.With} {
			fmt.Fprintf(tw, "%d\t%s\t%.1f\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%.1f\t\n", i+1, x.Target, x.PerSec, ms(x.Dance.P50), ms(x.Dance.P99),
				x.Errors, ms(x.ServerCPU), ms(x.PostgresCPU), ms(x.DriverCPU), ms(x.OtherCPU), x.CommitsPerDance)
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nwebhook deliveries during the load (lag = arrival - the event's transaction start):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\tdelivered\tper s\tlag p50 ms\tlag p99 ms\tlag max ms\tduplicates\tbad signatures\tburst events\twebhook/s\tall deliveries/s\t")
	for i, rd := range r.Rounds {
		b := burstResult{}
		if rd.Burst != nil {
			b = *rd.Burst
		}
		fmt.Fprintf(tw, "%d\t%d\t%.1f\t%s\t%s\t%s\t%d\t%d\t%d\t%.0f\t%.0f\t\n", i+1, rd.Lag.Received, rd.Lag.PerSec,
			ms(rd.Lag.P50), ms(rd.Lag.P99), ms(rd.Lag.Max), rd.Lag.Duplicates, rd.Lag.BadSigs, b.Events, b.WebhookPerSec, b.AllPerSec)
	}
	tw.Flush()
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Fprintf(w, "\ndance rate lost with subscribers: %.1f %% (goal < %.0f %%: %s)\n", r.CostPct, goalCostPct, verdict(r.CostMet))
	if r.LogOnly {
		fmt.Fprintln(w, "webhook lag: not measured (-subscribers log)")
		return
	}
	fmt.Fprintf(w, "webhook lag p99 under load: goal < %s in every round: %s\n", goalLagP99, verdict(r.LagMet))
}
