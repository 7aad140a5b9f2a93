package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dancecard/dancecard/bench/internal/benchkit"
)

// server is the Dancecard process the driver started.
type server struct {
	*benchkit.Process
	tmpDir   string
	rss      *rssSampler
	finalHWM int64 // KiB, read after the last scenario
}

// startServer builds the server unless bin names one, starts it on a free
// loopback port with rate limits off and quiet logs, and waits until it is
// ready.
func startServer(ctx context.Context, bin string, getenv func(string) string, stderr io.Writer) (*server, error) {
	if getenv("DATABASE_URL") == "" {
		return nil, errors.New("DATABASE_URL is not set: run `make bench`, or set it to a PostgreSQL database the server may migrate")
	}
	s := &server{}
	if bin == "" {
		dir, err := os.MkdirTemp("", "dancecard-bench-")
		if err != nil {
			return nil, err
		}
		s.tmpDir = dir
		bin = filepath.Join(dir, "server")
		if err := benchkit.BuildServer(ctx, bin, stderr); err != nil {
			s.cleanUp()
			return nil, err
		}
	}
	port, err := benchkit.FreePort()
	if err != nil {
		s.cleanUp()
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	baseURL := "http://" + addr
	s.Process, err = benchkit.Start(ctx, bin, []string{"serve"}, []string{
		"DANCECARD_ADDR=" + addr,
		"DANCECARD_BASE_URL=" + baseURL,
		"DANCECARD_DEV=true",
		"DANCECARD_RATE_LIMITS_ENABLED=false",
		"DANCECARD_LOG_LEVEL=warn",
	}, baseURL)
	if err != nil {
		s.cleanUp()
		return nil, err
	}
	s.rss = startRSSSampler(s.PID(), s.Exited())
	fmt.Fprintf(stderr, "started server pid %d on %s\n", s.PID(), baseURL)
	return s, nil
}

// stop sends SIGTERM, waits for the server to drain and exit (killing it
// after 30 s), and removes the build.
func (s *server) stop() {
	s.Stop()
	s.cleanUp()
}

func (s *server) cleanUp() {
	if s.tmpDir != "" {
		os.RemoveAll(s.tmpDir)
	}
}

// pid is the server's process id, or 0 when the driver did not start it.
func (s *server) pid() int {
	if s == nil {
		return 0
	}
	return s.PID()
}

// hwm is the server's peak resident set so far, in KiB (0 if unknown).
func (s *server) hwm() int64 {
	if s == nil {
		return 0
	}
	return benchkit.ProcStatusKiB(s.pid(), "VmHWM:")
}

// dumpLog prints the end of the server's output (nothing for a server the
// driver did not start).
func (s *server) dumpLog(w io.Writer) {
	if s != nil {
		s.DumpLog(w)
	}
}
