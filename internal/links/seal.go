package links

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// sealVersion is the first byte of every ciphertext, so the format can change
// without guessing.
const sealVersion = 1

// ErrUnsealable is a ciphertext that no key in the ring opens: a key was
// removed too early, or the data was tampered with.
var ErrUnsealable = errors.New("links: stored token cannot be decrypted with any configured key")

// Keyring seals tokens with AES-256-GCM. The first key seals; every key
// opens, so keys can be rotated without downtime: put the new key first,
// run `server keys rotate`, then drop the old one.
type Keyring struct {
	keys []keyEntry
}

type keyEntry struct {
	id   [4]byte // first bytes of SHA-256(key): picks the key without trial decryption
	aead cipher.AEAD
}

// NewKeyring builds a ring from 32-byte keys, newest first.
func NewKeyring(keys [][]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("links: at least one token key is required")
	}
	r := &Keyring{}
	for i, k := range keys {
		if len(k) != 32 {
			return nil, fmt.Errorf("links: token key %d is %d bytes, want 32", i, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(k)
		var e keyEntry
		copy(e.id[:], sum[:4])
		e.aead = aead
		r.keys = append(r.keys, e)
	}
	return r, nil
}

// Seal encrypts plaintext bound to context (the row and column it is stored
// in), so a ciphertext copied into another row does not open. An empty
// plaintext seals to nil, stored as NULL.
func (r *Keyring) Seal(plaintext, context string) []byte {
	if plaintext == "" {
		return nil
	}
	k := r.keys[0]
	out := make([]byte, 0, 1+4+k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	out = append(out, sealVersion)
	out = append(out, k.id[:]...)
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("links: no randomness: " + err.Error())
	}
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, []byte(plaintext), []byte(context))
}

// Open decrypts what Seal produced with the same context; nil opens to "".
func (r *Keyring) Open(sealed []byte, context string) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	if len(sealed) < 1+4 || sealed[0] != sealVersion {
		return "", ErrUnsealable
	}
	for _, k := range r.keys {
		if string(k.id[:]) != string(sealed[1:5]) {
			continue
		}
		ns := k.aead.NonceSize()
		if len(sealed) < 5+ns {
			return "", ErrUnsealable
		}
		pt, err := k.aead.Open(nil, sealed[5:5+ns], sealed[5+ns:], []byte(context))
		if err != nil {
			return "", ErrUnsealable
		}
		return string(pt), nil
	}
	return "", ErrUnsealable
}

// IsCurrent reports whether sealed was sealed with the newest key, so
// rotation can skip rows that are already done.
func (r *Keyring) IsCurrent(sealed []byte) bool {
	return len(sealed) < 5 || string(sealed[1:5]) == string(r.keys[0].id[:])
}
