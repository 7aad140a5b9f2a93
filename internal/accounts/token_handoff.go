package accounts

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/postgres"
)

// tokenHandOffTTL is how long a new token's secret waits for the page that
// shows it: the redirect after the form is followed at once, so minutes are
// plenty, and a secret forgotten in the table is gone soon after.
const tokenHandOffTTL = 5 * time.Minute

// ShownToken is a token just created, with its secret, for the one page view
// that shows it.
type ShownToken struct {
	APIToken
	Secret string
}

// CreateTokenHandOff creates a token as CreateToken does and, in the same
// transaction, keeps its secret sealed for TakeTokenHandOffs by the same
// user in the same browser (the value the caller keeps in a cookie). The
// profile page creates tokens this way, so the form's answer is a redirect
// and the secret reaches the page after it, never a URL, a cookie or a log.
// Without a sealer it refuses with ErrNoSealer: no secret is stored in
// plaintext.
func (s *Service) CreateTokenHandOff(ctx context.Context, user User, browser string, nt NewToken) (APIToken, error) {
	nt.Name = strings.TrimSpace(nt.Name)
	if err := CheckNewToken(user, nt); err != nil {
		return APIToken{}, err
	}
	sealer := s.mfa().sealer
	if sealer == nil {
		return APIToken{}, ErrNoSealer
	}
	if browser == "" {
		return APIToken{}, errors.New("accounts: token hand-off: a browser binding is required")
	}
	var t APIToken
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		var secret string
		var err error
		if t, secret, err = insertToken(ctx, tx, user, nt); err != nil {
			return err
		}
		bh := hashToken(browser)
		_, err = tx.Exec(ctx, `
			INSERT INTO token_handoffs (user_id, token_id, browser_hash, sealed, expires_at)
			VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
			user.ID, t.ID, bh, sealer.Seal(secret, handOffContext(user.ID, t.ID, bh)), tokenHandOffTTL.Seconds())
		return err
	})
	if err != nil {
		if fe := (*FieldError)(nil); errors.As(err, &fe) {
			return APIToken{}, err
		}
		return APIToken{}, fmt.Errorf("create token: %w", err)
	}
	return t, nil
}

// TakeTokenHandOffs takes the secrets handed off to userID in browser,
// oldest first: they are deleted as they are read, so a reload, another tab
// or another browser never sees them; expired ones go too and are not
// returned. A token revoked in between has taken its hand-off with it. A
// secret that does not open is an error, and is gone all the same.
func (s *Service) TakeTokenHandOffs(ctx context.Context, userID int64, browser string) ([]ShownToken, error) {
	if browser == "" {
		return nil, nil
	}
	bh := hashToken(browser)
	rows, err := s.db.Query(ctx, `
		WITH taken AS (
			DELETE FROM token_handoffs WHERE user_id = $1 AND browser_hash = $2
			RETURNING id, token_id, sealed, expires_at
		)
		SELECT t.id, t.user_id, t.name, t.scope, t.prefix, t.created_at, t.expires_at, t.last_used_at, taken.sealed
		FROM taken JOIN api_tokens t ON t.id = taken.token_id AND t.user_id = $1
		WHERE taken.expires_at > now()
		ORDER BY taken.id`, userID, bh)
	if err != nil {
		return nil, fmt.Errorf("take token hand-offs: %w", err)
	}
	type row struct {
		tok    APIToken
		sealed []byte
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		t := &x.tok
		return x, r.Scan(&t.ID, &t.UserID, &t.Name, &t.Scope, &t.Prefix, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &x.sealed)
	})
	if err != nil {
		return nil, fmt.Errorf("take token hand-offs: %w", err)
	}
	if len(all) == 0 {
		return nil, nil
	}
	sealer := s.mfa().sealer
	if sealer == nil {
		return nil, ErrNoSealer
	}
	out := make([]ShownToken, 0, len(all))
	for _, x := range all {
		secret, err := sealer.Open(x.sealed, handOffContext(userID, x.tok.ID, bh))
		if err != nil {
			return nil, fmt.Errorf("open token hand-off %d: %w", x.tok.ID, err)
		}
		out = append(out, ShownToken{APIToken: x.tok, Secret: secret})
	}
	return out, nil
}

// PruneTokenHandOffs deletes hand-offs nobody came to read; the server runs
// it with PruneLoginHolds.
func (s *Service) PruneTokenHandOffs(ctx context.Context) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM token_handoffs WHERE expires_at <= now()`)
	if err != nil {
		return 0, fmt.Errorf("prune token hand-offs: %w", err)
	}
	return tag.RowsAffected(), nil
}

// handOffContext binds a sealed secret to its user, token and browser, so
// one copied to another row does not open.
func handOffContext(userID, tokenID int64, browserHash []byte) string {
	return "token_handoffs.sealed:" + strconv.FormatInt(userID, 10) + ":" + strconv.FormatInt(tokenID, 10) + ":" + hex.EncodeToString(browserHash)
}
