package accounts_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/dancecard/dancecard/internal/accounts"
)

// TestPasskeyReauth: at /reauth a passkey must be one of the session user's
// own; it freshens that session and records reauthenticated, and starts no
// other session. Someone else's passkey, even a valid one, is refused.
func TestPasskeyReauth(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := context.Background()
	ann := e.user(t, "ann@example.com")
	bob := e.user(t, "bob@example.com")
	annKey := e.register(t, ann.ID)
	bobKey := e.register(t, bob.ID)
	token, err := e.svc.NewSession(ctx, ann.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(ctx, `UPDATE sessions SET authenticated_at = now() - interval '1 day'`); err != nil {
		t.Fatal(err)
	}
	sess, err := e.svc.Session(ctx, token)
	if err != nil {
		t.Fatal(err)
	}

	// Bob's passkey answers Ann's request: refused, recorded on Ann's
	// account, and the session stays stale.
	opts, ceremony, err := e.svc.BeginPasskeyReauth(ctx, sess, "browser-1")
	if err != nil {
		t.Fatal(err)
	}
	err = e.svc.FinishPasskeyReauth(ctx, sess, "browser-1", ceremony, assert(t, bobKey, opts, 1))
	wantErr(t, "another user's passkey", err, accounts.ErrPasskeyRefused)
	if n := e.count(t, `SELECT count(*) FROM sessions WHERE authenticated_at > now() - interval '1 minute'`); n != 0 {
		t.Fatalf("%d fresh sessions after a refused passkey", n)
	}
	if n := e.events(t, "login_failed", ann.ID); n != 1 {
		t.Fatalf("login_failed for ann = %d, want 1", n)
	}

	// Ann's own, in another browser than the one that began: refused.
	opts, ceremony, _ = e.svc.BeginPasskeyReauth(ctx, sess, "browser-1")
	err = e.svc.FinishPasskeyReauth(ctx, sess, "browser-2", ceremony, assert(t, annKey, opts, 1))
	wantErr(t, "another browser", err, accounts.ErrNoCeremony)

	// Ann's own: the same session is fresh again, nothing else starts.
	opts, ceremony, _ = e.svc.BeginPasskeyReauth(ctx, sess, "browser-1")
	if err := e.svc.FinishPasskeyReauth(ctx, sess, "browser-1", ceremony, assert(t, annKey, opts, 1)); err != nil {
		t.Fatalf("FinishPasskeyReauth: %v", err)
	}
	if n := e.count(t, `SELECT count(*) FROM sessions WHERE authenticated_at > now() - interval '1 minute'`); n != 1 {
		t.Fatalf("%d fresh sessions, want Ann's one", n)
	}
	if n := e.count(t, `SELECT count(*) FROM sessions`); n != 1 {
		t.Fatalf("%d sessions, want 1", n)
	}
	if n := e.events(t, "reauthenticated", ann.ID); n != 1 {
		t.Fatalf("reauthenticated = %d, want 1", n)
	}
	if n := e.events(t, "login_completed", ann.ID); n != 0 {
		t.Fatalf("login_completed = %d, want 0", n)
	}
	// The ceremony is single use.
	err = e.svc.FinishPasskeyReauth(ctx, sess, "browser-1", ceremony, assert(t, annKey, opts, 2))
	wantErr(t, "a replayed answer", err, accounts.ErrNoCeremony)

	// A user with no passkey gets no ceremony.
	carl := e.user(t, "carl@example.com")
	if _, _, err := e.svc.BeginPasskeyReauth(ctx, accounts.Session{UserID: carl.ID, User: carl}, "browser-1"); !errors.Is(err, accounts.ErrPasskeyRefused) {
		t.Fatalf("BeginPasskeyReauth without passkeys = %v", err)
	}
}

// TestPasskeyUserHandle: the handle authenticators keep is random, not the
// user id, is the same for every passkey of one account, and goes when an
// account's second factors are wiped.
func TestPasskeyUserHandle(t *testing.T) {
	e := newPasskeyEnv(t)
	u := e.user(t, "hal@example.com")
	first, second := e.register(t, u.ID), e.register(t, u.ID)
	if len(first.Handle()) != 32 || !bytes.Equal(first.Handle(), second.Handle()) {
		t.Fatalf("handles %x and %x: want one 32-byte handle", first.Handle(), second.Handle())
	}
	other := e.register(t, e.user(t, "ivy@example.com").ID)
	if bytes.Equal(first.Handle(), other.Handle()) {
		t.Fatal("two accounts share a user handle")
	}
	if err := e.svc.ResetSecondFactors(context.Background(), u.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT count(*) FROM users WHERE id = $1 AND webauthn_handle IS NULL`, u.ID); n != 1 {
		t.Fatal("the user handle outlived a reset of second factors")
	}
}
