package postgres

import (
	"errors"
	"fmt"

	"github.com/golang-migrate/migrate/v4"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dancecard/dancecard/migrations"
)

// Migrator applies the embedded migrations. The driver takes a PostgreSQL
// advisory lock, so replicas starting together migrate one at a time.
type Migrator struct {
	m *migrate.Migrate
}

// NewMigrator opens a dedicated connection for migrating the database at url.
func NewMigrator(url string) (*Migrator, error) {
	connCfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("migrate: parse database_url: %w", redact(err))
	}
	db := stdlib.OpenDB(*connCfg)
	driver, err := pgxmigrate.WithInstance(db, &pgxmigrate.Config{})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: read embedded migrations: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", driver)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return &Migrator{m: m}, nil
}

// Up applies every pending migration; having none pending is not an error.
func (g *Migrator) Up() error {
	if err := g.m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// Down rolls back n migrations.
func (g *Migrator) Down(n int) error {
	if n <= 0 {
		return fmt.Errorf("migrate down: N must be a positive number of steps, got %d", n)
	}
	if err := g.m.Steps(-n); err != nil {
		return fmt.Errorf("migrate down %d: %w", n, err)
	}
	return nil
}

// Version reports the current schema version and whether a failed migration
// left it dirty; version 0 means an empty schema.
func (g *Migrator) Version() (version uint, dirty bool, err error) {
	v, dirty, err := g.m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("migrate version: %w", err)
	}
	return v, dirty, nil
}

// Close releases the migration connection.
func (g *Migrator) Close() error {
	srcErr, dbErr := g.m.Close()
	return errors.Join(srcErr, dbErr)
}

// Migrate brings the database at url to the newest schema.
func Migrate(url string) error {
	g, err := NewMigrator(url)
	if err != nil {
		return err
	}
	defer g.Close()
	return g.Up()
}
