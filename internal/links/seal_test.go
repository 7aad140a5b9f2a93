package links

import (
	"bytes"
	"errors"
	"testing"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestKeyringRoundTripAndRotation(t *testing.T) {
	old, _ := NewKeyring([][]byte{key(1)})
	sealed := old.Seal("gho_secret", "connections:1:access_token")
	if bytes.Contains(sealed, []byte("gho_secret")) {
		t.Fatal("plaintext visible in ciphertext")
	}
	if got, err := old.Open(sealed, "connections:1:access_token"); err != nil || got != "gho_secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := old.Open(sealed, "connections:2:access_token"); !errors.Is(err, ErrUnsealable) {
		t.Fatal("ciphertext opened in another row's context")
	}
	rotated, _ := NewKeyring([][]byte{key(2), key(1)})
	if got, err := rotated.Open(sealed, "connections:1:access_token"); err != nil || got != "gho_secret" {
		t.Fatalf("old key no longer opens: %q, %v", got, err)
	}
	if rotated.IsCurrent(sealed) {
		t.Fatal("a ciphertext under the old key reported current")
	}
	if resealed := rotated.Seal("gho_secret", "c"); !rotated.IsCurrent(resealed) {
		t.Fatal("new ciphertext not under the newest key")
	}
	newOnly, _ := NewKeyring([][]byte{key(2)})
	if _, err := newOnly.Open(sealed, "connections:1:access_token"); !errors.Is(err, ErrUnsealable) {
		t.Fatal("opened without the key")
	}
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	if _, err := old.Open(tampered, "connections:1:access_token"); !errors.Is(err, ErrUnsealable) {
		t.Fatal("tampered ciphertext opened")
	}
	for _, junk := range [][]byte{{1}, {9, 1, 2, 3, 4, 5}, append([]byte{1}, sealed[1:8]...)} {
		if _, err := old.Open(junk, "x"); !errors.Is(err, ErrUnsealable) {
			t.Errorf("junk %x opened", junk)
		}
	}
	if s := old.Seal("", "x"); s != nil {
		t.Fatal("empty plaintext sealed to bytes")
	}
}

func TestNewKeyringRejectsBadKeys(t *testing.T) {
	for _, keys := range [][][]byte{nil, {key(1)[:16]}, {key(1), make([]byte, 31)}} {
		if _, err := NewKeyring(keys); err == nil {
			t.Errorf("NewKeyring(%d keys) accepted", len(keys))
		}
	}
}
