package accounts

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/postgres"
)

// Sealer encrypts secrets at rest, bound to a context naming where the
// ciphertext is stored, so a value copied into another row does not open.
// *links.Keyring is one.
type Sealer interface {
	Seal(plaintext, context string) []byte
	Open(sealed []byte, context string) (string, error)
}

// mfaDeps is what second factors need beyond the database.
type mfaDeps struct {
	sealer   Sealer
	now      func() time.Time   // picks the TOTP time step; tests move it
	webauthn *webauthn.WebAuthn // the relying party of passkeys; nil turns them off
}

func (s *Service) mfa() *mfaDeps {
	if d := s.mfaState.Load(); d != nil {
		return d
	}
	return &mfaDeps{now: time.Now}
}

// setMFA changes s's mfaDeps; it is meant for start-up and tests, so two
// concurrent calls may lose one change.
func (s *Service) setMFA(change func(*mfaDeps)) {
	d := *s.mfa()
	change(&d)
	s.mfaState.Store(&d)
}

// SetSecretSealer sets what seals TOTP secrets. Without one, BeginTOTP
// refuses, so no secret is ever stored in plaintext.
func (s *Service) SetSecretSealer(sealer Sealer) {
	s.setMFA(func(d *mfaDeps) { d.sealer = sealer })
}

func (s *Service) openTOTP(sealed []byte, userID int64) (string, error) {
	sealer := s.mfa().sealer
	if sealer == nil {
		return "", ErrNoSealer
	}
	secret, err := sealer.Open(sealed, totpContext(userID))
	if err != nil {
		return "", fmt.Errorf("open TOTP secret of user %d: %w", userID, err)
	}
	return secret, nil
}

// totpContext binds a sealed secret to its user, so one copied to another
// user's row does not open.
func totpContext(userID int64) string {
	return "totp_factors.secret:" + strconv.FormatInt(userID, 10)
}

// ResealTOTPSecrets seals every stored TOTP secret again with the sealer's
// newest key and returns how many users' rows changed; key rotation runs it
// beside links' Rotate, so an old key can be dropped without locking anyone
// out. Rows the sealer reports current (IsCurrent, as *links.Keyring has)
// are left alone. One transaction suffices: only users with an
// authenticator app have a row.
func (s *Service) ResealTOTPSecrets(ctx context.Context) (int, error) {
	sealer := s.mfa().sealer
	if sealer == nil {
		return 0, ErrNoSealer
	}
	current := func([]byte) bool { return false }
	if c, ok := sealer.(interface{ IsCurrent([]byte) bool }); ok {
		current = c.IsCurrent
	}
	changed := 0
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT user_id, secret, pending_secret FROM totp_factors ORDER BY user_id FOR UPDATE`)
		if err != nil {
			return err
		}
		type row struct {
			userID int64
			cols   [2][]byte // secret, pending_secret
		}
		all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.userID, &x.cols[0], &x.cols[1])
		})
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, x := range all {
			if current(x.cols[0]) && current(x.cols[1]) {
				continue
			}
			for i, sealed := range x.cols {
				if len(sealed) == 0 {
					continue
				}
				plain, err := sealer.Open(sealed, totpContext(x.userID))
				if err != nil {
					return fmt.Errorf("user %d: %w", x.userID, err)
				}
				x.cols[i] = sealer.Seal(plain, totpContext(x.userID))
			}
			b.Queue(`UPDATE totp_factors SET secret = $2, pending_secret = $3 WHERE user_id = $1`, x.userID, x.cols[0], x.cols[1])
			changed++
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return 0, fmt.Errorf("reseal TOTP secrets: %w", err)
	}
	return changed, nil
}
