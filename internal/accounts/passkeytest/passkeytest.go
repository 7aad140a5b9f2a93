// Package passkeytest is a software WebAuthn authenticator for tests and
// benchmarks: it answers the options that package accounts sends for
// navigator.credentials.create and navigator.credentials.get as a browser
// with a platform authenticator would, so passkey ceremonies can run end to
// end without a browser. It does not import testing, so benchmarks can use
// it as well as tests.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

var b64 = base64.RawURLEncoding

// Authenticator data flags (WebAuthn §6.1).
const (
	flagUserPresent  = 0x01
	flagUserVerified = 0x04
	flagAttested     = 0x40 // attested credential data follows
)

// Key is one discoverable passkey held in software: ECDSA P-256, "none"
// attestation, user present and verified on every use. Its relying party
// ID is the host of the origin it was made with.
type Key struct {
	// Origin is the origin the client data names. Tests may change it after
	// registering, to answer as another site would (a phishing relay); the
	// relying party ID hashed into the authenticator data stays the one the
	// key was made for.
	Origin string

	rpID   string
	priv   *ecdsa.PrivateKey
	id     []byte // credential ID
	handle []byte // user handle, learnt from the registration options
}

// New returns a key for origin (scheme and host, as "https://dancecard.example").
// It panics on an origin without a host, a mistake in the calling test.
func New(origin string) *Key {
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		panic(fmt.Sprintf("passkeytest: origin %q has no host", origin))
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &Key{Origin: origin, rpID: u.Hostname(), priv: priv, id: id}
}

// ID is the credential ID the key registers with.
func (k *Key) ID() []byte { return k.id }

// Handle is the user handle the registration options gave the key; nil
// before Register.
func (k *Key) Handle() []byte { return k.handle }

// options is the part of the server's options JSON ({"publicKey": ...},
// as for either create or get) that the key reads.
type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"` // get
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"` // create
		User struct {
			ID string `json:"id"`
		} `json:"user"` // create
	} `json:"publicKey"`
}

func parseOptions(data []byte) (options, error) {
	var o options
	if err := json.Unmarshal(data, &o); err != nil {
		return o, fmt.Errorf("passkeytest: options: %w", err)
	}
	if o.PublicKey.Challenge == "" {
		return o, errors.New("passkeytest: options: no publicKey.challenge")
	}
	return o, nil
}

// WithChallenge returns optionsJSON with its challenge replaced by
// challenge (raw bytes), for answering a ceremony with a challenge the
// server never sent.
func WithChallenge(optionsJSON, challenge []byte) ([]byte, error) {
	var o map[string]map[string]any
	if err := json.Unmarshal(optionsJSON, &o); err != nil || o["publicKey"] == nil {
		return nil, fmt.Errorf("passkeytest: options: no publicKey object: %v", err)
	}
	o["publicKey"]["challenge"] = b64.EncodeToString(challenge)
	return json.Marshal(o)
}

// Register answers options for navigator.credentials.create and returns
// the PublicKeyCredential as JSON, as a browser posts it. The key
// remembers the user handle the options carry (publicKey.user.id).
func (k *Key) Register(optionsJSON []byte) ([]byte, error) {
	o, err := parseOptions(optionsJSON)
	if err != nil {
		return nil, err
	}
	if rp := o.PublicKey.RP.ID; rp != "" && rp != k.rpID {
		return nil, fmt.Errorf("passkeytest: options are for relying party %q, the key for %q", rp, k.rpID)
	}
	handle, err := b64.DecodeString(strings.TrimRight(o.PublicKey.User.ID, "="))
	if err != nil || len(handle) == 0 {
		return nil, fmt.Errorf("passkeytest: options: bad publicKey.user.id %q", o.PublicKey.User.ID)
	}
	point, err := k.priv.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	// COSE_Key: kty EC2, alg ES256, crv P-256, x, y.
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: point[1:33], -3: point[33:]})
	if err != nil {
		return nil, err
	}
	ad := k.authData(flagUserPresent|flagUserVerified|flagAttested, 0)
	ad = append(ad, make([]byte, 16)...) // AAGUID: none
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(k.id)))
	ad = append(append(ad, k.id...), cose...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
	if err != nil {
		return nil, err
	}
	body, err := k.credential(map[string]any{
		"clientDataJSON":    b64.EncodeToString(k.clientData("webauthn.create", o.PublicKey.Challenge)),
		"attestationObject": b64.EncodeToString(att),
		"transports":        []string{"internal"},
	})
	if err != nil {
		return nil, err
	}
	k.handle = handle
	return body, nil
}

// Assert answers options for navigator.credentials.get with signature
// counter counter and returns the PublicKeyCredential as JSON. The key
// must have been registered, so it knows its user handle. Unlike a
// browser it answers even when publicKey.allowCredentials does not name
// it, so tests can see the server refuse a key it did not ask for.
func (k *Key) Assert(optionsJSON []byte, counter uint32) ([]byte, error) {
	if k.handle == nil {
		return nil, errors.New("passkeytest: assert before register: no user handle")
	}
	o, err := parseOptions(optionsJSON)
	if err != nil {
		return nil, err
	}
	if rp := o.PublicKey.RPID; rp != "" && rp != k.rpID {
		return nil, fmt.Errorf("passkeytest: options are for relying party %q, the key for %q", rp, k.rpID)
	}
	cd := k.clientData("webauthn.get", o.PublicKey.Challenge)
	ad := k.authData(flagUserPresent|flagUserVerified, counter)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		return nil, err
	}
	return k.credential(map[string]any{
		"clientDataJSON":    b64.EncodeToString(cd),
		"authenticatorData": b64.EncodeToString(ad),
		"signature":         b64.EncodeToString(sig),
		"userHandle":        b64.EncodeToString(k.handle),
	})
}

// authData is the authenticator data up to the counter: the relying party
// ID's hash, the flags and the counter.
func (k *Key) authData(flags byte, counter uint32) []byte {
	h := sha256.Sum256([]byte(k.rpID))
	return binary.BigEndian.AppendUint32(append(h[:], flags), counter)
}

func (k *Key) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.Origin, "crossOrigin": false})
	return b
}

// credential wraps response in a PublicKeyCredential of this key.
func (k *Key) credential(response map[string]any) ([]byte, error) {
	id := b64.EncodeToString(k.id)
	return json.Marshal(map[string]any{"id": id, "rawId": id, "type": "public-key", "response": response})
}
