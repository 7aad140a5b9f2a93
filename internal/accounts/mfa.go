package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
)

// Errors of second factors and of the held second step of a log-in.
var (
	// ErrWrongCode is a second-factor code that is wrong, malformed or
	// already used. It is a *FieldError, so a form shows it next to "code".
	ErrWrongCode = &FieldError{Field: "code", Message: "That code is wrong or was already used.", MessageID: "field_error.code_wrong"}
	// ErrNoSealer: no key was configured to seal TOTP secrets, so none is
	// enrolled rather than one stored in plaintext.
	ErrNoSealer = errors.New("accounts: no key configured to seal second-factor secrets")
	// ErrNoEnrolment: ConfirmTOTP without a pending BeginTOTP.
	ErrNoEnrolment = errors.New("accounts: no authenticator app set-up is waiting to be confirmed")
	// ErrNoSecondFactor: the user has no second factor to disable or back up.
	ErrNoSecondFactor = errors.New("accounts: no second factor set up")
	// ErrSecondFactorRequired tells a log-in path that the user must pass
	// the second step (HoldLogin) before a session starts.
	ErrSecondFactorRequired = errors.New("accounts: second factor required")
	// ErrNoPending is a held log-in that is unknown, expired, completed or
	// bound to another browser: all look the same to the caller.
	ErrNoPending = errors.New("accounts: no log-in waiting for a second factor")
	// ErrTooManyAttempts: the held log-in took too many wrong codes and was
	// dropped; the user starts the log-in again.
	ErrTooManyAttempts = errors.New("accounts: too many wrong codes; log in again")
)

// The event kinds recorded here. They are the product's MFA events; the
// constants belong in package events.
const (
	kindMFAEnabled       = events.MFAEnabled
	kindMFADisabled      = events.MFADisabled
	kindMFAFailed        = events.MFAFailed
	kindRecoveryCodeUsed = events.RecoveryCodeUsed
)

// The methods VerifySecondFactor reports.
const (
	MethodTOTP         = "totp"
	MethodRecoveryCode = "recovery_code"
)

// MFA is what second factors a user has, as the profile and the API show it.
type MFA struct {
	TOTP              bool
	RecoveryCodesLeft int
	Passkeys          int
}

// MFAStatus says which second factors userID has.
func (s *Service) MFAStatus(ctx context.Context, userID int64) (MFA, error) {
	var m MFA
	err := s.db.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM totp_factors WHERE user_id = $1 AND secret IS NOT NULL),
		       (SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL),
		       (SELECT count(*) FROM passkeys WHERE user_id = $1)`, userID).
		Scan(&m.TOTP, &m.RecoveryCodesLeft, &m.Passkeys)
	if err != nil {
		return MFA{}, fmt.Errorf("second factors: %w", err)
	}
	return m, nil
}

// NeedsSecondFactor reports whether a log-in of userID must pass the second
// step before a session starts: an authenticator app or a passkey counts.
func (s *Service) NeedsSecondFactor(ctx context.Context, userID int64) (bool, error) {
	return hasSecondFactor(ctx, s.db, userID)
}

// NeedsSecondFactorTx is NeedsSecondFactor inside tx. A request that holds
// a transaction must ask through it: a second connection from the pool
// while the first is held deadlocks once every connection is so held.
func (s *Service) NeedsSecondFactorTx(ctx context.Context, tx pgx.Tx, userID int64) (bool, error) {
	return hasSecondFactor(ctx, tx, userID)
}

func hasSecondFactor(ctx context.Context, q querier, userID int64) (bool, error) {
	var has bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM totp_factors WHERE user_id = $1 AND secret IS NOT NULL)
		OR EXISTS (SELECT 1 FROM passkeys WHERE user_id = $1)`, userID).Scan(&has)
	if err != nil {
		return false, fmt.Errorf("second factors: %w", err)
	}
	return has, nil
}

// wipeSecondFactors removes userID's TOTP, recovery codes, passkeys (and
// their user handle) and held log-ins inside tx, for an account handed to someone who never set them up.
func wipeSecondFactors(ctx context.Context, tx pgx.Tx, userID int64) error {
	b := &pgx.Batch{}
	for _, table := range []string{"totp_factors", "recovery_codes", "passkeys", "webauthn_ceremonies", "login_holds"} {
		b.Queue(`DELETE FROM `+table+` WHERE user_id = $1`, userID)
	}
	b.Queue(`UPDATE users SET webauthn_handle = NULL WHERE id = $1`, userID)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("wipe second factors: %w", err)
	}
	return nil
}

// wrapMFA adds op to unexpected errors and leaves the sentinels and field
// errors callers compare as they are.
func wrapMFA(op string, err error) error {
	if err == nil {
		return nil
	}
	for _, known := range []error{ErrWrongCode, ErrNoEnrolment, ErrNoSecondFactor, ErrNoSealer, ErrNotFound,
		ErrNoPending, ErrTooManyAttempts, ErrAccountDisabled} {
		if errors.Is(err, known) {
			return err
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}
