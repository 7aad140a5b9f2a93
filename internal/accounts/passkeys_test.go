package accounts_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/accounts/passkeytest"
)

const rpOrigin = "https://dancecard.example"

func newPasskeyEnv(t *testing.T) *mfaEnv {
	t.Helper()
	e := newMFAEnv(t)
	base, _ := url.Parse(rpOrigin)
	rp, err := accounts.NewRelyingParty(base)
	if err != nil {
		t.Fatal(err)
	}
	e.svc.SetWebAuthn(rp)
	return e
}

// register adds a new software passkey of userID through the service.
func (e *mfaEnv) register(t *testing.T, userID int64) *passkeytest.Key {
	t.Helper()
	ctx := context.Background()
	opts, token, err := e.svc.BeginPasskeyRegistration(ctx, userID, "browser-1")
	if err != nil {
		t.Fatalf("BeginPasskeyRegistration: %v", err)
	}
	k := passkeytest.New(rpOrigin)
	body, err := k.Register(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.FinishPasskeyRegistration(ctx, userID, "browser-1", token, "Test key", body); err != nil {
		t.Fatalf("FinishPasskeyRegistration: %v", err)
	}
	return k
}

// beginLogin starts a passkey log-in in browser-1 and returns its options.
func (e *mfaEnv) beginLogin(t *testing.T) (options []byte, token string) {
	t.Helper()
	options, token, err := e.svc.BeginPasskeyLogin(context.Background(), "browser-1")
	if err != nil {
		t.Fatalf("BeginPasskeyLogin: %v", err)
	}
	return options, token
}

// assert is k's answer to options with counter.
func assert(t *testing.T, k *passkeytest.Key, options []byte, counter uint32) []byte {
	t.Helper()
	body, err := k.Assert(options, counter)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func TestPasskeyLogin(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := context.Background()
	u := e.user(t, "kim@example.com")
	k := e.register(t, u.ID)

	if m, err := e.svc.MFAStatus(ctx, u.ID); err != nil || m.Passkeys != 1 {
		t.Fatalf("MFAStatus = %+v, %v; want 1 passkey", m, err)
	}
	if need, err := e.svc.NeedsSecondFactor(ctx, u.ID); err != nil || !need {
		t.Fatalf("NeedsSecondFactor = %v, %v; want a passkey to count", need, err)
	}

	opts, token := e.beginLogin(t)
	got, session, err := e.svc.FinishPasskeyLogin(ctx, "browser-1", token, assert(t, k, opts, 5), "")
	if err != nil || got.ID != u.ID || session == "" {
		t.Fatalf("FinishPasskeyLogin = %d, %q, %v; want user %d and a session", got.ID, session, err, u.ID)
	}
	if n := e.count(t, `SELECT count(*) FROM passkeys WHERE sign_count = 5 AND last_used_at IS NOT NULL`); n != 1 {
		t.Fatalf("passkey counter not stored")
	}
	if n := e.count(t, `SELECT count(*) FROM events WHERE kind = 'login_completed' AND data->>'method' = 'passkey'`); n != 1 {
		t.Fatalf("login_completed events = %d, want 1", n)
	}
}

func TestPasskeyRefusals(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := context.Background()
	u := e.user(t, "lee@example.com")
	k := e.register(t, u.ID)

	t.Run("tampered challenge", func(t *testing.T) {
		opts, token := e.beginLogin(t)
		forged, err := passkeytest.WithChallenge(opts, []byte("not the challenge the server sent"))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = e.svc.FinishPasskeyLogin(ctx, "browser-1", token, assert(t, k, forged, 1), "")
		wantErr(t, "tampered challenge", err, accounts.ErrPasskeyRefused)
	})

	t.Run("replayed assertion", func(t *testing.T) {
		opts, token := e.beginLogin(t)
		body := assert(t, k, opts, 10)
		if _, _, err := e.svc.FinishPasskeyLogin(ctx, "browser-1", token, body, ""); err != nil {
			t.Fatalf("first use: %v", err)
		}
		_, _, err := e.svc.FinishPasskeyLogin(ctx, "browser-1", token, body, "")
		wantErr(t, "same ceremony again", err, accounts.ErrNoCeremony)
		_, token2 := e.beginLogin(t)
		_, _, err = e.svc.FinishPasskeyLogin(ctx, "browser-1", token2, body, "")
		wantErr(t, "old answer to a new ceremony", err, accounts.ErrPasskeyRefused)
	})

	t.Run("other browser", func(t *testing.T) {
		opts, token := e.beginLogin(t)
		_, _, err := e.svc.FinishPasskeyLogin(ctx, "browser-2", token, assert(t, k, opts, 20), "")
		wantErr(t, "ceremony of another browser", err, accounts.ErrNoCeremony)
	})

	t.Run("counter goes back", func(t *testing.T) {
		opts, token := e.beginLogin(t)
		if _, _, err := e.svc.FinishPasskeyLogin(ctx, "browser-1", token, assert(t, k, opts, 30), ""); err != nil {
			t.Fatalf("counter 30: %v", err)
		}
		opts, token = e.beginLogin(t)
		_, _, err := e.svc.FinishPasskeyLogin(ctx, "browser-1", token, assert(t, k, opts, 29), "")
		wantErr(t, "counter 29 after 30", err, accounts.ErrPasskeyRefused)
		if n := e.count(t, `SELECT count(*) FROM passkeys WHERE sign_count = 30`); n != 1 {
			t.Fatalf("stored counter moved back")
		}
		if n := e.count(t, `SELECT count(*) FROM events WHERE kind = 'login_failed' AND reason = 'signature counter went back'`); n != 1 {
			t.Fatalf("login_failed for a cloned authenticator = %d, want 1", n)
		}
	})

	t.Run("other origin", func(t *testing.T) {
		// A phishing site relaying the server's challenge: the browser
		// writes the site's own origin into the client data.
		k.Origin = "https://dancecard.example.evil"
		defer func() { k.Origin = rpOrigin }()
		opts, token := e.beginLogin(t)
		_, _, err := e.svc.FinishPasskeyLogin(ctx, "browser-1", token, assert(t, k, opts, 35), "")
		wantErr(t, "answer made for another origin", err, accounts.ErrPasskeyRefused)
		if n := e.count(t, `SELECT count(*) FROM passkeys WHERE sign_count = 30`); n != 1 {
			t.Fatalf("a refused answer moved the stored counter")
		}
	})

	t.Run("removed passkey", func(t *testing.T) {
		list, err := e.svc.Passkeys(ctx, u.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("Passkeys = %v, %v", list, err)
		}
		if err := e.svc.RemovePasskey(ctx, u.ID+1, list[0].ID); !errors.Is(err, accounts.ErrNotFound) {
			t.Fatalf("another user's remove = %v, want ErrNotFound", err)
		}
		if err := e.svc.RemovePasskey(ctx, u.ID, list[0].ID); err != nil {
			t.Fatal(err)
		}
		opts, token := e.beginLogin(t)
		_, _, err = e.svc.FinishPasskeyLogin(ctx, "browser-1", token, assert(t, k, opts, 40), "")
		wantErr(t, "removed passkey", err, accounts.ErrPasskeyRefused)
	})
}
