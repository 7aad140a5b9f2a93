package accounts_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"

	"github.com/dancecard/dancecard/internal/accounts"
)

const rpOrigin = "https://dancecard.example"

var b64 = base64.RawURLEncoding

// fakeKey is a software authenticator holding one discoverable passkey:
// ECDSA P-256, "none" attestation, user verified.
type fakeKey struct {
	priv   *ecdsa.PrivateKey
	id     []byte
	handle []byte
}

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

func authData(flags byte, counter uint32) []byte {
	h := sha256.Sum256([]byte("dancecard.example"))
	return binary.BigEndian.AppendUint32(append(h[:], flags), counter)
}

func clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": rpOrigin, "crossOrigin": false})
	return b
}

// challengeOf reads the challenge (and user handle, when registering) of
// the options the server sent.
func challengeOf(t *testing.T, options []byte) (challenge string, handle []byte) {
	t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatal(err)
	}
	handle, _ = b64.DecodeString(o.PublicKey.User.ID)
	return o.PublicKey.Challenge, handle
}

// register adds k as a passkey of userID through the service.
func (e *mfaEnv) register(t *testing.T, userID int64) *fakeKey {
	t.Helper()
	ctx := context.Background()
	opts, token, err := e.svc.BeginPasskeyRegistration(ctx, userID, "browser-1")
	if err != nil {
		t.Fatalf("BeginPasskeyRegistration: %v", err)
	}
	challenge, handle := challengeOf(t, opts)
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k := &fakeKey{priv: priv, id: []byte("credential-" + b64.EncodeToString(handle)), handle: handle}
	point, err := priv.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	cose, _ := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: point[1:33], -3: point[33:]})
	ad := authData(0x01|0x04|0x40, 0)
	ad = append(ad, make([]byte, 16)...) // AAGUID
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(k.id)))
	ad = append(append(ad, k.id...), cose...)
	att, _ := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
	body, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(clientData("webauthn.create", challenge)),
			"attestationObject": b64.EncodeToString(att), "transports": []string{"internal"}}})
	if _, err := e.svc.FinishPasskeyRegistration(ctx, userID, "browser-1", token, "Test key", body); err != nil {
		t.Fatalf("FinishPasskeyRegistration: %v", err)
	}
	return k
}

// assert answers a log-in challenge with counter; tamper changes the
// client data's challenge after the fact.
func (k *fakeKey) assert(t *testing.T, challenge string, counter uint32, tamper bool) []byte {
	t.Helper()
	if tamper {
		challenge = b64.EncodeToString([]byte("not the challenge the server sent"))
	}
	cd := clientData("webauthn.get", challenge)
	ad := authData(0x01|0x04, counter)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(ad),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(k.handle)}})
	return body
}

func (e *mfaEnv) beginLogin(t *testing.T) (challenge, token string) {
	t.Helper()
	opts, token, err := e.svc.BeginPasskeyLogin(context.Background(), "browser-1")
	if err != nil {
		t.Fatalf("BeginPasskeyLogin: %v", err)
	}
	challenge, _ = challengeOf(t, opts)
	return challenge, token
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

	challenge, token := e.beginLogin(t)
	got, session, err := e.svc.FinishPasskeyLogin(ctx, "browser-1", token, k.assert(t, challenge, 5, false), "")
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
		challenge, token := e.beginLogin(t)
		_, _, err := e.svc.FinishPasskeyLogin(ctx, "browser-1", token, k.assert(t, challenge, 1, true), "")
		wantErr(t, "tampered challenge", err, accounts.ErrPasskeyRefused)
	})

	t.Run("replayed assertion", func(t *testing.T) {
		challenge, token := e.beginLogin(t)
		body := k.assert(t, challenge, 10, false)
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
		challenge, token := e.beginLogin(t)
		_, _, err := e.svc.FinishPasskeyLogin(ctx, "browser-2", token, k.assert(t, challenge, 20, false), "")
		wantErr(t, "ceremony of another browser", err, accounts.ErrNoCeremony)
	})

	t.Run("counter goes back", func(t *testing.T) {
		challenge, token := e.beginLogin(t)
		if _, _, err := e.svc.FinishPasskeyLogin(ctx, "browser-1", token, k.assert(t, challenge, 30, false), ""); err != nil {
			t.Fatalf("counter 30: %v", err)
		}
		challenge, token = e.beginLogin(t)
		_, _, err := e.svc.FinishPasskeyLogin(ctx, "browser-1", token, k.assert(t, challenge, 29, false), "")
		wantErr(t, "counter 29 after 30", err, accounts.ErrPasskeyRefused)
		if n := e.count(t, `SELECT count(*) FROM passkeys WHERE sign_count = 30`); n != 1 {
			t.Fatalf("stored counter moved back")
		}
		if n := e.count(t, `SELECT count(*) FROM events WHERE kind = 'login_failed' AND reason = 'signature counter went back'`); n != 1 {
			t.Fatalf("login_failed for a cloned authenticator = %d, want 1", n)
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
		challenge, token := e.beginLogin(t)
		_, _, err = e.svc.FinishPasskeyLogin(ctx, "browser-1", token, k.assert(t, challenge, 40, false), "")
		wantErr(t, "removed passkey", err, accounts.ErrPasskeyRefused)
	})
}
