package accounts

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/jackc/pgx/v5"
)

// A ceremony (the challenge between Begin and Finish) lasts minutes, like a
// held log-in.
const ceremonyTTL = 5 * time.Minute

// The kinds of webauthn_ceremonies rows.
const (
	ceremonyRegister = "register"
	ceremonyLogin    = "login"
	ceremonyReauth   = "reauth"
)

// passkeyUser is a user as go-webauthn sees one. The user handle is 32
// random bytes kept in users.webauthn_handle, made with the first passkey,
// so an authenticator's record tells nothing about the account.
type passkeyUser struct {
	u      User
	handle []byte
	creds  []webauthn.Credential
}

func (p passkeyUser) WebAuthnID() []byte { return p.handle }

func (p passkeyUser) WebAuthnName() string {
	if p.u.Email != "" {
		return p.u.Email
	}
	return fmt.Sprintf("user %d", p.u.ID)
}

func (p passkeyUser) WebAuthnDisplayName() string { return p.WebAuthnName() }

func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

// userHandle returns userID's user handle, making one if makeOne and the
// user has none yet.
func userHandle(ctx context.Context, q querier, userID int64, makeOne bool) ([]byte, error) {
	var handle []byte
	var err error
	if makeOne {
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return nil, err
		}
		err = q.QueryRow(ctx, `UPDATE users SET webauthn_handle = coalesce(webauthn_handle, $2) WHERE id = $1
			RETURNING webauthn_handle`, userID, fresh).Scan(&handle)
	} else {
		err = q.QueryRow(ctx, `SELECT webauthn_handle FROM users WHERE id = $1`, userID).Scan(&handle)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("passkey user handle: %w", err)
	}
	return handle, nil
}

// saveCeremony stores session for the browser and returns the token that
// finds it again; userID is 0 for a log-in, where no one is known yet.
func saveCeremony(ctx context.Context, q querier, kind string, userID int64, browser string, session *webauthn.SessionData) (string, error) {
	if browser == "" {
		return "", errors.New("accounts: passkey ceremony: browser binding is required")
	}
	data, err := json.Marshal(session)
	if err != nil {
		return "", err
	}
	var uid *int64
	if userID != 0 {
		uid = &userID
	}
	token := randomToken()
	_, err = q.Exec(ctx, `
		INSERT INTO webauthn_ceremonies (token_hash, user_id, kind, browser_hash, session, expires_at)
		VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
		hashToken(token), uid, kind, hashToken(browser), data, ceremonyTTL.Seconds())
	if err != nil {
		return "", fmt.Errorf("save passkey ceremony: %w", err)
	}
	return token, nil
}

// takeCeremony deletes and returns the ceremony of token in this browser.
// It is its own statement, committed before the answer is checked, so a
// ceremony is used once whether or not the answer is right.
func takeCeremony(ctx context.Context, q querier, kind string, userID int64, token, browser string) (webauthn.SessionData, error) {
	var session webauthn.SessionData
	if token == "" || len(token) > 128 || browser == "" {
		return session, ErrNoCeremony
	}
	var uid *int64
	if userID != 0 {
		uid = &userID
	}
	var data []byte
	var live bool
	err := q.QueryRow(ctx, `
		DELETE FROM webauthn_ceremonies
		WHERE token_hash = $1 AND browser_hash = $2 AND kind = $3 AND user_id IS NOT DISTINCT FROM $4
		RETURNING session, expires_at > now()`,
		hashToken(token), hashToken(browser), kind, uid).Scan(&data, &live)
	if errors.Is(err, pgx.ErrNoRows) {
		return session, ErrNoCeremony
	}
	if err != nil {
		return session, fmt.Errorf("take passkey ceremony: %w", err)
	}
	if !live {
		return session, ErrNoCeremony
	}
	if err := json.Unmarshal(data, &session); err != nil {
		return session, fmt.Errorf("take passkey ceremony: %w", err)
	}
	return session, nil
}

// PrunePasskeyCeremonies deletes expired passkey ceremonies; the server can
// run it with PruneLoginHolds.
func (s *Service) PrunePasskeyCeremonies(ctx context.Context) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM webauthn_ceremonies WHERE expires_at <= now()`)
	if err != nil {
		return 0, fmt.Errorf("prune passkey ceremonies: %w", err)
	}
	return tag.RowsAffected(), nil
}

const credentialColumns = `credential_id, public_key, attestation_type, aaguid, sign_count, backup_eligible, backup_state, transports`

// loadCredentials returns userID's passkeys as go-webauthn credentials;
// lock takes their rows FOR UPDATE, for a log-in that moves the counter.
func loadCredentials(ctx context.Context, q querier, userID int64, lock bool) ([]webauthn.Credential, error) {
	sql := `SELECT ` + credentialColumns + ` FROM passkeys WHERE user_id = $1 ORDER BY id`
	if lock {
		sql += ` FOR UPDATE`
	}
	rows, err := q.Query(ctx, sql, userID)
	if err != nil {
		return nil, fmt.Errorf("load passkeys: %w", err)
	}
	creds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webauthn.Credential, error) {
		var c webauthn.Credential
		var count int64
		var transports []string
		err := r.Scan(&c.ID, &c.PublicKey, &c.AttestationType, &c.Authenticator.AAGUID, &count,
			&c.Flags.BackupEligible, &c.Flags.BackupState, &transports)
		c.Authenticator.SignCount = uint32(count)
		for _, t := range transports {
			c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
		}
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("load passkeys: %w", err)
	}
	return creds, nil
}

func insertPasskey(ctx context.Context, tx pgx.Tx, userID int64, name string, c *webauthn.Credential) (Passkey, error) {
	transports := make([]string, 0, len(c.Transport))
	for _, t := range c.Transport {
		transports = append(transports, string(t))
	}
	p := Passkey{Name: name, BackupEligible: c.Flags.BackupEligible, BackupState: c.Flags.BackupState}
	err := tx.QueryRow(ctx, `
		INSERT INTO passkeys (user_id, credential_id, public_key, attestation_type, aaguid, sign_count,
		                      backup_eligible, backup_state, transports, name)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (credential_id) DO NOTHING
		RETURNING id, created_at`,
		userID, c.ID, c.PublicKey, c.AttestationType, c.Authenticator.AAGUID, int64(c.Authenticator.SignCount),
		c.Flags.BackupEligible, c.Flags.BackupState, transports, name).Scan(&p.ID, &p.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Passkey{}, fmt.Errorf("%w: that passkey is already registered", ErrPasskeyRefused)
	}
	if err != nil {
		return Passkey{}, fmt.Errorf("store passkey: %w", err)
	}
	return p, nil
}
