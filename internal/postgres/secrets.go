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
	err := db.QueryRow(ctx, `
		WITH ins AS (
		    INSERT INTO app_secrets (name, value) VALUES ($1, $2)
		    ON CONFLICT (name) DO NOTHING RETURNING value)
		SELECT value FROM ins UNION ALL SELECT value FROM app_secrets WHERE name = $1
		LIMIT 1`, name, fresh).Scan(&value)
	if err != nil {
		return nil, fmt.Errorf("load secret %s: %w", name, err)
	}
	return value, nil
}
