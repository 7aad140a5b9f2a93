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
	var u User
	var sessionToken string
	err := s.finishAssertion(ctx, ceremonyLogin, 0, browser, token, body, func(tx pgx.Tx, owner User) (err error) {
		u = owner
		if sessionToken, err = s.StartSession(ctx, tx, u.ID, oldSessionToken); err != nil {
			return err
		}
		return events.Record(ctx, tx, events.Event{Kind: events.LoginCompleted, UserID: u.ID,
			Data: map[string]any{"method": MethodPasskey}})
	})
	if err != nil {
		return User{}, "", wrapPasskey("finish passkey log-in", err)
	}
	return u, sessionToken, nil
}

// BeginPasskeyReauth starts a re-authentication of sess's user with one of
// their own passkeys in this browser, returning the options for
// navigator.credentials.get and the token that finds the ceremony again.
func (s *Service) BeginPasskeyReauth(ctx context.Context, sess Session, browser string) ([]byte, string, error) {
	w, err := s.relyingParty()
	if err != nil {
		return nil, "", err
	}
	handle, err := userHandle(ctx, s.db, sess.UserID, false)
	if err != nil {
		return nil, "", err
	}
	creds, err := loadCredentials(ctx, s.db, sess.UserID, false)
	if err != nil {
		return nil, "", err
	}
	if len(creds) == 0 {
		return nil, "", fmt.Errorf("%w: you have no passkeys", ErrPasskeyRefused)
	}
	assertion, session, err := w.BeginLogin(passkeyUser{u: sess.User, handle: handle, creds: creds},
		webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", fmt.Errorf("begin passkey re-authentication: %w", err)
	}
	return s.startCeremony(ctx, ceremonyReauth, sess.UserID, browser, assertion, session)
}

// FinishPasskeyReauth checks the answer to the ceremony of token, which
// must come from one of sess's user's own passkeys, and counts sess as
// freshly authenticated (recording reauthenticated): the session stays the
// same. Refusals are those of FinishPasskeyLogin.
func (s *Service) FinishPasskeyReauth(ctx context.Context, sess Session, browser, token string, body []byte) error {
	err := s.finishAssertion(ctx, ceremonyReauth, sess.UserID, browser, token, body, func(tx pgx.Tx, _ User) error {
		return s.MarkReauthenticated(ctx, tx, sess.ID, sess.UserID, MethodPasskey, "")
	})
	return wrapPasskey("finish passkey re-authentication", err)
}

// finishAssertion takes the ceremony of token (of kind, begun for userID,
// or 0 for a discoverable log-in), checks the answer body against the
// passkey it names, stores the passkey's new counter and flags and runs
// then with its owner, all in one transaction. A refusal of a known
// account commits its login_failed event and returns ErrPasskeyRefused (or
// ErrAccountDisabled).
func (s *Service) finishAssertion(ctx context.Context, kind string, userID int64, browser, token string, body []byte, then func(tx pgx.Tx, owner User) error) error {
	w, err := s.relyingParty()
	if err != nil {
		return err
	}
	session, err := takeCeremony(ctx, s.db, kind, userID, token, browser)
	if err != nil {
		return err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return refused(err)
	}
	var outcome error // a refusal that still commits its login_failed event
	err = postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u := User{ID: userID} // the account a refusal is recorded on, once known
		// owner finds the account of the passkey rawID whose user handle
		// is handle (for a discoverable log-in) or userID's.
		owner := func(rawID, handle []byte) (webauthn.User, error) {
			var id int64
			err := tx.QueryRow(ctx, `SELECT p.user_id FROM passkeys p JOIN users u ON u.id = p.user_id
				WHERE p.credential_id = $1 AND u.webauthn_handle = $2 AND ($3 = 0 OR u.id = $3)`,
				rawID, handle, userID).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil, errors.New("unknown credential, or another account's")
			}
			if err != nil {
				return nil, err
			}
			// The user first, then the passkeys: the order every user change locks in.
			if u, err = s.UserTx(ctx, tx, id); err != nil {
				return nil, err
			}
			creds, err := loadCredentials(ctx, tx, id, true)
			return passkeyUser{u: u, handle: handle, creds: creds}, err
		}
		var cred *webauthn.Credential
		var err error
		if userID == 0 {
			_, cred, err = w.ValidatePasskeyLogin(owner, session, parsed)
		} else {
			var user webauthn.User
			if user, err = owner(parsed.RawID, session.UserID); err == nil {
				cred, err = w.ValidateLogin(user, session, parsed)
			}
		}
		switch {
		case err != nil:
			outcome = refused(err)
			return s.recordPasskeyFailure(ctx, tx, u.ID, kind, err.Error())
		case cred.Authenticator.CloneWarning:
			outcome = fmt.Errorf("%w: the signature counter went back", ErrPasskeyRefused)
			return s.recordPasskeyFailure(ctx, tx, u.ID, kind, "signature counter went back")
		case u.Disabled:
			outcome = ErrAccountDisabled
			return s.recordPasskeyFailure(ctx, tx, u.ID, kind, "account disabled")
		}
		if _, err := tx.Exec(ctx, `UPDATE passkeys SET sign_count = $2, backup_eligible = $3, backup_state = $4, last_used_at = now()
			WHERE credential_id = $1`, cred.ID, int64(cred.Authenticator.SignCount), cred.Flags.BackupEligible, cred.Flags.BackupState); err != nil {
			return fmt.Errorf("update passkey: %w", err)
		}
		return then(tx, u)
	})
	if err == nil {
		err = outcome
	}
	return err
}

// recordPasskeyFailure records a refused passkey log-in (or
// re-authentication) of a known account.
func (s *Service) recordPasskeyFailure(ctx context.Context, tx pgx.Tx, userID int64, kind, reason string) error {
	if userID == 0 {
		return nil
	}
	if kind == ceremonyReauth {
		reason = "passkey on re-authentication: " + reason
	}
	if len(reason) > 200 {
		reason = reason[:200]
	}
	return events.Record(ctx, tx, events.Event{Kind: events.LoginFailed, UserID: userID, Reason: reason,
		Data: map[string]any{"method": MethodPasskey}})
}
