package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// Errors of passkeys.
var (
	// ErrNoWebAuthn: the server was started without a relying party, so no
	// passkey can be made or used.
	ErrNoWebAuthn = errors.New("accounts: passkeys are not configured")
	// ErrNoCeremony is a passkey request that is unknown, expired, already
	// used or begun in another browser: all look the same to the caller.
	ErrNoCeremony = errors.New("accounts: no passkey request waiting")
	// ErrPasskeyRefused is an answer from an authenticator that does not
	// verify: a wrong challenge, origin or signature, an unknown credential,
	// or a signature counter that went back (a cloned authenticator).
	ErrPasskeyRefused = errors.New("accounts: the passkey was not accepted")
	// ErrPasskeyName is a passkey name that is too long.
	ErrPasskeyName = &FieldError{Field: "name", Message: "Give the passkey a name of at most 64 characters.", MessageID: "field_error.passkey_name"}
)

// The event kinds recorded here; the constants belong in package events.
const (
	kindPasskeyAdded   = events.PasskeyAdded
	kindPasskeyRemoved = events.PasskeyRemoved
)

// MethodPasskey is the log-in method recorded for a passkey log-in.
const MethodPasskey = "passkey"

// Passkey is one of a user's passkeys as the profile lists it.
type Passkey struct {
	ID             int64
	Name           string
	CreatedAt      time.Time
	LastUsedAt     *time.Time
	BackupEligible bool // a synced passkey (a password manager, a phone's cloud)
	BackupState    bool
}

// SetWebAuthn sets the relying party passkeys are made for. Without one,
// the passkey methods answer ErrNoWebAuthn.
func (s *Service) SetWebAuthn(w *webauthn.WebAuthn) {
	s.setMFA(func(d *mfaDeps) { d.webauthn = w })
}

// PasskeysOn reports whether passkeys can be added and used here.
func (s *Service) PasskeysOn() bool { return s.mfa().webauthn != nil }

func (s *Service) relyingParty() (*webauthn.WebAuthn, error) {
	if w := s.mfa().webauthn; w != nil {
		return w, nil
	}
	return nil, ErrNoWebAuthn
}

// BeginPasskeyRegistration starts adding a passkey for userID in this
// browser: it returns the options for navigator.credentials.create, as
// JSON, and the token that finds the ceremony again. The new passkey must be
// discoverable and verify its user, so it alone can log in.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, userID int64, browser string) ([]byte, string, error) {
	w, err := s.relyingParty()
	if err != nil {
		return nil, "", err
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return nil, "", fmt.Errorf("begin passkey registration: %w", err)
	}
	handle, err := userHandle(ctx, s.db, userID, true)
	if err != nil {
		return nil, "", err
	}
	creds, err := loadCredentials(ctx, s.db, userID, false)
	if err != nil {
		return nil, "", err
	}
	exclude := make([]protocol.CredentialDescriptor, 0, len(creds))
	for _, c := range creds {
		exclude = append(exclude, c.Descriptor())
	}
	creation, session, err := w.BeginRegistration(passkeyUser{u: u, handle: handle, creds: creds},
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationRequired}),
		webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, "", fmt.Errorf("begin passkey registration: %w", err)
	}
	return s.startCeremony(ctx, ceremonyRegister, userID, browser, creation, session)
}

func (s *Service) startCeremony(ctx context.Context, kind string, userID int64, browser string, options any, session *webauthn.SessionData) ([]byte, string, error) {
	out, err := json.Marshal(options)
	if err != nil {
		return nil, "", err
	}
	token, err := saveCeremony(ctx, s.db, kind, userID, browser, session)
	if err != nil {
		return nil, "", err
	}
	return out, token, nil
}

// FinishPasskeyRegistration checks the authenticator's answer (body, the
// PublicKeyCredential as JSON) to the ceremony of token and stores the
// passkey under name, recording passkey_added and telling the user by mail.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, userID int64, browser, token, name string, body []byte) (Passkey, error) {
	w, err := s.relyingParty()
	if err != nil {
		return Passkey{}, err
	}
	if name, err = passkeyName(name); err != nil {
		return Passkey{}, err
	}
	session, err := takeCeremony(ctx, s.db, ceremonyRegister, userID, token, browser)
	if err != nil {
		return Passkey{}, wrapPasskey("finish passkey registration", err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return Passkey{}, refused(err)
	}
	var p Passkey
	err = postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err := s.UserTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		handle, err := userHandle(ctx, tx, userID, false)
		if err != nil {
			return err
		}
		creds, err := loadCredentials(ctx, tx, userID, false)
		if err != nil {
			return err
		}
		cred, err := w.CreateCredential(passkeyUser{u: u, handle: handle, creds: creds}, session, parsed)
		if err != nil {
			return refused(err)
		}
		if p, err = insertPasskey(ctx, tx, userID, name, cred); err != nil {
			return err
		}
		if err := notify(ctx, tx, u, "mfa_changed", map[string]string{"detail": "a passkey named " + strconv.Quote(name) + " was added",
			"change": "passkey_added", "name": name}); err != nil {
			return err
		}
		return events.Record(ctx, tx, events.Event{Kind: kindPasskeyAdded, UserID: userID,
			Data: map[string]any{"passkey_id": p.ID, "name": name, "backup_eligible": p.BackupEligible}})
	})
	if err != nil {
		return Passkey{}, wrapPasskey("finish passkey registration", err)
	}
	return p, nil
}

// passkeyName trims name and gives an unnamed passkey a name.
func passkeyName(name string) (string, error) {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return "Passkey", nil
	}
	if utf8.RuneCountInString(name) > 64 {
		return "", ErrPasskeyName
	}
	return name, nil
}

// Passkeys lists userID's passkeys, oldest first.
func (s *Service) Passkeys(ctx context.Context, userID int64) ([]Passkey, error) {
	rows, err := s.db.Query(ctx, `SELECT id, name, created_at, last_used_at, backup_eligible, backup_state
		FROM passkeys WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Passkey, error) {
		var p Passkey
		return p, r.Scan(&p.ID, &p.Name, &p.CreatedAt, &p.LastUsedAt, &p.BackupEligible, &p.BackupState)
	})
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	return out, nil
}

// RenamePasskey names userID's passkey id; another user's is ErrNotFound.
func (s *Service) RenamePasskey(ctx context.Context, userID, id int64, name string) error {
	name, err := passkeyName(name)
	if err != nil {
		return err
	}
	tag, err := s.db.Exec(ctx, `UPDATE passkeys SET name = $3 WHERE id = $1 AND user_id = $2`, id, userID, name)
	if err != nil {
		return fmt.Errorf("rename passkey: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// RemovePasskey deletes userID's passkey id, records passkey_removed and
// tells the user by mail; another user's is ErrNotFound.
func (s *Service) RemovePasskey(ctx context.Context, userID, id int64) error {
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err := s.UserTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		var name string
		err = tx.QueryRow(ctx, `DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name`, id, userID).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := notify(ctx, tx, u, "mfa_changed", map[string]string{"detail": "the passkey named " + strconv.Quote(name) + " was removed",
			"change": "passkey_removed", "name": name}); err != nil {
			return err
		}
		return events.Record(ctx, tx, events.Event{Kind: kindPasskeyRemoved, UserID: userID,
			Data: map[string]any{"passkey_id": id, "name": name}})
	})
	return wrapPasskey("remove passkey", err)
}

// refused wraps a verification failure of go-webauthn as ErrPasskeyRefused,
// keeping its detail for the log.
func refused(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return fmt.Errorf("%w: %s: %s", ErrPasskeyRefused, pe.Details, pe.DevInfo)
	}
	return fmt.Errorf("%w: %v", ErrPasskeyRefused, err)
}

func wrapPasskey(op string, err error) error {
	if err == nil {
		return nil
	}
	for _, known := range []error{ErrNoCeremony, ErrPasskeyRefused, ErrNoWebAuthn, ErrNotFound, ErrAccountDisabled} {
		if errors.Is(err, known) {
			return err
		}
	}
	return wrapMFA(op, err)
}

// NewRelyingParty is the passkey relying party of a server at base: its ID
// is base's host name, and base's scheme and host are the only origin
// passkeys are used from. Browsers refuse an IP address as a relying party,
// so a base_url with one gets nil (passkeys off) rather than an error that
// would stop the server.
func NewRelyingParty(base *url.URL) (*webauthn.WebAuthn, error) {
	if net.ParseIP(base.Hostname()) != nil {
		return nil, nil
	}
	w, err := webauthn.New(&webauthn.Config{
		RPID:          base.Hostname(),
		RPDisplayName: "Dancecard",
		RPOrigins:     []string{base.Scheme + "://" + base.Host},
	})
	if err != nil {
		return nil, fmt.Errorf("passkeys: relying party for %s: %w", base, err)
	}
	return w, nil
}
