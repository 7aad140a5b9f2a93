package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/bench/internal/benchkit"
)

// cpuSnap is CPU time used so far by each party.
type cpuSnap struct {
	server, driver, postgres, machine time.Duration
}

func snapCPU(serverPID int) cpuSnap {
	s := cpuSnap{driver: benchkit.ProcCPU(0), postgres: benchkit.PostgresCPU(), machine: machineBusy()}
	if serverPID != 0 {
		s.server = benchkit.ProcCPU(serverPID)
	}
	return s
}

// machineBusy is the busy (not idle or iowait) CPU time of all CPUs.
func machineBusy() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		if i == 3 || i == 4 {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * (time.Second / 100)
}

// dbCounts are the benchmark database's counters from pg_stat_database.
type dbCounts struct{ commits, rollbacks, written, read int64 }

// dbStats reads the counters of the database the pool is connected to.
// PostgreSQL publishes a backend's counts up to a second late, so a
// window's difference is approximate.
func dbStats(ctx context.Context, db *pgxpool.Pool) dbCounts {
	var c dbCounts
	conn, err := db.Acquire(ctx)
	if err != nil {
		return c
	}
	defer conn.Release()
	_, _ = conn.Exec(ctx, "SELECT pg_stat_force_next_flush()")
	_, _ = conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()")
	_ = conn.QueryRow(ctx, `SELECT xact_commit, xact_rollback, tup_inserted + tup_updated + tup_deleted,
		tup_returned + tup_fetched FROM pg_stat_database WHERE datname = current_database()`).
		Scan(&c.commits, &c.rollbacks, &c.written, &c.read)
	return c
}
