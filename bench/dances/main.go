// Command dances measures complete log-in-with-provider dances against
// Dancecard and, in the same run, against a minimal baseline consumer, both
// using the same fast fake provider on loopback. See bench/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/bench/internal/benchkit"
	"github.com/dancecard/dancecard/bench/internal/seed"
)

// The goals from the issue ("Simpler hot paths, cheaper dances"): dances/s
// against the minimal consumer in the same run, CPU per dance of the
// server and of PostgreSQL, and the server's peak RSS.
const (
	goalRatio       = 0.4
	goalServerCPUMS = 1.1
	goalPostgresMS  = 1.0
	goalRSSMB       = 150
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dances:", err)
		os.Exit(1)
	}
}

// runInfo says when, how and where a run measured; both reports start with it.
type runInfo struct {
	Time       time.Time `json:"time"`
	Mode       string    `json:"mode"`
	C          int       `json:"c"`
	Warmup     string    `json:"warmup"`
	Duration   string    `json:"duration"`
	NumCPU     int       `json:"num_cpu"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	GoVersion  string    `json:"go_version"`
}

func newRunInfo(mode string, c int, warmup, d time.Duration) runInfo {
	return runInfo{Time: time.Now().UTC(), Mode: mode, C: c, Warmup: warmup.String(), Duration: d.String(),
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version()}
}

type report struct {
	runInfo
	Dancecard *result `json:"dancecard"`
	Baseline  *result `json:"baseline"`
	Ratio     float64 `json:"ratio"`
	ServerHWM int64   `json:"server_vmhwm_kib"`
	RatioMet  bool    `json:"ratio_goal_met"`
	CPUMet    bool    `json:"cpu_goals_met"`
	RSSMet    bool    `json:"rss_goal_met"`
}

func run() error {
	c := flag.Int("c", 16, "concurrent dances (virtual users)")
	d := flag.Duration("d", 10*time.Second, "measured time per target")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured warm-up before each target")
	mode := flag.String("mode", "login", "login: each virtual user logs its own linked account in; signup: every dance is a new provider account")
	jsonOut := flag.String("json", "", "also write the results as JSON to this file")
	evMode := flag.Bool("events", false, "instead of the baseline, compare Dancecard without and with event subscribers (log + webhook) and measure delivery lag and dispatch throughput")
	rounds := flag.Int("rounds", 1, "with -events: how many without/with pairs to run")
	burst := flag.Int("burst", 20000, "with -events: events inserted at once to measure dispatch throughput")
	subs := flag.String("subscribers", "log,webhook", "with -events: the subscribers of the second server: log,webhook or log")
	seed := flag.Int("seed", 10000, "accounts put in both consumers' tables before the load, with fresh planner statistics")
	logLevel := flag.String("log-level", "warn", "with -events: both servers' log.level; below info the log subscriber does not run")
	flag.Parse()
	if *c < 1 || *d <= 0 || *warmup < 0 || (*mode != "login" && *mode != "signup") {
		return errors.New("need -c >= 1, -d > 0, -warmup >= 0 and -mode login|signup")
	}
	adminURL := os.Getenv("DATABASE_URL")
	if adminURL == "" {
		return errors.New("DATABASE_URL is not set: a postgres:// URL of a server where the driver may create databases")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *evMode {
		if *rounds < 1 || *burst < 0 || (*subs != "log" && *subs != "log,webhook") {
			return errors.New("need -rounds >= 1, -burst >= 0 and -subscribers log or log,webhook")
		}
		if *subs == "log" && *logLevel != "info" && *logLevel != "debug" {
			return errors.New("-subscribers log needs -log-level info or debug: below info the log subscriber does not run")
		}
		return runEvents(ctx, adminURL, eventsRun{c: *c, warmup: *warmup, d: *d, mode: *mode,
			rounds: *rounds, burst: *burst, jsonOut: *jsonOut, logOnly: *subs == "log", logLevel: *logLevel})
	}

	dbURL, dropDB, err := createDB(ctx, adminURL)
	if err != nil {
		return err
	}
	defer dropDB()
	f, err := startFake()
	if err != nil {
		return err
	}
	defer f.Close()
	srv, err := startServer(ctx, dbURL, f, "", "warn")
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Fprintf(os.Stderr, "dancecard pid %d on %s, fake provider on %s\n", srv.pid(), srv.baseURL, f.BaseURL())
	bl, err := startBaseline(ctx, dbURL, f)
	if err != nil {
		return err
	}
	defer bl.close()

	dc := dancecardTarget("dancecard", srv, f)
	bt := &target{name: "baseline", base: bl.baseURL, page: "/", start: "/start",
		callback: "/callback", final: "/done", finalHas: func(string) string { return "ok" }, authorize: f.AuthURL()}

	if err := seedAccounts(ctx, bl.db, *seed); err != nil {
		return err
	}
	user := accounts(*mode)
	for _, t := range []*target{dc, bt} {
		if err := signUpAccounts(ctx, t, *mode, *c, user); err != nil {
			srv.dumpLog(os.Stderr)
			return err
		}
	}

	rep := &report{runInfo: newRunInfo(*mode, *c, *warmup, *d)}
	fmt.Fprintf(os.Stderr, "dancecard: %d dances at a time, %v warm-up + %v\n", *c, *warmup, *d)
	rep.Dancecard = runLoad(ctx, dc, *c, *warmup, *d, srv.pid(), bl.db, user)
	fmt.Fprintf(os.Stderr, "baseline: %d dances at a time, %v warm-up + %v\n", *c, *warmup, *d)
	rep.Baseline = runLoad(ctx, bt, *c, *warmup, *d, 0, bl.db, user)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	rep.ServerHWM = benchkit.ProcStatusKiB(srv.pid(), "VmHWM:")
	if rep.Baseline.PerSec > 0 {
		rep.Ratio = rep.Dancecard.PerSec / rep.Baseline.PerSec
	}
	rep.RatioMet = rep.Ratio >= goalRatio
	rep.CPUMet = rep.Dancecard.Dances > 0 && float64(rep.Dancecard.ServerCPU)/1e6 <= goalServerCPUMS &&
		float64(rep.Dancecard.PostgresCPU)/1e6 <= goalPostgresMS
	rep.RSSMet = rep.ServerHWM > 0 && rep.ServerHWM < goalRSSMB*1024
	if rep.Dancecard.Errors > 0 {
		srv.dumpLog(os.Stderr)
	}
	printReport(os.Stdout, rep)
	if *jsonOut != "" {
		data, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// dancecardTarget is a Dancecard server as a dance target.
func dancecardTarget(name string, srv *server, f *fake) *target {
	return &target{name: name, base: srv.baseURL, page: "/login", csrf: true,
		start: "/auth/fast/login", callback: "/auth/fast/callback", final: "/profile",
		finalHas: func(u string) string { return benchUser(u).Email }, authorize: f.AuthURL()}
}

// accounts picks provider accounts. In login mode virtual user w is account
// w+1, signed up by one dance before the load; in sign-up mode every dance is
// new.
func accounts(mode string) func(worker int) string {
	if mode == "signup" {
		var next atomic.Int64
		next.Store(1_000_000)
		return func(int) string { return strconv.FormatInt(next.Add(1), 10) }
	}
	return func(w int) string { return strconv.Itoa(w + 1) }
}

// seedAccounts fills both consumers' tables as a deployment that has been
// running would have them, n accounts (bench/internal/seed: users, two
// connections each on average, their log-in events; a session each) and
// as many baseline users, then vacuums and analyzes them, so the planner
// knows their sizes and autovacuum does not wake in the measured window.
// In a database that grows from empty during the run, PostgreSQL keeps the
// plans it made for tables of a few rows until autovacuum's next ANALYZE, a
// minute away: in -mode signup, look-ups of connections and sessions
// scanned whole tables, and PostgreSQL's CPU per dance grew with them.
func seedAccounts(ctx context.Context, db *pgxpool.Pool, n int) error {
	if n < 1 {
		return nil
	}
	keys, err := seed.DevKeys(ctx, db)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := seed.Run(ctx, db, keys, n, 2*n, io.Discard); err != nil {
		return err
	}
	for _, q := range []string{
		`INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)
		 SELECT sha256(('seed-session-' || id)::bytea), id, 'seed', now() + interval '1 day' FROM users`,
		`INSERT INTO baseline_users (provider_user_id, token, updated_at) SELECT 'seed' || g, 'token', now() FROM generate_series(1, $1) g`,
		`VACUUM ANALYZE`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, n)
		}
		if _, err := db.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil
}

// signUpAccounts runs, in login mode, the one dance per virtual user that
// signs its account up before the load.
func signUpAccounts(ctx context.Context, t *target, mode string, c int, user func(int) string) error {
	if mode == "signup" {
		return nil
	}
	b := newBrowser()
	defer b.http.CloseIdleConnections()
	for w := range c {
		if _, err := b.dance(ctx, t, user(w)); err != nil {
			return fmt.Errorf("%s: first dance of account %s: %w", t.name, user(w), err)
		}
	}
	return nil
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }

func printReport(w io.Writer, r *report) {
	fmt.Fprintf(w, "dances: mode %s, c=%d, warm-up %s, measured %s, %d CPUs, GOMAXPROCS %d, %s\n\n",
		r.Mode, r.C, r.Warmup, r.Duration, r.NumCPU, r.GOMAXPROCS, r.GoVersion)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tdances\tdances/s\tdance p50 ms\tdance p99 ms\tcallback p50 ms\tcallback p99 ms\terrors\t")
	for _, x := range []*result{r.Dancecard, r.Baseline} {
		cb := x.Steps["callback"]
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%d\t\n", x.Target, x.Dances, x.PerSec,
			ms(x.Dance.P50), ms(x.Dance.P99), ms(cb.P50), ms(cb.P99), x.Errors)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nCPU ms per dance (driver = load clients + fake provider, + the baseline consumer in its row):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tdancecard server\tdriver\tpostgres\tother\tmachine busy\t")
	for _, x := range []*result{r.Dancecard, r.Baseline} {
		srvCPU := "-"
		if x.ServerCPU > 0 {
			srvCPU = ms(x.ServerCPU)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", x.Target, srvCPU, ms(x.DriverCPU), ms(x.PostgresCPU), ms(x.OtherCPU), ms(x.MachineCPU))
	}
	tw.Flush()
	fmt.Fprintln(w, "\ndatabase per dance (pg_stat_database, approximate):")
	for _, x := range []*result{r.Dancecard, r.Baseline} {
		fmt.Fprintf(w, "  %-9s  %.1f commits, %.1f rows written, %.1f rows read\n", x.Target, x.CommitsPerDance, x.WrittenPerDance, x.ReadPerDance)
	}
	fmt.Fprintln(w, "\nper step, p50 / p99 ms:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "target\t")
	for _, s := range stepNames {
		fmt.Fprintf(tw, "%s\t", s)
	}
	fmt.Fprintln(tw)
	for _, x := range []*result{r.Dancecard, r.Baseline} {
		fmt.Fprintf(tw, "%s\t", x.Target)
		for _, s := range stepNames {
			fmt.Fprintf(tw, "%s / %s\t", ms(x.Steps[s].P50), ms(x.Steps[s].P99))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, x := range []*result{r.Dancecard, r.Baseline} {
		for _, s := range x.ErrorSamples {
			fmt.Fprintf(w, "%s error: %s\n", x.Target, s)
		}
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Fprintf(w, "\nratio dancecard/baseline: %.2f (goal >= %.1f: %s)\n", r.Ratio, goalRatio, verdict(r.RatioMet))
	fmt.Fprintf(w, "dancecard CPU per dance: server %s ms (goal <= %.1f), PostgreSQL %s ms (goal <= %.1f): %s\n",
		ms(r.Dancecard.ServerCPU), goalServerCPUMS, ms(r.Dancecard.PostgresCPU), goalPostgresMS, verdict(r.CPUMet))
	fmt.Fprintf(w, "dancecard server VmHWM: %.1f MB (goal < %d MB: %s)\n", float64(r.ServerHWM)/1024, goalRSSMB, verdict(r.RSSMet))
}
