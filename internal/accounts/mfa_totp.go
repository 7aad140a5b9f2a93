package accounts

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// TOTP parameters: what every authenticator app understands (RFC 6238
// defaults), accepting the step before and after the current one for clocks
// that drift.
const (
	totpIssuer = "Dancecard"
	totpPeriod = 30
	totpSkew   = 1
)

var totpCode = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPEnrolment is what the profile shows to set up an authenticator app:
// the secret as text and the otpauth:// URI, also drawn as a QR code.
type TOTPEnrolment struct {
	Secret string
	URI    string
}

// BeginTOTP makes a new secret for userID, held as pending until
// ConfirmTOTP proves the app has it; a pending one from before is replaced.
// An active secret keeps working until the new one is confirmed.
func (s *Service) BeginTOTP(ctx context.Context, userID int64) (TOTPEnrolment, error) {
	sealer := s.mfa().sealer
	if sealer == nil {
		return TOTPEnrolment{}, ErrNoSealer
	}
	var e TOTPEnrolment
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err := s.UserTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		name := u.Email
		if name == "" {
			name = "user " + strconv.FormatInt(u.ID, 10)
		}
		key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: name, Period: totpPeriod,
			Digits: totpCode.Digits, Algorithm: totpCode.Algorithm})
		if err != nil {
			return err
		}
		e = TOTPEnrolment{Secret: key.Secret(), URI: key.URL()}
		_, err = tx.Exec(ctx, `
			INSERT INTO totp_factors (user_id, pending_secret) VALUES ($1, $2)
			ON CONFLICT (user_id) DO UPDATE SET pending_secret = EXCLUDED.pending_secret`,
			u.ID, sealer.Seal(e.Secret, totpContext(u.ID)))
		return err
	})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("begin TOTP: %w", err)
	}
	return e, nil
}

// ConfirmTOTP activates the pending secret when code is right for it and
// returns the recovery codes made for the user, to be shown once; a user
// who still has unused codes keeps them and gets none. The code confirming
// the secret cannot log in too.
func (s *Service) ConfirmTOTP(ctx context.Context, userID int64, code string) ([]string, error) {
	var codes []string
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err := s.UserTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		var pending []byte
		var replacing bool
		err = tx.QueryRow(ctx, `SELECT pending_secret, secret IS NOT NULL FROM totp_factors WHERE user_id = $1 AND pending_secret IS NOT NULL`,
			u.ID).Scan(&pending, &replacing)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoEnrolment
		}
		if err != nil {
			return err
		}
		secret, err := s.openTOTP(pending, u.ID)
		if err != nil {
			return err
		}
		step, _ := s.matchStep(secret, stripSpaces(code), -1)
		if step < 0 {
			return ErrWrongCode
		}
		if _, err := tx.Exec(ctx, `
			UPDATE totp_factors SET secret = pending_secret, pending_secret = NULL, enabled_at = now(),
			    last_step = greatest(last_step, $2) WHERE user_id = $1`, u.ID, step); err != nil {
			return err
		}
		if codes, err = ensureRecoveryCodes(ctx, tx, u.ID); err != nil {
			return err
		}
		detail, change := "an authenticator app was set up", "totp_added"
		if replacing {
			detail, change = "the authenticator app was replaced", "totp_replaced"
		}
		if err := notify(ctx, tx, u, "mfa_changed", map[string]string{"detail": detail, "change": change}); err != nil {
			return err
		}
		return events.Record(ctx, tx, events.Event{Kind: kindMFAEnabled, UserID: u.ID,
			Data: map[string]any{"method": MethodTOTP, "replaced": replacing}})
	})
	if err != nil {
		return nil, wrapMFA("confirm TOTP", err)
	}
	return codes, nil
}

// DisableTOTP removes userID's authenticator app and, since no other
// second factor remains, its recovery codes.
func (s *Service) DisableTOTP(ctx context.Context, userID int64) error {
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err := s.UserTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM totp_factors WHERE user_id = $1 AND secret IS NOT NULL`, u.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNoSecondFactor
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, u.ID); err != nil {
			return err
		}
		if err := notify(ctx, tx, u, "mfa_changed", map[string]string{"detail": "the authenticator app and the recovery codes were removed", "change": "totp_removed"}); err != nil {
			return err
		}
		return events.Record(ctx, tx, events.Event{Kind: kindMFADisabled, UserID: u.ID, Data: map[string]any{"method": MethodTOTP}})
	})
	return wrapMFA("disable TOTP", err)
}

// checkTOTP consumes a 6-digit code of userID's active secret inside tx:
// the newest matching step after the last accepted one is remembered, so
// the same code, or an older one, never works again. The row lock makes
// two simultaneous uses of one code take turns. reason says why not.
func (s *Service) checkTOTP(ctx context.Context, tx pgx.Tx, userID int64, code string) (ok bool, reason string, err error) {
	var sealed []byte
	var last int64
	err = tx.QueryRow(ctx, `SELECT secret, last_step FROM totp_factors WHERE user_id = $1 AND secret IS NOT NULL FOR UPDATE`,
		userID).Scan(&sealed, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, "no authenticator app", nil
	}
	if err != nil {
		return false, "", err
	}
	secret, err := s.openTOTP(sealed, userID)
	if err != nil {
		return false, "", err
	}
	step, replay := s.matchStep(secret, code, last)
	switch {
	case step >= 0:
	case replay:
		return false, "code already used", nil
	default:
		return false, "wrong code", nil
	}
	_, err = tx.Exec(ctx, `UPDATE totp_factors SET last_step = $2, last_used_at = now() WHERE user_id = $1`, userID, step)
	return err == nil, "", err
}

// matchStep returns the newest time step within totpSkew of now whose code
// is code and which is after the step last, or -1; replay says code matched
// only steps at or before last.
func (s *Service) matchStep(secret, code string, last int64) (step int64, replay bool) {
	if len(code) != totpCode.Digits.Length() {
		return -1, false
	}
	now := s.mfa().now().Unix() / totpPeriod
	for st := now + totpSkew; st >= now-totpSkew; st-- {
		want, err := hotp.GenerateCodeCustom(secret, uint64(st), totpCode)
		if err != nil || subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		if st > last {
			return st, false
		}
		replay = true
	}
	return -1, replay
}
