package accounts_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

const pw = "correct horse battery staple"

func newService(t *testing.T) *accounts.Service {
	t.Helper()
	return accounts.New(pgtest.New(t), accounts.Options{IdleTimeout: time.Hour, AbsoluteTimeout: 24 * time.Hour, TestHashMemoryKiB: 64})
}

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Ann@Example.com", "ann@example.com"},
		{"  ann@example.com\t", "ann@example.com"},
		{"ÅSA@example.com", "åsa@example.com"},
		{"A\u030aSA@example.com", "åsa@example.com"}, // NFD input folds to the NFC account
		{"ann", ""},
		{"ann@localhost", ""},
		{"Ann <ann@example.com>", ""},
		{"ann@example.com, bob@example.com", ""},
		{"a b@example.com", ""},
		{"ann@exa\x00mple.com", ""},
		{"\xffann@example.com", ""},
		{strings.Repeat("a", 65) + "@example.com", ""},
		{"", ""},
	} {
		got, err := accounts.NormalizeEmail(tc.in)
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ann@example.com", "A\u030a@x.io", "a@b", "\xff", "<a@b.c>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := accounts.NormalizeEmail(in)
		if err != nil {
			return
		}
		again, err := accounts.NormalizeEmail(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, got, again, err)
		}
		if got != strings.ToLower(got) || strings.ContainsAny(got, " \x00\r\n") {
			t.Fatalf("unsafe normalised email %q", got)
		}
	})
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		pw, email string
		ok        bool
	}{
		{pw, "a@example.com", true},
		{"Tr0ub4dor&3x", "a@example.com", true},
		{strings.Repeat("long passphrase ", 60), "a@example.com", true},
		{"1234567", "", false},
		{"ünïcödé", "", false}, // 7 runes, more bytes
		{"ünïcödé!", "", true},
		{"PASSWORD1", "", false}, // common, case-insensitively
		{"iloveyou2", "", false}, // common
		{"jane.doe.x", "jane.doe.x@example.com", false},
		{strings.Repeat("x", 1025), "", false},
		{"nul\x00bytes-here", "", false},
	} {
		err := accounts.CheckPassword("password", tc.pw, tc.email)
		if (err == nil) != tc.ok {
			t.Errorf("CheckPassword(%.20q) = %v, want ok=%v", tc.pw, err, tc.ok)
		}
	}
}

func TestSignUpAndAuthenticate(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	u, err := s.SignUp(ctx, "Ann@Example.com", pw)
	if err != nil || u.Email != "ann@example.com" || !u.HasPassword || u.IsAdmin {
		t.Fatalf("SignUp = %+v, %v", u, err)
	}
	if _, err := s.SignUp(ctx, "ANN@example.COM", pw); !errors.Is(err, accounts.ErrEmailTaken) {
		t.Fatalf("duplicate email, other case: %v", err)
	}
	if got, err := s.Authenticate(ctx, " ann@EXAMPLE.com", pw); err != nil || got.ID != u.ID {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	for _, bad := range [][2]string{{"ann@example.com", "wrong password"}, {"bob@example.com", pw}, {"", ""}} {
		if _, err := s.Authenticate(ctx, bad[0], bad[1]); !errors.Is(err, accounts.ErrInvalidCredentials) {
			t.Errorf("Authenticate(%q) = %v", bad[0], err)
		}
	}
}

func TestConcurrentSignUpsMakeOneAccount(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.SignUp(ctx, "race@example.com", pw)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, accounts.ErrEmailTaken):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d sign-ups succeeded, want exactly 1", ok)
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	u, _ := s.SignUp(ctx, "s@example.com", pw)
	_, tok1, err := s.LogIn(ctx, "s@example.com", pw, "")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.Session(ctx, tok1)
	if err != nil || sess.UserID != u.ID || sess.CSRFToken == "" {
		t.Fatalf("Session = %+v, %v", sess, err)
	}
	_, tok2, _ := s.LogIn(ctx, "s@example.com", pw, tok1)
	if _, err := s.Session(ctx, tok1); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatal("log-in did not end the session it replaced")
	}
	for _, bad := range []string{"", "garbage", strings.Repeat("x", 500), tok2 + "x"} {
		if _, err := s.Session(ctx, bad); !errors.Is(err, accounts.ErrNoSession) {
			t.Errorf("Session(%.10q) = %v", bad, err)
		}
	}
	list, err := s.Sessions(ctx, u.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("Sessions = %d, %v", len(list), err)
	}
	if err := s.EndSessionByID(ctx, u.ID+1, list[0].ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("another user ended a session: %v", err)
	}
	if n, err := s.EndSessions(ctx, u.ID, 0); err != nil || n != 1 {
		t.Fatalf("EndSessions = %d, %v", n, err)
	}
}

func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	u, _ := s.SignUp(ctx, "c@example.com", pw)
	var fe *accounts.FieldError
	if err := s.ChangePassword(ctx, u.ID, 0, "not it", "another fine passphrase"); !errors.As(err, &fe) || fe.Field != "current_password" {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := s.ChangePassword(ctx, u.ID, 0, pw, "qwertyuiop"); !errors.As(err, &fe) || fe.Field != "new_password" {
		t.Fatalf("common new password: %v", err)
	}
	if _, err := s.Authenticate(ctx, "c@example.com", pw); err != nil {
		t.Fatal("a refused change altered the password")
	}
	if err := s.ChangePassword(ctx, u.ID, 0, pw, "another fine passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "c@example.com", "another fine passphrase"); err != nil {
		t.Fatal("new password refused")
	}
}

func TestEnsureAdmin(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	u, created, err := s.EnsureAdmin(ctx, "boss@example.com", pw)
	if err != nil || !created || !u.IsAdmin {
		t.Fatalf("EnsureAdmin = %+v %v %v", u, created, err)
	}
	u2, created, err := s.EnsureAdmin(ctx, "boss@example.com", "a different passphrase")
	if err != nil || created || u2.ID != u.ID {
		t.Fatalf("second EnsureAdmin = %+v %v %v", u2, created, err)
	}
	if _, err := s.Authenticate(ctx, "boss@example.com", "a different passphrase"); err != nil {
		t.Fatal("EnsureAdmin did not reset the password")
	}
	if _, err := s.CreateAdmin(ctx, "boss@example.com", pw); !errors.Is(err, accounts.ErrEmailTaken) {
		t.Fatalf("CreateAdmin on an existing email: %v", err)
	}
}

func TestDisabledAccount(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	s := accounts.New(db, accounts.Options{}) // the server's own hash cost, not the tests'
	u, _ := s.SignUp(ctx, "off@example.com", pw)
	var hash string
	if err := db.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&hash); err != nil ||
		!strings.HasPrefix(hash, "$argon2id$v=19$m=47104,t=1,p=1$") {
		t.Fatalf("a server hashes with OWASP's argon2id parameters (46 MiB, t=1, p=1): %q %v", hash, err)
	}
	_, tok, _ := s.LogIn(ctx, "off@example.com", pw, "")
	if _, err := db.Exec(ctx, `UPDATE users SET disabled_at = now() WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, tok); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatalf("a disabled account's session still works: %v", err)
	}
	if _, _, err := s.LogIn(ctx, "off@example.com", pw, ""); !errors.Is(err, accounts.ErrAccountDisabled) {
		t.Fatalf("a disabled account logged in: %v", err)
	}
	if _, _, err := s.LogIn(ctx, "off@example.com", "wrong password", ""); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("a wrong password on a disabled account must not reveal it is disabled: %v", err)
	}
}
