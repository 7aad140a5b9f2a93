// Command seed fills a Dancecard dev database with benchmark data:
//
//	DATABASE_URL=postgres://... go run ./bench/seed -users 1000 -connections 5000
//
// It migrates the database, then writes realistic users, connections and
// events with COPY in one transaction. Tokens are sealed under the dev-mode
// key kept in the database (the one a server in dev mode uses), and decrypt
// to a text that is plainly not a credential. It refuses a database that
// already has users unless -force: it is for dev and benchmark databases,
// never a real one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/dancecard/dancecard/bench/internal/seed"
	"github.com/dancecard/dancecard/internal/postgres"
)

func main() {
	users := flag.Int("users", 1000, "how many users to create")
	conns := flag.Int("connections", 5000, "how many connections to spread over them")
	force := flag.Bool("force", false, "seed even if the database already has users")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Getenv("DATABASE_URL"), *users, *conns, *force); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url string, users, conns int, force bool) error {
	if url == "" {
		return errors.New("set DATABASE_URL to the database to fill")
	}
	if err := postgres.Migrate(url); err != nil {
		return err
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	var has bool
	if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&has); err != nil {
		return err
	}
	if has && !force {
		return errors.New("refusing: this database already has users (use -force for a dev database)")
	}
	keys, err := seed.DevKeys(ctx, db)
	if err != nil {
		return err
	}
	return seed.Run(ctx, db, keys, users, conns, os.Stdout)
}
