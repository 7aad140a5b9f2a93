package events

import (
	"context"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/postgres"
)

// deploymentRow is the app_secrets row holding the deployment id. It is not
// secret; the table is simply where values every replica of one deployment
// must share are made, once, by whichever replica needs one first.
const deploymentRow = "deployment-id"

// deployment is the id that sets this deployment's messages apart from
// another's: event ids are unique only within one database, and a receiver
// that drops repeated ids (a JetStream stream, a webhook endpoint) would
// drop another deployment's event with the same number, or a rebuilt
// database's. It is random, made once per database, shared by its replicas
// and read on first use.
type deployment struct {
	db *pgxpool.Pool
	mu sync.Mutex
	id string // 32 hex digits; "" until read
}

func (d *deployment) get(ctx context.Context) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.id != "" {
		return d.id, nil
	}
	b, err := postgres.Secret(ctx, d.db, deploymentRow)
	if err != nil {
		return "", fmt.Errorf("deployment id: %w", err)
	}
	if len(b) == 0 {
		return "", fmt.Errorf("deployment id: app_secrets row %q is empty", deploymentRow)
	}
	d.id = hex.EncodeToString(b[:min(len(b), 16)])
	return d.id, nil
}
