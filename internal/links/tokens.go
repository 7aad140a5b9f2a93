package links

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/oauth"
)

// lockWithToken locks one of userID's connections and opens its tokens.
// Another user's connection is ErrNotFound, exactly like a missing one.
func (s *Service) lockWithToken(ctx context.Context, tx pgx.Tx, userID, id int64) (Connection, oauth.Token, error) {
	return s.readWithToken(ctx, tx, userID, id, " FOR UPDATE")
}

// readWithToken reads one of userID's connections (suffix may lock it) and
// opens its tokens.
func (s *Service) readWithToken(ctx context.Context, tx pgx.Tx, userID, id int64, suffix string) (Connection, oauth.Token, error) {
	var access, secret, refresh []byte
	var tokenType string
	c, err := scanConnection(scanExtra{tx.QueryRow(ctx, `SELECT `+connectionColumns+`, access_token, token_secret,
		    refresh_token, token_type FROM connections
		WHERE id = $1 AND user_id = $2`+suffix, id, userID), []any{&access, &secret, &refresh, &tokenType}})
	if err != nil {
		return Connection{}, oauth.Token{}, err
	}
	tok, err := s.openToken(c, access, secret, refresh, tokenType)
	return c, tok, err
}

// Revokes reports whether removing a connection at provider asks the
// provider to revoke its token: OAuth 2 with a revocation endpoint, or
// OpenID Connect, whose discovery document may name one. OAuth 1 providers
// offer no such endpoint.
func (s *Service) Revokes(provider string) bool {
	p, ok := s.Catalog.Get(provider)
	return ok && (p.Protocol == oauth.OIDC || p.Protocol == oauth.OAuth2 && p.RevokeURL != "")
}

// revoke asks the provider to revoke a removed connection's token. It is
// best effort: the outcome is logged, never shown as a failure.
func (s *Service) revoke(ctx context.Context, c Connection, tok oauth.Token) {
	p, ok := s.Catalog.Get(c.Provider)
	if !ok || tok.AccessToken == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := s.Client.Revoke(ctx, p, tok)
	switch {
	case errors.Is(err, oauth.ErrRevokeUnsupported):
	case err != nil:
		s.Logger.Warn("revoke token at provider", "provider", c.Provider, "connection_id", c.ID, "err", err)
	default:
		s.Logger.Info("revoked token at provider", "provider", c.Provider, "connection_id", c.ID)
	}
}

// Rotate re-seals every stored token under the newest key, in batches so
// the table is never locked for long, and returns how many rows changed.
func (s *Service) Rotate(ctx context.Context) (int, error) {
	var last int64
	total := 0
	for {
		n, next, err := s.rotateBatch(ctx, last)
		if err != nil {
			return total, err
		}
		total += n
		if next == 0 {
			return total, nil
		}
		last = next
	}
}

func (s *Service) rotateBatch(ctx context.Context, after int64) (changed int, last int64, err error) {
	err = pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, provider, provider_user_id, access_token, token_secret, refresh_token
			FROM connections WHERE id > $1 ORDER BY id LIMIT 500 FOR UPDATE`, after)
		if err != nil {
			return err
		}
		type row struct {
			id                      int64
			provider, puid          string
			access, secret, refresh []byte
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.id, &x.provider, &x.puid, &x.access, &x.secret, &x.refresh)
		})
		if err != nil {
			return err
		}
		updates := &pgx.Batch{}
		for _, x := range batch {
			last = x.id
			if s.Keys.IsCurrent(x.access) && s.Keys.IsCurrent(x.secret) && s.Keys.IsCurrent(x.refresh) {
				continue
			}
			cols := [3][]byte{x.access, x.secret, x.refresh}
			for i, col := range []string{"access_token", "token_secret", "refresh_token"} {
				ctxName := tokenContext(x.provider, x.puid, col)
				plain, err := s.Keys.Open(cols[i], ctxName)
				if err != nil {
					return fmt.Errorf("connection %d %s: %w", x.id, col, err)
				}
				cols[i] = s.Keys.Seal(plain, ctxName)
			}
			updates.Queue(`UPDATE connections SET access_token = $2, token_secret = $3, refresh_token = $4 WHERE id = $1`,
				x.id, cols[0], cols[1], cols[2])
			changed++
		}
		// One round trip per batch of up to 500 rows, not one per row.
		if err := tx.SendBatch(ctx, updates).Close(); err != nil {
			return err
		}
		if len(batch) < 500 {
			last = 0
		}
		return nil
	})
	return changed, last, err
}
