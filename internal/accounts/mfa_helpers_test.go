package accounts_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// t0 is 10 s into a TOTP time step, so t0 ± 30 s is the step either side.
var t0 = time.Unix(30*56666667+10, 0)

// mfaEnv is a service with a sealer and a clock the test moves.
type mfaEnv struct {
	db    *pgxpool.Pool
	svc   *accounts.Service
	clock atomic.Int64 // Unix seconds
}

func newMFAEnv(t *testing.T) *mfaEnv {
	t.Helper()
	e := &mfaEnv{db: pgtest.New(t)}
	e.svc = accounts.New(e.db, accounts.Options{IdleTimeout: time.Hour, AbsoluteTimeout: 24 * time.Hour, TestHashMemoryKiB: 64})
	e.svc.SetSecretSealer(newTestSealer(1))
	e.clock.Store(t0.Unix())
	accounts.SetMFAClock(e.svc, func() time.Time { return time.Unix(e.clock.Load(), 0) })
	return e
}

// at moves the service's clock to t0 + d.
func (e *mfaEnv) at(d time.Duration) { e.clock.Store(t0.Add(d).Unix()) }

func (e *mfaEnv) user(t *testing.T, email string) accounts.User {
	t.Helper()
	u, err := e.svc.SignUp(context.Background(), email, pw)
	if err != nil {
		t.Fatalf("sign up %s: %v", email, err)
	}
	return u
}

// enrol sets up TOTP for u and returns its secret and recovery codes.
func (e *mfaEnv) enrol(t *testing.T, u accounts.User) (string, []string) {
	t.Helper()
	ctx := context.Background()
	en, err := e.svc.BeginTOTP(ctx, u.ID)
	if err != nil {
		t.Fatalf("BeginTOTP: %v", err)
	}
	codes, err := e.svc.ConfirmTOTP(ctx, u.ID, code(t, en.Secret, time.Unix(e.clock.Load(), 0)))
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	return en.Secret, codes
}

// code is the TOTP code of secret at time at, as an app shows it.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongCode is a 6-digit code that secret does not give near at.
func wrongCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	near := map[string]bool{}
	for d := -1; d <= 1; d++ {
		near[code(t, secret, at.Add(time.Duration(d)*30*time.Second))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !near[c] {
			return c
		}
	}
	panic("unreachable")
}

// count runs a count(*) query.
func (e *mfaEnv) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (e *mfaEnv) events(t *testing.T, kind string, userID int64) int {
	t.Helper()
	return e.count(t, `SELECT count(*) FROM events WHERE kind = $1 AND user_id = $2`, kind, userID)
}

func (e *mfaEnv) notices(t *testing.T, userID int64) int {
	t.Helper()
	return e.count(t, `SELECT count(*) FROM mail_outbox WHERE user_id = $1 AND kind = 'notice' AND data->>'notice' = 'mfa_changed'`, userID)
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

// testSealer is a tiny key ring of the *links.Keyring shape: AES-256-GCM,
// the first key seals, a key-id byte picks the key that opens.
type testSealer struct {
	keys []sealKey
}

type sealKey struct {
	id   byte
	aead cipher.AEAD
}

func newTestSealer(ids ...byte) *testSealer {
	s := &testSealer{}
	for _, id := range ids {
		key := make([]byte, 32)
		key[0] = id // deterministic per id, so two rings share a key
		block, err := aes.NewCipher(key)
		if err != nil {
			panic(err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			panic(err)
		}
		s.keys = append(s.keys, sealKey{id, aead})
	}
	return s
}

func (s *testSealer) Seal(plaintext, context string) []byte {
	k := s.keys[0]
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	return k.aead.Seal(append([]byte{k.id}, nonce...), nonce, []byte(plaintext), []byte(context))
}

func (s *testSealer) Open(sealed []byte, context string) (string, error) {
	for _, k := range s.keys {
		if len(sealed) < 1+k.aead.NonceSize() || sealed[0] != k.id {
			continue
		}
		n := 1 + k.aead.NonceSize()
		pt, err := k.aead.Open(nil, sealed[1:n], sealed[n:], []byte(context))
		return string(pt), err
	}
	return "", fmt.Errorf("no key opens it")
}

func (s *testSealer) IsCurrent(sealed []byte) bool {
	return len(sealed) == 0 || sealed[0] == s.keys[0].id
}
