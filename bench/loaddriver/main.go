// Command loaddriver measures how many requests a second Dancecard serves,
// and how quickly, on the machine it runs on.
//
// It builds ./cmd/server (or uses -server, or an already running -url),
// starts it on a free loopback port against DATABASE_URL with rate limits
// off, waits for /readyz and signs up one virtual user per client. Each
// client has its own cookie jar and its own http.Transport, so it keeps one
// keep-alive connection and, logged in, its own session, as a browser would.
// Then it runs each scenario with a fixed number of closed-loop clients (a
// client sends its next request as soon as the previous one is answered)
// for -warmup and then -d. Every latency after the warm-up is recorded, none
// sampled, and the percentiles come from the sorted whole. Latencies are
// those of successful requests; failures are counted as errors.
//
// The scenarios:
//
//   - healthz: GET /healthz. It passes the same listener, net/http, echo
//     router and global middleware (request id, log, metrics, security
//     headers) as every page, but touches no session, database or template.
//     Measured in the same run, on the same machine, with the same clients
//     and connections, it is the baseline the other rows are read against:
//     the gap between healthz and profile is Dancecard's own per-page work,
//     and a low healthz number says the machine or the driver is the limit,
//     not the application.
//   - profile: GET /profile with the client's own session cookie. A 200 whose
//     body holds the client's email counts; anything else is an error. It
//     costs a session look-up, a query listing the user's sessions and a
//     templ render.
//   - login: GET /login for a CSRF token, then POST /login from a fresh
//     browser (new cookie jar); a 303 to /profile counts. One log-in is the
//     pair. argon2id makes it deliberately slow (46 MiB and about a core
//     for tens of milliseconds per hash), so it runs with -login-c clients.
//     Log-in users are not the profile users: every log-in leaves a session
//     row, which would lengthen the profile page's session list.
//
// Beside latency it reports the server's resident memory (VmRSS sampled each
// second, and VmHWM, the kernel's own peak, from /proc/PID/status) and how
// the machine's CPU time was shared between the server, PostgreSQL and the
// driver itself. The driver runs on the same cores as the server, so a
// result is the machine's, not the server's alone.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dancecard/dancecard/bench/internal/benchkit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		switch {
		case errors.Is(err, context.Canceled):
			fmt.Fprintln(os.Stderr, "loaddriver: interrupted; the server was stopped")
		case !errors.Is(err, flag.ErrHelp):
			fmt.Fprintln(os.Stderr, "loaddriver:", err)
		}
		os.Exit(1)
	}
}

// settings are the command line, after defaults.
type settings struct {
	Server       string
	URL          string
	Clients      int
	Duration     time.Duration
	Warmup       time.Duration
	Scenarios    []string
	LoginClients int
	JSON         string
	Database     string // from DATABASE_URL, to tell our PostgreSQL backends from others'
}

func parseFlags(args []string, stderr io.Writer) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("loaddriver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.Server, "server", "", "server binary to start (default: build ./cmd/server into a temporary directory)")
	fs.StringVar(&s.URL, "url", "", "base URL of an already running server; nothing is started (no RSS or server CPU then)")
	fs.IntVar(&s.Clients, "c", 32, "concurrent clients for healthz and profile")
	fs.DurationVar(&s.Duration, "d", 10*time.Second, "measured duration of each scenario")
	fs.DurationVar(&s.Duration, "duration", 10*time.Second, "same as -d")
	fs.DurationVar(&s.Warmup, "warmup", 2*time.Second, "unmeasured warm-up before each scenario")
	scenarios := fs.String("scenarios", "healthz,profile,login", "comma-separated scenarios to run, in order: "+strings.Join(scenarioNames(), ", "))
	fs.IntVar(&s.LoginClients, "login-c", 8, "concurrent clients for login (argon2id is deliberately expensive)")
	fs.StringVar(&s.JSON, "json", "", "also write the results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if s.Clients < 1 || s.LoginClients < 1 || s.Duration <= 0 || s.Warmup < 0 {
		return s, errors.New("-c and -login-c must be at least 1, -d positive and -warmup not negative")
	}
	if s.Server != "" && s.URL != "" {
		return s, errors.New("-server and -url exclude each other")
	}
	for _, name := range strings.Split(*scenarios, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if _, ok := scenarioByName(name); !ok {
			return s, fmt.Errorf("unknown scenario %q (have %s)", name, strings.Join(scenarioNames(), ", "))
		}
		s.Scenarios = append(s.Scenarios, name)
	}
	if len(s.Scenarios) == 0 {
		return s, errors.New("-scenarios names none")
	}
	return s, nil
}

// run is the whole program: start or find the server, sign users up, run
// the scenarios, report.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	set, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	set.Database = databaseName(getenv("DATABASE_URL"))
	mach := readMachine()
	printHeader(stdout, mach, set)

	var srv *server
	baseURL := strings.TrimRight(set.URL, "/")
	if baseURL == "" {
		srv, err = startServer(ctx, set.Server, getenv, stderr)
		if err != nil {
			return err
		}
		defer srv.stop()
		baseURL = srv.BaseURL
	} else if err := benchkit.WaitReady(ctx, baseURL, nil); err != nil {
		return err
	}
	pop, err := setUp(ctx, baseURL, set, stderr)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		srv.dumpLog(stderr)
		return err
	}

	var results []result
	for _, name := range set.Scenarios {
		sc, _ := scenarioByName(name)
		fmt.Fprintf(stderr, "running %s: %d clients, %s warm-up, %s measured\n", name, sc.clients(set), set.Warmup, set.Duration)
		r := runScenario(ctx, sc, pop, set, srv)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		results = append(results, r)
	}
	if srv != nil {
		srv.finalHWM = srv.hwm()
	}
	printResults(stdout, results, set, srv)
	if anyErrors(results) {
		srv.dumpLog(stderr)
	}
	if set.JSON != "" {
		if err := writeJSON(set.JSON, mach, set, results, srv); err != nil {
			return err
		}
	}
	return nil
}
