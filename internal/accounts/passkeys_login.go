package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// BeginPasskeyLogin starts a log-in with a discoverable passkey in this
// browser: no email is typed, the authenticator says whose passkey it is.
// It returns the options for navigator.credentials.get, as JSON, and the
// token that finds the ceremony again.
func (s *Service) BeginPasskeyLogin(ctx context.Context, browser string) ([]byte, string, error) {
	w, err := s.relyingParty()
	if err != nil {
		return nil, "", err
	}
	assertion, session, err := w.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", fmt.Errorf("begin passkey log-in: %w", err)
	}
	return s.startCeremony(ctx, ceremonyLogin, 0, browser, assertion, session)
}

// FinishPasskeyLogin checks the authenticator's answer (body, the
// PublicKeyCredential as JSON) to the ceremony of token and logs its owner
// in: the passkey's counter and last use are stored, a session starts
// (ending oldSessionToken's) and login_completed is recorded, in one
// transaction. A passkey verifies its user, so no second factor follows.
// An answer that does not verify, or whose signature counter went back
// while the stored one is not zero (a cloned authenticator), is
// ErrPasskeyRefused, recorded as login_failed when the account is known.
func (s *Service) FinishPasskeyLogin(ctx context.Context, browser, token string, body []byte, oldSessionToken string) (User, string, error) {
	w, err := s.relyingParty()
	if err != nil {
		return User{}, "", err
	}
	session, err := takeCeremony(ctx, s.db, ceremonyLogin, 0, token, browser)
	if err != nil {
		return User{}, "", err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return User{}, "", refused(err)
	}
	var u User
	var sessionToken string
	var outcome error // a refusal that still commits its login_failed event
	err = postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		lookup := func(rawID, handle []byte) (webauthn.User, error) {
			id, ok := userFromHandle(handle)
			if !ok {
				return nil, errors.New("malformed user handle")
			}
			var owner int64
			err := tx.QueryRow(ctx, `SELECT user_id FROM passkeys WHERE credential_id = $1`, rawID).Scan(&owner)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && owner != id) {
				return nil, errors.New("unknown credential")
			}
			if err != nil {
				return nil, err
			}
			// The user first, then the passkeys: the order every user change locks in.
			if u, err = s.UserTx(ctx, tx, id); err != nil {
				return nil, err
			}
			creds, err := loadCredentials(ctx, tx, id, true)
			return passkeyUser{u: u, creds: creds}, err
		}
		_, cred, err := w.ValidatePasskeyLogin(lookup, session, parsed)
		switch {
		case err != nil:
			outcome = refused(err)
			return s.recordPasskeyFailure(ctx, tx, u.ID, err.Error())
		case cred.Authenticator.CloneWarning:
			outcome = fmt.Errorf("%w: the signature counter went back", ErrPasskeyRefused)
			return s.recordPasskeyFailure(ctx, tx, u.ID, "signature counter went back")
		case u.Disabled:
			outcome = ErrAccountDisabled
			return s.recordPasskeyFailure(ctx, tx, u.ID, "account disabled")
		}
		if _, err := tx.Exec(ctx, `UPDATE passkeys SET sign_count = $2, backup_eligible = $3, backup_state = $4, last_used_at = now()
			WHERE credential_id = $1`, cred.ID, int64(cred.Authenticator.SignCount), cred.Flags.BackupEligible, cred.Flags.BackupState); err != nil {
			return fmt.Errorf("update passkey: %w", err)
		}
		if sessionToken, err = s.StartSession(ctx, tx, u.ID, oldSessionToken); err != nil {
			return err
		}
		return events.Record(ctx, tx, events.Event{Kind: events.LoginCompleted, UserID: u.ID,
			Data: map[string]any{"method": MethodPasskey}})
	})
	if err == nil {
		err = outcome
	}
	if err != nil {
		return User{}, "", wrapPasskey("finish passkey log-in", err)
	}
	return u, sessionToken, nil
}

// recordPasskeyFailure records a refused passkey log-in of a known account.
func (s *Service) recordPasskeyFailure(ctx context.Context, tx pgx.Tx, userID int64, reason string) error {
	if userID == 0 {
		return nil
	}
	if len(reason) > 200 {
		reason = reason[:200]
	}
	return events.Record(ctx, tx, events.Event{Kind: events.LoginFailed, UserID: userID, Reason: reason,
		Data: map[string]any{"method": MethodPasskey}})
}
