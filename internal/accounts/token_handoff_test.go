package accounts_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/accounts"
)

// takeHandOffs runs TakeTokenHandOffs and fails the test on an error.
func takeHandOffs(t *testing.T, e *mfaEnv, userID int64, browser string) []accounts.ShownToken {
	t.Helper()
	out, err := e.svc.TakeTokenHandOffs(context.Background(), userID, browser)
	if err != nil {
		t.Fatalf("take hand-offs: %v", err)
	}
	return out
}

func TestTokenHandOffIsTakenOnceByItsBrowserAndUser(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u, other := e.user(t, "hand@example.com"), e.user(t, "other@example.com")
	tok, err := e.svc.CreateTokenHandOff(ctx, u, "browser-1", accounts.NewToken{Name: " sync ", Scope: accounts.ScopeRead})
	if err != nil || tok.Name != "sync" {
		t.Fatalf("CreateTokenHandOff = %+v, %v", tok, err)
	}
	var sealed []byte
	if err := e.db.QueryRow(ctx, `SELECT sealed FROM token_handoffs`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("dct_")) {
		t.Fatal("the hand-off stores the secret in plaintext")
	}
	if got := takeHandOffs(t, e, u.ID, ""); len(got) != 0 {
		t.Fatal("a request without a browser took the hand-off")
	}
	if got := takeHandOffs(t, e, u.ID, "browser-2"); len(got) != 0 {
		t.Fatal("another browser took the hand-off")
	}
	if got := takeHandOffs(t, e, other.ID, "browser-1"); len(got) != 0 {
		t.Fatal("another user took the hand-off")
	}
	got := takeHandOffs(t, e, u.ID, "browser-1")
	if len(got) != 1 || got[0].ID != tok.ID || got[0].Name != "sync" || !strings.HasPrefix(got[0].Secret, got[0].Prefix) {
		t.Fatalf("taken = %+v", got)
	}
	if n := countRows(t, e, `SELECT count(*) FROM api_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8')) AND id = $2`,
		got[0].Secret, tok.ID); n != 1 {
		t.Fatal("the handed-off secret is not the token's")
	}
	if again := takeHandOffs(t, e, u.ID, "browser-1"); len(again) != 0 {
		t.Fatal("the hand-off was taken twice")
	}
}

func TestTokenHandOffExpiresAndIsPruned(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u := e.user(t, "late@example.com")
	for _, name := range []string{"a", "b"} {
		if _, err := e.svc.CreateTokenHandOff(ctx, u, "b1", accounts.NewToken{Name: name, Scope: accounts.ScopeRead}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.db.Exec(ctx, `UPDATE token_handoffs SET expires_at = now() - interval '1 second' WHERE token_id =
		(SELECT id FROM api_tokens WHERE name = 'a')`); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.PruneTokenHandOffs(ctx); err != nil || n != 1 {
		t.Fatalf("PruneTokenHandOffs = %d, %v", n, err)
	}
	if _, err := e.db.Exec(ctx, `UPDATE token_handoffs SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if got := takeHandOffs(t, e, u.ID, "b1"); len(got) != 0 {
		t.Fatalf("an expired hand-off was shown: %+v", got)
	}
}

func TestTokenHandOffDoesNotOpenInAnotherRow(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	u := e.user(t, "copy@example.com")
	for _, b := range []string{"b1", "b2"} {
		if _, err := e.svc.CreateTokenHandOff(ctx, u, b, accounts.NewToken{Name: b, Scope: accounts.ScopeRead}); err != nil {
			t.Fatal(err)
		}
	}
	// b1's sealed secret copied into b2's row must not open there.
	if _, err := e.db.Exec(ctx, `UPDATE token_handoffs SET sealed = (SELECT sealed FROM token_handoffs h
		JOIN api_tokens t ON t.id = h.token_id WHERE t.name = 'b1') WHERE token_id = (SELECT id FROM api_tokens WHERE name = 'b2')`); err != nil {
		t.Fatal(err)
	}
	if out, err := e.svc.TakeTokenHandOffs(ctx, u.ID, "b2"); err == nil || len(out) != 0 {
		t.Fatalf("a copied secret opened: %+v, %v", out, err)
	}
	if n := countRows(t, e, `SELECT count(*) FROM token_handoffs WHERE browser_hash = sha256('b2')`); n != 0 {
		t.Fatal("a hand-off that did not open stays to be taken again")
	}
}

func TestTokenChecksReportEveryField(t *testing.T) {
	e := newMFAEnv(t)
	u := e.user(t, "many@example.com")
	_, err := e.svc.CreateTokenHandOff(context.Background(), u, "b1", accounts.NewToken{Name: "", Scope: accounts.ScopeAdmin})
	if fields := fieldNames(accounts.FieldErrors(err)); fields != "name scope" {
		t.Fatalf("fields = %q (%v)", fields, err)
	}
	if n := countRows(t, e, `SELECT count(*) FROM api_tokens`); n != 0 {
		t.Fatalf("a refused token was stored: %d", n)
	}
}

func TestSignUpAndPasswordChangeReportEveryField(t *testing.T) {
	ctx := context.Background()
	e := newMFAEnv(t)
	_, err := e.svc.SignUp(ctx, "not an address", "short")
	if fields := fieldNames(accounts.FieldErrors(err)); fields != "email password" {
		t.Fatalf("sign-up fields = %q (%v)", fields, err)
	}
	u := e.user(t, "change@example.com")
	err = e.svc.ChangePassword(ctx, u.ID, 0, "wrong current", "short")
	if fields := fieldNames(accounts.FieldErrors(err)); fields != "current_password new_password" {
		t.Fatalf("change fields = %q (%v)", fields, err)
	}
	if err := e.svc.CheckPasswordChange(ctx, u.ID, pw, "a fine new passphrase"); err != nil {
		t.Fatalf("CheckPasswordChange of a good change: %v", err)
	}
}

func fieldNames(fes []*accounts.FieldError) string {
	var names []string
	for _, fe := range fes {
		names = append(names, fe.Field)
	}
	return strings.Join(names, " ")
}

func countRows(t *testing.T, e *mfaEnv, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
