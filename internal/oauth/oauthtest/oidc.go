package oauthtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"time"
)

const keyID = "oauthtest-1"

// signingKey returns the ID token key, generating it on first use so that
// tests that never touch OpenID Connect do not pay for an RSA key.
func (p *Provider) signingKey() *rsa.PrivateKey {
	p.keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("oauthtest: generating the signing key: " + err.Error())
		}
		p.key = k
	})
	return p.key
}

func (p *Provider) serveDiscovery(w http.ResponseWriter, cfg config) {
	base := cfg.base.String()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                base,
		"authorization_endpoint":                base + pathAuthorize2,
		"token_endpoint":                        base + pathToken,
		"userinfo_endpoint":                     base + pathUserinfo,
		"jwks_uri":                              base + pathJWKS,
		"revocation_endpoint":                   base + pathRevoke,
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "form_post"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported": []string{"sub", "iss", "aud", "exp", "iat", "nonce", "name",
			"preferred_username", "email", "email_verified", "picture", "profile"},
		"authorization_response_iss_parameter_supported": cfg.knobs.IssuerParam,
	})
}

func (p *Provider) serveJWKS(w http.ResponseWriter) {
	pub := p.signingKey().PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": keyID,
		"n": b64(pub.N.Bytes()),
		"e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// idToken signs an ID token for g (RS256), with at_hash for the access
// token it accompanies. Knobs.IDTokenClaims may spoil it on purpose.
func (p *Provider) idToken(cfg config, g *grant, access string, lifetime time.Duration) string {
	now := p.now()
	if lifetime <= 0 {
		lifetime = time.Hour
	}
	atHash := sha256.Sum256([]byte(access))
	claims := map[string]any{
		"iss":       cfg.base.String(),
		"sub":       g.user.ID,
		"aud":       g.clientID,
		"iat":       now.Unix(),
		"auth_time": now.Unix(),
		"exp":       now.Add(lifetime).Unix(),
		"at_hash":   b64(atHash[:16]),
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	for k, v := range userClaims(cfg, g.user) {
		claims[k] = v
	}
	if f := cfg.knobs.IDTokenClaims; f != nil {
		f(claims)
	}
	return p.signJWT(claims)
}

// userClaims are the standard OpenID Connect claims for u.
func userClaims(cfg config, u User) map[string]any {
	c := map[string]any{"sub": u.ID, "email_verified": u.EmailVerified}
	for k, v := range map[string]string{"preferred_username": u.Login, "name": u.Name, "email": u.Email,
		"picture": avatarURL(cfg, u), "profile": u.ProfileURL} {
		if v != "" {
			c[k] = v
		}
	}
	return c
}

func avatarURL(cfg config, u User) string {
	if u.AvatarURL != "" {
		return u.AvatarURL
	}
	name := u.Login
	if name == "" {
		name = u.ID
	}
	return cfg.base.String() + pathAvatars + url.PathEscape(name) + ".svg"
}

// signJWT makes a compact RS256 JWS. It is written out rather than taken
// from a JOSE library so the fake checks the client's verification
// independently.
func (p *Provider) signJWT(claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": keyID})
	payload, err := json.Marshal(claims)
	if err != nil {
		panic("oauthtest: ID token claims: " + err.Error())
	}
	input := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, p.signingKey(), crypto.SHA256, sum[:])
	if err != nil {
		panic("oauthtest: signing an ID token: " + err.Error())
	}
	return input + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
