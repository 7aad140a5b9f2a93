package accounts_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/postgres"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// held is a user with TOTP whose password log-in is held in browser "b1".
func held(t *testing.T, e *mfaEnv, email string) (accounts.User, string, []string, string) {
	t.Helper()
	u := e.user(t, email)
	secret, codes := e.enrol(t, u)
	token, err := e.svc.HoldLogin(context.Background(), u.ID, "b1", "password", "")
	if err != nil {
		t.Fatal(err)
	}
	e.at(30 * time.Second) // the step after the one that confirmed the app
	return u, secret, codes, token
}

func TestHeldLoginCompletes(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u, secret, _, token := held(t, e, "hal@example.com")
	p, err := e.svc.PendingLogin(ctx, token, "b1")
	if err != nil || p.UserID != u.ID || p.Method != "password" || time.Until(p.ExpiresAt) > 5*time.Minute || time.Until(p.ExpiresAt) < 4*time.Minute {
		t.Fatalf("PendingLogin = %+v, %v", p, err)
	}
	oldSession, err := e.svc.NewSession(ctx, u.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	got, session, err := e.svc.CompleteLogin(ctx, token, "b1", code(t, secret, t0.Add(30*time.Second)), oldSession)
	if err != nil || got.ID != u.ID {
		t.Fatalf("CompleteLogin = %+v, %v", got, err)
	}
	if s, err := e.svc.Session(ctx, session); err != nil || s.UserID != u.ID {
		t.Fatalf("new session: %+v, %v", s, err)
	}
	_, err = e.svc.Session(ctx, oldSession)
	wantErr(t, "the session before log-in", err, accounts.ErrNoSession)
	if e.count(t, `SELECT count(*) FROM login_holds`) != 0 {
		t.Fatal("the hold outlived its log-in")
	}
	if e.count(t, `SELECT count(*) FROM events WHERE kind = 'login_completed' AND user_id = $1 AND data = '{"method": "password", "mfa": "totp"}'`, u.ID) != 1 {
		t.Fatal("want login_completed with method and mfa")
	}
	_, _, err = e.svc.CompleteLogin(ctx, token, "b1", code(t, secret, t0.Add(60*time.Second)), "")
	wantErr(t, "completing twice", err, accounts.ErrNoPending)
}

func TestHeldLoginWithRecoveryCodeAfterProvider(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u := e.user(t, "ida@example.com")
	_, codes := e.enrol(t, u)
	token, err := e.svc.HoldLogin(ctx, u.ID, "b1", "provider", "github")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CompleteLogin(ctx, token, "b1", codes[3], ""); err != nil {
		t.Fatal(err)
	}
	if e.count(t, `SELECT count(*) FROM events WHERE kind = 'login_completed' AND user_id = $1 AND provider = 'github'
		AND data = '{"method": "provider", "mfa": "recovery_code"}'`, u.ID) != 1 {
		t.Fatal("want login_completed naming the provider and the recovery code")
	}
}

func TestHeldLoginBoundToBrowser(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	_, secret, _, token := held(t, e, "jo@example.com")
	c := code(t, secret, t0.Add(30*time.Second))
	for name, call := range map[string]func() error{
		"PendingLogin in another browser":  func() error { _, err := e.svc.PendingLogin(ctx, token, "b2"); return err },
		"CompleteLogin in another browser": func() error { _, _, err := e.svc.CompleteLogin(ctx, token, "b2", c, ""); return err },
		"unknown token":                    func() error { _, err := e.svc.PendingLogin(ctx, token+"x", "b1"); return err },
		"no browser":                       func() error { _, err := e.svc.PendingLogin(ctx, token, ""); return err },
	} {
		wantErr(t, name, call(), accounts.ErrNoPending)
	}
	// The right browser can still complete, with the code tried elsewhere.
	if _, _, err := e.svc.CompleteLogin(ctx, token, "b1", c, ""); err != nil {
		t.Fatal(err)
	}
}

func TestHeldLoginExpires(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	_, secret, _, token := held(t, e, "kai@example.com")
	if _, err := e.db.Exec(ctx, `UPDATE login_holds SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.PendingLogin(ctx, token, "b1")
	wantErr(t, "PendingLogin after expiry", err, accounts.ErrNoPending)
	_, _, err = e.svc.CompleteLogin(ctx, token, "b1", code(t, secret, t0.Add(30*time.Second)), "")
	wantErr(t, "CompleteLogin after expiry", err, accounts.ErrNoPending)
	if n, err := e.svc.PruneLoginHolds(ctx); err != nil || n != 1 {
		t.Fatalf("PruneLoginHolds = %d, %v", n, err)
	}
}

func TestHeldLoginDiesAfterFiveWrongCodes(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u, secret, _, token := held(t, e, "lee@example.com")
	wrong := wrongCode(t, secret, t0.Add(30*time.Second))
	for i := 1; i <= 5; i++ {
		_, _, err := e.svc.CompleteLogin(ctx, token, "b1", wrong, "")
		want := error(accounts.ErrWrongCode)
		if i == 5 {
			want = accounts.ErrTooManyAttempts
		}
		wantErr(t, "wrong code "+itoa(int64(i)), err, want)
	}
	_, _, err := e.svc.CompleteLogin(ctx, token, "b1", code(t, secret, t0.Add(30*time.Second)), "")
	wantErr(t, "right code after five wrong ones", err, accounts.ErrNoPending)
	if e.events(t, "mfa_failed", u.ID) != 5 || e.count(t, `SELECT count(*) FROM sessions WHERE user_id = $1`, u.ID) != 0 {
		t.Fatal("want five mfa_failed events and no session")
	}
}

func TestHeldLoginOfUserWhoDroppedTOTP(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u, _, codes, token := held(t, e, "max@example.com")
	if err := e.svc.DisableTOTP(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.svc.CompleteLogin(ctx, token, "b1", codes[0], "")
	wantErr(t, "hold of a user without a second factor", err, accounts.ErrNoPending)
	if e.count(t, `SELECT count(*) FROM login_holds`) != 0 {
		t.Fatal("the hold stayed")
	}
}

func TestResealTOTPSecrets(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u := e.user(t, "ned@example.com")
	secret, _ := e.enrol(t, u)
	if _, err := e.svc.BeginTOTP(ctx, u.ID); err != nil { // a pending secret is resealed too
		t.Fatal(err)
	}
	e.svc.SetSecretSealer(newTestSealer(2, 1))
	for _, want := range []int{1, 0} { // the second run finds every row current
		if n, err := e.svc.ResealTOTPSecrets(ctx); err != nil || n != want {
			t.Fatalf("ResealTOTPSecrets = %d, %v; want %d", n, err, want)
		}
	}
	e.svc.SetSecretSealer(newTestSealer(2)) // the old key dropped
	e.at(30 * time.Second)
	if _, err := e.svc.VerifySecondFactor(ctx, u.ID, code(t, secret, t0.Add(30*time.Second))); err != nil {
		t.Fatalf("code after rotation: %v", err)
	}
}

func TestWipeSecondFactors(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u, _, _, _ := held(t, e, "ola@example.com")
	if err := postgres.InTx(ctx, e.db, func(tx pgx.Tx) error { return accounts.WipeSecondFactors(ctx, tx, u.ID) }); err != nil {
		t.Fatal(err)
	}
	if st, err := e.svc.MFAStatus(ctx, u.ID); err != nil || st != (accounts.MFA{}) || e.count(t, `SELECT count(*) FROM login_holds`) != 0 {
		t.Fatalf("after wiping: %+v, %v", st, err)
	}
}
