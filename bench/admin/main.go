// Command admin measures the admin console at scale: it seeds a fresh
// database with 200,000 users and 1,000,000 connections (server admin
// seed), starts the server on it, and times every admin list page and JSON
// list with combinations of filters, sorts and deep pages, and the
// dashboard, sequentially, so each latency is one request alone. It also
// writes the EXPLAIN ANALYZE plan of each list's query. See bench/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// The goals from the issue.
const (
	goalList      = 100 * time.Millisecond
	goalDashboard = 200 * time.Millisecond
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "admin bench:", err)
		os.Exit(1)
	}
}

type options struct {
	adminURL, dbName string
	users, conns     int
	reseed           bool
	n                int
	plans, jsonOut   string
}

func run() error {
	var o options
	flag.StringVar(&o.adminURL, "pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "a PostgreSQL URL with the right to create databases")
	flag.StringVar(&o.dbName, "db", "dancecard_admin_bench", "the database to seed and measure (dropped and created again when seeding)")
	flag.IntVar(&o.users, "users", 200_000, "users to seed")
	flag.IntVar(&o.conns, "connections", 1_000_000, "connections to seed")
	flag.BoolVar(&o.reseed, "reseed", false, "drop and seed the database even if it is already seeded")
	flag.IntVar(&o.n, "n", 100, "measured requests per case (after 3 unmeasured)")
	flag.StringVar(&o.plans, "plans", "", "write the EXPLAIN ANALYZE plan of every case's query to this file")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	env, err := prepare(ctx, o)
	if err != nil {
		return err
	}
	defer env.close()
	loadBefore := loadAverage()
	results, err := measureAll(ctx, env, cases(env), o.n)
	if err != nil {
		return err
	}
	report(os.Stdout, env, results)
	fmt.Printf("\nload average (1 min) before %s, after %s on %d CPUs: other work on the machine shows in p99\n",
		loadBefore, loadAverage(), runtime.NumCPU())
	if o.plans != "" {
		if err := writePlans(ctx, env, o.plans); err != nil {
			return err
		}
		fmt.Printf("plans written to %s\n", o.plans)
	}
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(map[string]any{"time": time.Now().UTC(), "users": o.users, "connections": o.conns,
			"seed": env.seedTime.String(), "results": results}, "", "  ")
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	for _, r := range results {
		if !r.Met {
			return errors.New("some cases missed their goal")
		}
	}
	return nil
}

func report(w *os.File, env *benchEnv, results []result) {
	fmt.Fprintf(w, "\n%d users, %d connections, %d events; seed %s\n\n", env.counts[0], env.counts[1], env.counts[2], env.seedTime)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tp50 ms\tp99 ms\tmax ms\trows\tgoal\t")
	for _, r := range results {
		verdict := "ok"
		if !r.Met {
			verdict = "MISSED"
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%d\t%s %s\t\n", r.Name, ms(r.P50), ms(r.P99), ms(r.Max), r.Rows, verdict, r.Goal)
	}
	tw.Flush()
}

// loadAverage is the one-minute load average from /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
