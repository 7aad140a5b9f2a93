package accounts_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/postgres"
)

func TestBeginTOTPNeedsASealer(t *testing.T) {
	svc := newService(t)
	u, err := svc.SignUp(context.Background(), "nosealer@example.com", pw)
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.BeginTOTP(context.Background(), u.ID)
	wantErr(t, "BeginTOTP without a sealer", err, accounts.ErrNoSealer)
}

func TestEnrolTOTP(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u := e.user(t, "ann@example.com")
	first, err := e.svc.BeginTOTP(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(first.URI)
	if err != nil || key.Issuer() != "Dancecard" || key.AccountName() != "ann@example.com" || key.Secret() != first.Secret ||
		key.Period() != 30 || key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 {
		t.Fatalf("URI %q: %v", first.URI, err)
	}
	var sealed []byte
	if err := e.db.QueryRow(ctx, `SELECT pending_secret FROM totp_factors WHERE user_id = $1`, u.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed) == 0 || bytes.Contains(bytes.ToUpper(sealed), []byte(first.Secret)) {
		t.Fatalf("secret stored in plaintext or not at all: %q", sealed)
	}

	// Pending is not active: its codes prove nothing yet.
	if need, err := e.svc.NeedsSecondFactor(ctx, u.ID); err != nil || need {
		t.Fatalf("NeedsSecondFactor before confirming = %v, %v", need, err)
	}
	_, err = e.svc.VerifySecondFactor(ctx, u.ID, code(t, first.Secret, t0))
	wantErr(t, "code of a pending secret", err, accounts.ErrWrongCode)

	// A second BeginTOTP replaces the pending secret.
	second, err := e.svc.BeginTOTP(ctx, u.ID)
	if err != nil || second.Secret == first.Secret {
		t.Fatalf("second BeginTOTP = %v, %v", second, err)
	}
	_, err = e.svc.ConfirmTOTP(ctx, u.ID, code(t, first.Secret, t0))
	wantErr(t, "confirm with the replaced secret", err, accounts.ErrWrongCode)
	_, err = e.svc.ConfirmTOTP(ctx, u.ID, "000000x")
	var fe *accounts.FieldError
	if !errors.As(err, &fe) || fe.Field != "code" {
		t.Fatalf("confirm with a malformed code: %v, want a FieldError on code", err)
	}

	codes, err := e.svc.ConfirmTOTP(ctx, u.ID, code(t, second.Secret, t0))
	if err != nil {
		t.Fatal(err)
	}
	checkCodeSet(t, codes)
	st, err := e.svc.MFAStatus(ctx, u.ID)
	if err != nil || st != (accounts.MFA{TOTP: true, RecoveryCodesLeft: 10}) {
		t.Fatalf("MFAStatus = %+v, %v", st, err)
	}
	if e.events(t, "mfa_enabled", u.ID) != 1 || e.notices(t, u.ID) != 1 {
		t.Fatal("want one mfa_enabled event and one mfa_changed notice")
	}
	if n := e.count(t, `SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND length(code_hash) = 32 AND used_at IS NULL`, u.ID); n != 10 {
		t.Fatalf("%d unused 32-byte hashes stored, want 10", n)
	}
	_, err = e.svc.ConfirmTOTP(ctx, u.ID, code(t, second.Secret, t0))
	wantErr(t, "confirm twice", err, accounts.ErrNoEnrolment)
	// The code that confirmed the app cannot log in as well.
	_, err = e.svc.VerifySecondFactor(ctx, u.ID, code(t, second.Secret, t0))
	wantErr(t, "reuse of the confirming code", err, accounts.ErrWrongCode)
}

// checkCodeSet wants 10 distinct codes like xxxx-xxxx-xxxx.
func checkCodeSet(t *testing.T, codes []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range codes {
		if !regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$`).MatchString(c) || seen[c] {
			t.Fatalf("bad or repeated recovery code %q in %q", c, codes)
		}
		seen[c] = true
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(codes))
	}
}

func TestReplaceTOTPKeepsOldAppUntilConfirmed(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u := e.user(t, "bea@example.com")
	old, _ := e.enrol(t, u)
	next, err := e.svc.BeginTOTP(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.at(30 * time.Second)
	if _, err := e.svc.VerifySecondFactor(ctx, u.ID, code(t, old, t0.Add(30*time.Second))); err != nil {
		t.Fatalf("old app while a new one is pending: %v", err)
	}
	e.at(60 * time.Second)
	codes, err := e.svc.ConfirmTOTP(ctx, u.ID, code(t, next.Secret, t0.Add(60*time.Second)))
	if err != nil || codes != nil {
		t.Fatalf("ConfirmTOTP replacing = %q, %v; want the unused codes kept", codes, err)
	}
	e.at(90 * time.Second)
	_, err = e.svc.VerifySecondFactor(ctx, u.ID, code(t, old, t0.Add(90*time.Second)))
	wantErr(t, "old app after replacing", err, accounts.ErrWrongCode)
}

func TestEnrolAccountWithoutEmail(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	var u accounts.User
	if err := postgres.InTx(ctx, e.db, func(tx pgx.Tx) error {
		var created postgres.Statement
		var err error
		if u, created, err = e.svc.CreateProviderUser(ctx, tx, "", "", "twitter"); err != nil {
			return err
		}
		return postgres.ExecAll(ctx, tx, created)
	}); err != nil {
		t.Fatal(err)
	}
	en, err := e.svc.BeginTOTP(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if key, err := otp.NewKeyFromURL(en.URI); err != nil || key.AccountName() != "user "+itoa(u.ID) {
		t.Fatalf("URI %q: %v", en.URI, err)
	}
}

func TestTOTPCodeWorksOnce(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u := e.user(t, "cy@example.com")
	secret, _ := e.enrol(t, u)
	step := func(n int) string { return code(t, secret, t0.Add(time.Duration(n)*30*time.Second)) }
	e.at(90 * time.Second) // now is step 3; step 0 confirmed the app
	for _, tc := range []struct {
		name, code string
		ok         bool
		reason     string
	}{
		{"previous step (skew)", step(2), true, ""},
		{"previous step again", step(2), false, "code already used"},
		{"current step, with a space", step(3)[:3] + " " + step(3)[3:], true, ""},
		{"current step again", step(3), false, "code already used"},
		{"previous step after the current one", step(2), false, "code already used"},
		{"two steps old", step(1), false, "wrong code"},
		{"next step (skew)", step(4), true, ""},
		{"two steps ahead", step(5), false, "wrong code"},
	} {
		method, err := e.svc.VerifySecondFactor(ctx, u.ID, tc.code)
		if tc.ok && (err != nil || method != "totp") {
			t.Fatalf("%s: %q, %v; want accepted", tc.name, method, err)
		}
		if !tc.ok {
			wantErr(t, tc.name, err, accounts.ErrWrongCode)
			if n := e.count(t, `SELECT count(*) FROM events WHERE kind = 'mfa_failed' AND user_id = $1 AND id = (SELECT max(id) FROM events) AND reason = $2`,
				u.ID, tc.reason); n != 1 {
				t.Fatalf("%s: the last event is not mfa_failed with reason %q", tc.name, tc.reason)
			}
		}
	}
}

func TestRecoveryCodes(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u := e.user(t, "dee@example.com")
	_, codes := e.enrol(t, u)
	messy := " " + strings.ToUpper(strings.ReplaceAll(codes[0], "-", "")) + " "
	if method, err := e.svc.VerifySecondFactor(ctx, u.ID, messy); err != nil || method != "recovery_code" {
		t.Fatalf("recovery code typed as %q: %q, %v", messy, method, err)
	}
	_, err := e.svc.VerifySecondFactor(ctx, u.ID, codes[0])
	wantErr(t, "recovery code used twice", err, accounts.ErrWrongCode)
	for _, c := range codes[1:8] {
		if _, err := e.svc.VerifySecondFactor(ctx, u.ID, c); err != nil {
			t.Fatalf("code %s: %v", c, err)
		}
	}
	if st, _ := e.svc.MFAStatus(ctx, u.ID); st.RecoveryCodesLeft != 2 {
		t.Fatalf("left = %d, want 2", st.RecoveryCodesLeft)
	}
	if e.events(t, "recovery_code_used", u.ID) != 8 {
		t.Fatal("want 8 recovery_code_used events")
	}
	if n := e.count(t, `SELECT count(*) FROM mail_outbox WHERE user_id = $1 AND data->>'detail' LIKE '%leaving only 2%'`, u.ID); n != 1 {
		t.Fatalf("%d notices say only 2 are left, want 1", n)
	}

	fresh, err := e.svc.RegenerateRecoveryCodes(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkCodeSet(t, fresh)
	_, err = e.svc.VerifySecondFactor(ctx, u.ID, codes[9])
	wantErr(t, "old set after regenerating", err, accounts.ErrWrongCode)
	if _, err := e.svc.VerifySecondFactor(ctx, u.ID, fresh[9]); err != nil {
		t.Fatalf("new set: %v", err)
	}
	if st, _ := e.svc.MFAStatus(ctx, u.ID); st.RecoveryCodesLeft != 9 {
		t.Fatalf("left = %d, want 9", st.RecoveryCodesLeft)
	}
	other := e.user(t, "eve@example.com")
	_, err = e.svc.VerifySecondFactor(ctx, other.ID, fresh[8])
	wantErr(t, "another user's code", err, accounts.ErrWrongCode)
	_, err = e.svc.RegenerateRecoveryCodes(ctx, other.ID)
	wantErr(t, "regenerate without a second factor", err, accounts.ErrNoSecondFactor)
}

func TestConcurrentUseOfOneCode(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u := e.user(t, "fay@example.com")
	secret, codes := e.enrol(t, u)
	e.at(30 * time.Second)
	for name, c := range map[string]string{"recovery code": codes[0], "TOTP code": code(t, secret, t0.Add(30*time.Second))} {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				_, err := e.svc.VerifySecondFactor(ctx, u.ID, c)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		won := 0
		for err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, accounts.ErrWrongCode):
				t.Fatalf("%s: %v", name, err)
			}
		}
		if won != 1 {
			t.Fatalf("%s used by %d of 8 at once, want exactly 1", name, won)
		}
	}
}

func TestDisableTOTP(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u := e.user(t, "gil@example.com")
	secret, codes := e.enrol(t, u)
	if err := e.svc.DisableTOTP(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	st, err := e.svc.MFAStatus(ctx, u.ID)
	if err != nil || st != (accounts.MFA{}) {
		t.Fatalf("MFAStatus after disabling = %+v, %v", st, err)
	}
	if need, _ := e.svc.NeedsSecondFactor(ctx, u.ID); need {
		t.Fatal("still needs a second factor")
	}
	e.at(30 * time.Second)
	for _, c := range []string{code(t, secret, t0.Add(30*time.Second)), codes[0]} {
		_, err := e.svc.VerifySecondFactor(ctx, u.ID, c)
		wantErr(t, "code after disabling", err, accounts.ErrWrongCode)
	}
	if e.events(t, "mfa_disabled", u.ID) != 1 || e.notices(t, u.ID) != 2 {
		t.Fatal("want an mfa_disabled event and a second notice")
	}
	wantErr(t, "disable twice", e.svc.DisableTOTP(ctx, u.ID), accounts.ErrNoSecondFactor)
}
