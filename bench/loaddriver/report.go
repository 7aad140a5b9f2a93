package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// result is one scenario's measurement. Latencies are in milliseconds, of
// successful operations only; Requests counts errors too.
type result struct {
	Name         string   `json:"name"`
	Unit         string   `json:"operation"`
	Clients      int      `json:"clients"`
	Requests     int      `json:"requests"`
	Errors       int      `json:"errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	Seconds      float64  `json:"seconds"`
	PerSecond    float64  `json:"per_second"`
	P50          float64  `json:"p50_ms"`
	P90          float64  `json:"p90_ms"`
	P99          float64  `json:"p99_ms"`
	Max          float64  `json:"max_ms"`
	RSSPeakKiB   int64    `json:"server_rss_peak_kib"` // highest VmRSS sampled during the scenario
	HWMKiB       int64    `json:"server_vmhwm_kib"`    // VmHWM at its end: the peak since the start
	CPU          cpuShare `json:"cpu"`
}

// The goal for the profile page.
const (
	goalClients   = 32
	goalPerSecond = 3000
	goalP99       = 20.0 // ms
)

type goal struct {
	Statement string `json:"statement"`
	Met       bool   `json:"met"`
	Verdict   string `json:"verdict"`
}

// checkGoal judges the profile row against the goal, or says why it cannot.
func checkGoal(rs []result) (goal, bool) {
	g := goal{Statement: fmt.Sprintf("profile at %d req/s or more with p99 under %.0f ms at %d concurrent clients", goalPerSecond, goalP99, goalClients)}
	for _, r := range rs {
		if r.Name != "profile" {
			continue
		}
		if r.Clients != goalClients {
			g.Verdict = fmt.Sprintf("not judged: ran with %d clients, the goal is at %d", r.Clients, goalClients)
			return g, true
		}
		g.Met = r.PerSecond >= goalPerSecond && r.P99 < goalP99 && r.Errors == 0
		word := "NOT MET"
		if g.Met {
			word = "MET"
		}
		g.Verdict = fmt.Sprintf("%s: %.0f req/s, p99 %.2f ms, %d errors", word, r.PerSecond, r.P99, r.Errors)
		return g, true
	}
	return g, false
}

func printHeader(w io.Writer, m machine, s settings) {
	target := "built from ./cmd/server, started on a free loopback port (dev mode, rate limits off, log level warn)"
	switch {
	case s.URL != "":
		target = s.URL + " (already running; no server RSS or CPU)"
	case s.Server != "":
		target = s.Server + ", started on a free loopback port (dev mode, rate limits off, log level warn)"
	}
	fmt.Fprintln(w, "Dancecard load driver")
	fmt.Fprintf(w, "  machine:   nproc %d, %s, memory %s, Linux %s\n", m.NProc, m.CPUModel, m.MemTotal, m.Kernel)
	fmt.Fprintf(w, "  load:      %s (1, 5, 15 min) before the run\n", m.LoadAvg)
	fmt.Fprintf(w, "  Go:        %s, GOMAXPROCS %d\n", m.GoVersion, m.GOMAXPROCS)
	fmt.Fprintf(w, "  server:    %s\n", target)
	fmt.Fprintf(w, "  settings:  -c %d -login-c %d -warmup %s -d %s -scenarios %s\n",
		s.Clients, s.LoginClients, s.Warmup, s.Duration, strings.Join(s.Scenarios, ","))
	fmt.Fprintln(w, "  note:      driver, server and PostgreSQL share this machine's CPUs")
	fmt.Fprintln(w)
}

func printResults(w io.Writer, rs []result, s settings, srv *server) {
	fmt.Fprintf(w, "%-8s %7s %9s %7s %10s %8s %8s %8s %8s\n",
		"scenario", "clients", "requests", "errors", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms")
	for _, r := range rs {
		fmt.Fprintf(w, "%-8s %7d %9d %7d %10.1f %8.2f %8.2f %8.2f %8.2f\n",
			r.Name, r.Clients, r.Requests, r.Errors, r.PerSecond, r.P50, r.P90, r.P99, r.Max)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-8s %12s %10s | %11s %9s %7s %7s %7s | %-22s\n",
		"scenario", "RSS peak MiB", "VmHWM MiB", "server CPU", "postgres", "driver", "other", "busy", "CPU µs/op srv+pg+drv")
	for _, r := range rs {
		fmt.Fprintf(w, "%-8s %12s %10s | %10.0f%% %8.0f%% %6.0f%% %6.0f%% %6.0f%% | %6.0f + %6.0f + %6.0f\n",
			r.Name, mib(r.RSSPeakKiB), mib(r.HWMKiB), r.CPU.Server, r.CPU.Postgres, r.CPU.Driver, r.CPU.Other, r.CPU.Busy,
			r.CPU.ServerPerOp, r.CPU.PostgresPerOp, r.CPU.DriverPerOp)
	}
	fmt.Fprintf(w, "RSS peak is the highest VmRSS sampled each second during the scenario; VmHWM the peak since start.\n")
	fmt.Fprintf(w, "CPU is percent of one CPU as top shows it (this machine has %d); other is every other process\n", runtime.NumCPU())
	fmt.Fprintf(w, "and the kernel (and other databases' backends); busy is the share of the whole machine.\n")
	fmt.Fprintf(w, "CPU µs/op is CPU time divided by operations: server + PostgreSQL + driver.\n")
	fmt.Fprintln(w, "Each login operation is GET /login + POST /login; the others are one request.")
	if srv != nil {
		fmt.Fprintf(w, "Server peak RSS over the whole run (VmHWM): %s MiB\n", mib(srv.finalHWM))
	}
	for _, r := range rs {
		for _, e := range r.ErrorSamples {
			fmt.Fprintf(w, "%s error: %s\n", r.Name, e)
		}
	}
	if g, ok := checkGoal(rs); ok {
		fmt.Fprintf(w, "\nGoal: %s\n  %s\n", g.Statement, g.Verdict)
	}
}

func mib(kib int64) string {
	if kib == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", float64(kib)/1024)
}

// report is the -json document.
type report struct {
	Machine   machine        `json:"machine"`
	Settings  map[string]any `json:"settings"`
	Scenarios []result       `json:"scenarios"`
	HWMKiB    int64          `json:"server_vmhwm_kib,omitempty"`
	Goal      *goal          `json:"goal,omitempty"`
}

func writeJSON(path string, m machine, s settings, rs []result, srv *server) error {
	rep := report{
		Machine: m,
		Settings: map[string]any{
			"server": s.Server, "url": s.URL, "clients": s.Clients, "login_clients": s.LoginClients,
			"duration": s.Duration.String(), "warmup": s.Warmup.String(), "scenarios": s.Scenarios,
			"database": s.Database,
		},
		Scenarios: rs,
	}
	if srv != nil {
		rep.HWMKiB = srv.finalHWM
	}
	if g, ok := checkGoal(rs); ok {
		rep.Goal = &g
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
