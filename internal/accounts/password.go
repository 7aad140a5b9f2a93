package accounts

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

// Password policy limits. The upper bound exists only so a megabyte of
// "password" cannot be used to burn CPU; real passphrases fit easily.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 1024
)

// hashMemoryKiB follows OWASP's argon2id recommendation (m=46 MiB, t=1,
// p=1): a hash costs tens of milliseconds, so log-in stays fast while
// offline guessing stays expensive.
const hashMemoryKiB = 46 * 1024

func hashParams(memoryKiB uint32) *argon2id.Params {
	return &argon2id.Params{Memory: memoryKiB, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

//go:embed common-passwords.txt.gz
var commonPasswordsGz []byte

// commonPasswords is decompressed on first use so start-up stays fast.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	zr, err := gzip.NewReader(bytes.NewReader(commonPasswordsGz))
	if err != nil {
		panic("accounts: embedded password list is corrupt: " + err.Error())
	}
	set := make(map[string]struct{}, 40000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if line := sc.Text(); line != "" && line[0] != '#' {
			set[line] = struct{}{}
		}
	}
	return set
})

// hasher runs argon2id with bounded concurrency: each hash holds 46 MiB, so a
// burst of log-ins must queue rather than exhaust memory.
type hasher struct {
	sem    chan struct{}
	params *argon2id.Params
	// dummy is a hash to verify against for an account without a
	// password, made on first use.
	dummy func() string
}

func newHasher(memoryKiB uint32) *hasher {
	h := &hasher{sem: make(chan struct{}, 2*runtime.GOMAXPROCS(0)), params: hashParams(memoryKiB)}
	h.dummy = sync.OnceValue(func() string {
		s, err := argon2id.CreateHash("dancecard-dummy-password", h.params)
		if err != nil {
			panic(err)
		}
		return s
	})
	return h
}

func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-h.sem }()
	s, err := argon2id.CreateHash(password, h.params)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return s, nil
}

// verify compares in constant time. An empty encoded hash (an account with no
// password) still costs one hash, so timing does not reveal which accounts
// have passwords or exist.
func (h *hasher) verify(ctx context.Context, password, encoded string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-h.sem }()
	if encoded == "" {
		encoded = h.dummy()
		password += "\x00never-matches"
	}
	ok, err := argon2id.ComparePasswordAndHash(password, encoded)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	return ok, nil
}

// CheckPassword applies the password policy and returns a *FieldError
// naming field when the password is refused.
func CheckPassword(field, password, email string) error {
	switch n := utf8.RuneCountInString(password); {
	case !utf8.ValidString(password) || strings.ContainsRune(password, 0):
		return &FieldError{Field: field, Message: "The password contains characters that cannot be used.", MessageID: "field_error.password_chars"}
	case n < MinPasswordLength:
		return &FieldError{Field: field, Message: fmt.Sprintf("Use at least %d characters.", MinPasswordLength),
			MessageID: "field_error.password_short", Args: map[string]any{"Min": MinPasswordLength}}
	case len(password) > MaxPasswordLength:
		return &FieldError{Field: field, Message: fmt.Sprintf("Use at most %d characters.", MaxPasswordLength),
			MessageID: "field_error.password_long", Args: map[string]any{"Max": MaxPasswordLength}}
	}
	lower := strings.ToLower(password)
	if _, common := commonPasswords()[lower]; common {
		return &FieldError{Field: field, Message: "This password is one of the most commonly used; choose another.", MessageID: "field_error.password_common"}
	}
	if email != "" && (lower == email || lower == localPart(email)) {
		return &FieldError{Field: field, Message: "Do not use your email address as your password.", MessageID: "field_error.password_is_email"}
	}
	return nil
}

func localPart(email string) string {
	if i := strings.LastIndexByte(email, '@'); i > 0 {
		return email[:i]
	}
	return email
}
