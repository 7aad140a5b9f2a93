package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/dancecard/dancecard/internal/config"
)

const usage = `usage: server <command> [arguments] [-config FILE]

commands:
  serve                     run the web service (default); -migrate=false skips migrating on start
  migrate up                apply every pending migration
  migrate down N            roll back N migrations
  migrate version           print the schema version
  admin create --email E    create an administrator; the password is the first line of stdin
  keys rotate               re-encrypt every stored token under the first of token_keys

The configuration comes from -config FILE or DANCECARD_CONFIG, with
environment overrides (DANCECARD_ADDR, DATABASE_URL, ...).
`

// run is the whole program; main only wires it to the process. Tests call it
// with their own arguments, environment and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, args, getenv, stdout)
	case "migrate":
		return cmdMigrate(args, getenv, stdout)
	case "admin":
		return cmdAdmin(ctx, args, getenv, stdin, stdout)
	case "keys":
		return cmdKeys(ctx, args, getenv, stdout)
	case "help", "-h", "--help":
		_, err := io.WriteString(stdout, usage)
		return err
	default:
		return fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
	}
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments (server migrate down 1 -config x.yaml) and returns
// the positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// newFlagSet returns a flag set with the -config flag every command takes.
func newFlagSet(name string, stdout io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	path := fs.String("config", "", "configuration file (default $DANCECARD_CONFIG)")
	return fs, path
}

func loadConfig(path string, getenv func(string) string) (*config.Config, error) {
	if path == "" {
		path = getenv("DANCECARD_CONFIG")
	}
	return config.Load(path, getenv)
}

var errUsage = errors.New("see: server help")
