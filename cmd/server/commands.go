package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/config"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/postgres"
)

// cmdMigrate runs migrate up | down N | version.
func cmdMigrate(args []string, getenv func(string) string, stdout io.Writer) error {
	fs, path := newFlagSet("migrate", stdout)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(*path, getenv)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fmt.Errorf("migrate: want up, down N or version; %w", errUsage)
	}
	m, err := postgres.NewMigrator(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer m.Close()
	switch {
	case pos[0] == "up" && len(pos) == 1:
		if err := m.Up(); err != nil {
			return err
		}
	case pos[0] == "down" && len(pos) == 2:
		n, err := strconv.Atoi(pos[1])
		if err != nil || n <= 0 {
			return fmt.Errorf("migrate down: N must be a positive number, got %q", pos[1])
		}
		if err := m.Down(n); err != nil {
			return err
		}
	case pos[0] == "version" && len(pos) == 1:
	default:
		return fmt.Errorf("migrate: want up, down N or version, got %q; %w", strings.Join(pos, " "), errUsage)
	}
	v, dirty, err := m.Version()
	if err != nil {
		return err
	}
	state := ""
	if dirty {
		state = " (dirty: a migration failed halfway; fix it and force the version)"
	}
	_, err = fmt.Fprintf(stdout, "schema version %d%s\n", v, state)
	return err
}

// cmdAdmin runs admin create --email E, reading the password from the first
// line of stdin so it never appears in the process list or shell history.
func cmdAdmin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	fs, path := newFlagSet("admin", stdout)
	email := fs.String("email", "", "the administrator's email")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "create" {
		return fmt.Errorf("admin: want: admin create --email E; %w", errUsage)
	}
	if *email == "" {
		return errors.New("admin create: --email is required")
	}
	password, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("admin create: read password from stdin: %w", err)
	}
	password = strings.TrimRight(password, "\r\n")
	_, db, err := openMigrated(ctx, *path, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := accounts.New(db, accounts.Options{}).CreateAdmin(ctx, *email, password)
	var fe *accounts.FieldError
	switch {
	case errors.As(err, &fe):
		return fmt.Errorf("admin create: %s", fe.Message)
	case errors.Is(err, accounts.ErrEmailTaken):
		return fmt.Errorf("admin create: an account with email %s already exists", *email)
	case err != nil:
		return err
	}
	_, err = fmt.Fprintf(stdout, "created administrator %s (id %d)\n", u.Email, u.ID)
	return err
}

// cmdKeys runs keys rotate: every stored token is re-sealed under the first
// key of token_keys, after which older keys can be removed.
func cmdKeys(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, path := newFlagSet("keys", stdout)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "rotate" {
		return fmt.Errorf("keys: want: keys rotate; %w", errUsage)
	}
	cfg, db, err := openMigrated(ctx, *path, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	keys, err := tokenKeys(ctx, cfg, db)
	if err != nil {
		return err
	}
	n, err := links.New(links.Options{DB: db, Keys: keys}).Rotate(ctx)
	if err != nil {
		return fmt.Errorf("keys rotate: %d connections re-encrypted before: %w", n, err)
	}
	accts := accounts.New(db, accounts.Options{})
	accts.SetSecretSealer(keys)
	m, err := accts.ResealTOTPSecrets(ctx)
	if err != nil {
		return fmt.Errorf("keys rotate: tokens done, %d TOTP secrets re-encrypted before: %w", m, err)
	}
	_, err = fmt.Fprintf(stdout, "re-encrypted the tokens of %d connections and %d TOTP secrets under the newest key\n", n, m)
	return err
}

// openMigrated loads the configuration and opens its database after
// bringing the schema up to date, as the administrative commands need.
func openMigrated(ctx context.Context, path string, getenv func(string) string) (*config.Config, *pgxpool.Pool, error) {
	cfg, err := loadConfig(path, getenv)
	if err != nil {
		return nil, nil, err
	}
	if err := postgres.Migrate(cfg.DatabaseURL); err != nil {
		return nil, nil, err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	return cfg, db, nil
}
