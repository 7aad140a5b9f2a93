package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dancecard/dancecard/bench/internal/benchkit"
)

// createDB makes a fresh database for the run.
func createDB(ctx context.Context, adminURL string) (string, func(), error) {
	return benchkit.CreateDB(ctx, adminURL, "dancecard_dances")
}

// server is the Dancecard process the driver started.
type server struct {
	*benchkit.Process
	baseURL string
	tmpDir  string
}

// startServer builds ./cmd/server and starts it on a free loopback port with
// one custom OAuth 2 provider, fast, pointing at the fake. extraYAML is
// appended to its configuration file (the events section, for -events).
func startServer(ctx context.Context, dbURL string, f *fake, extraYAML, logLevel string) (*server, error) {
	dir, err := os.MkdirTemp("", "dancecard-dances-")
	if err != nil {
		return nil, err
	}
	s := &server{tmpDir: dir}
	bin := filepath.Join(dir, "server")
	if err := benchkit.BuildServer(ctx, bin, os.Stderr); err != nil {
		s.cleanUp()
		return nil, err
	}
	cfgFile := filepath.Join(dir, "dancecard.yaml")
	cfg := f.ProviderYAML() + extraYAML
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		s.cleanUp()
		return nil, err
	}
	port, err := benchkit.FreePort()
	if err != nil {
		s.cleanUp()
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s.baseURL = "http://" + addr
	s.Process, err = benchkit.Start(ctx, bin, []string{"serve", "-config", cfgFile}, []string{
		"DATABASE_URL=" + dbURL,
		"DANCECARD_ADDR=" + addr,
		"DANCECARD_BASE_URL=" + s.baseURL,
		"DANCECARD_DEV=true",
		"DANCECARD_RATE_LIMITS_ENABLED=false",
		"DANCECARD_LOG_LEVEL=" + logLevel,
	}, s.baseURL)
	if err != nil {
		s.cleanUp()
		return nil, err
	}
	return s, nil
}

// stop ends the server and removes its directory.
func (s *server) stop() {
	s.Stop()
	s.cleanUp()
}

func (s *server) cleanUp() { os.RemoveAll(s.tmpDir) }

func (s *server) pid() int { return s.PID() }

func (s *server) dumpLog(w io.Writer) { s.DumpLog(w) }
