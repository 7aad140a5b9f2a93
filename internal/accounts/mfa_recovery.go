package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// Recovery codes are 12 characters of Crockford's base32 (no I, L, O or U),
// shown as xxxx-xxxx-xxxx: 60 random bits each, so hashing them once is
// enough. Reading them back forgives case, dashes, spaces and the letters
// people type for look-alike digits.
const (
	recoveryCodeCount = 10
	recoveryCodeLen   = 12
	recoveryAlphabet  = "0123456789abcdefghjkmnpqrstvwxyz"
	// recoveryFewLeft is when a notice says to make a new set.
	recoveryFewLeft = 2
)

var recoveryLookAlikes = strings.NewReplacer("-", "", " ", "", "o", "0", "i", "1", "l", "1")

// RegenerateRecoveryCodes replaces userID's recovery codes with a new set,
// to be shown once; the old codes stop working.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID int64) ([]string, error) {
	var codes []string
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err := s.UserTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		has, err := hasSecondFactor(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if !has {
			return ErrNoSecondFactor
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, u.ID); err != nil {
			return err
		}
		if codes, err = insertRecoveryCodes(ctx, tx, u.ID); err != nil {
			return err
		}
		return notify(ctx, tx, u, "mfa_changed", map[string]string{"detail": "new recovery codes were made; the old ones no longer work", "change": "codes_new"})
	})
	if err != nil {
		return nil, wrapMFA("regenerate recovery codes", err)
	}
	return codes, nil
}

// ensureRecoveryCodes makes a new set for userID unless some codes are
// still unused, and returns the new codes (nil when none were made).
func ensureRecoveryCodes(ctx context.Context, tx pgx.Tx, userID int64) ([]string, error) {
	var left int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL`, userID).Scan(&left); err != nil {
		return nil, err
	}
	if left > 0 {
		return nil, nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return nil, err
	}
	return insertRecoveryCodes(ctx, tx, userID)
}

func insertRecoveryCodes(ctx context.Context, tx pgx.Tx, userID int64) ([]string, error) {
	codes := make([]string, recoveryCodeCount)
	hashes := make([][]byte, recoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = hashRecoveryCode(userID, normalizeRecoveryCode(codes[i]))
	}
	if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, unnest($2::bytea[])`,
		userID, hashes); err != nil {
		return nil, fmt.Errorf("store recovery codes: %w", err)
	}
	return codes, nil
}

func newRecoveryCode() string {
	b := make([]byte, recoveryCodeLen)
	rand.Read(b)
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(recoveryAlphabet[c%32]) // 256 is a multiple of 32: uniform
	}
	return sb.String()
}

// normalizeRecoveryCode returns the code's 12 characters, or "" when code
// cannot be a recovery code.
func normalizeRecoveryCode(code string) string {
	c := recoveryLookAlikes.Replace(strings.ToLower(code))
	if len(c) != recoveryCodeLen || strings.Trim(c, recoveryAlphabet) != "" {
		return ""
	}
	return c
}

// hashRecoveryCode binds the hash to the user, so one precomputed guess
// does not test every account's codes at once.
func hashRecoveryCode(userID int64, normalized string) []byte {
	h := sha256.Sum256([]byte(strconv.FormatInt(userID, 10) + ":" + normalized))
	return h[:]
}

// useRecoveryCode spends one of u's unused codes inside tx and tells u. The
// conditional update lets exactly one of two simultaneous uses win.
func useRecoveryCode(ctx context.Context, tx pgx.Tx, u User, code string) (ok bool, reason string, err error) {
	norm := normalizeRecoveryCode(code)
	if norm == "" {
		return false, "malformed code", nil
	}
	tag, err := tx.Exec(ctx, `UPDATE recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`,
		u.ID, hashRecoveryCode(u.ID, norm))
	if err != nil || tag.RowsAffected() == 0 {
		return false, "wrong or used recovery code", err
	}
	var left int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL`, u.ID).Scan(&left); err != nil {
		return false, "", err
	}
	detail, change := fmt.Sprintf("a recovery code was used, leaving %d", left), "code_used"
	if left <= recoveryFewLeft {
		detail, change = fmt.Sprintf("a recovery code was used, leaving only %d: make a new set on your profile", left), "code_used_few"
	}
	if err := notify(ctx, tx, u, "mfa_changed", map[string]string{"detail": detail, "change": change, "left": strconv.Itoa(left)}); err != nil {
		return false, "", err
	}
	return true, "", events.Record(ctx, tx, events.Event{Kind: kindRecoveryCodeUsed, UserID: u.ID, Data: map[string]any{"left": left}})
}
