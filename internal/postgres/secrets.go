package postgres

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Secret returns the shared secret called name, creating a random 32-byte
// one on first use. Every replica reads the same row, so cookies signed by
// one replica verify on another without any configuration.
func Secret(ctx context.Context, db *pgxpool.Pool, name string) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	var value []byte
	// DO UPDATE (a no-op write) rather than DO NOTHING: when another replica
	// inserts the same name at the same moment, DO NOTHING would return no
	// row, and a SELECT in the same statement cannot see the other's row.
	// DO UPDATE waits for it and returns the stored value.
	err := db.QueryRow(ctx, `
		INSERT INTO app_secrets (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET name = excluded.name
		RETURNING value`, name, fresh).Scan(&value)
	if err != nil {
		return nil, fmt.Errorf("load secret %s: %w", name, err)
	}
	return value, nil
}
