package oauth

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dancecard/dancecard/internal/config"
)

// mergeUserinfo resolves a configured userinfo_url: a full URL is used as
// is, a path is joined under the final api_base_url. Overriding only
// api_base_url keeps the preset's own (absolute) userinfo URL.
func mergeUserinfo(key string, p *Provider, cfg config.Provider) error {
	switch u := cfg.UserinfoURL; {
	case u == "":
	case strings.Contains(u, "://"):
		p.UserinfoURL = u
	case p.APIBaseURL == "":
		return keyErrorf(key+".api_base_url", "is required when userinfo_url is a path")
	default:
		p.UserinfoURL = strings.TrimRight(p.APIBaseURL, "/") + "/" + strings.TrimLeft(u, "/")
	}
	return nil
}

// mergeProfile lays the configured profile mapping over the preset's.
func mergeProfile(key string, p *Provider, cfg config.Provider) error {
	if len(cfg.Profile) == 0 {
		return nil
	}
	fields := map[string]*string{
		"id": &p.Profile.ID, "username": &p.Profile.Username, "name": &p.Profile.Name,
		"email": &p.Profile.Email, "email_verified": &p.Profile.EmailVerified,
		"avatar_url": &p.Profile.AvatarURL, "profile_url": &p.Profile.ProfileURL,
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.Profile)) {
		dst, ok := fields[k]
		if !ok {
			return keyErrorf(key+".profile."+k, "unknown profile field; the fields are %s",
				strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
		}
		*dst = cfg.Profile[k]
	}
	p.ProfileFunc = nil
	return nil
}

// mergeSignature settles OAuth 1's signature method and parses the RSA key.
// A provider without credentials may lack its key, as it lacks its other
// secrets; an enabled RSA-SHA1 provider may not.
func mergeSignature(key string, p *Provider, cfg config.Provider) error {
	if p.Protocol != OAuth1 {
		return nil
	}
	if cfg.SignatureMethod != "" {
		p.SignatureMethod = strings.ToUpper(cfg.SignatureMethod)
	}
	if p.SignatureMethod == "" {
		p.SignatureMethod = "HMAC-SHA1"
	}
	keyName := key + "." + privateKeyName(cfg)
	switch {
	case p.SignatureMethod != "RSA-SHA1" && p.SignatureMethod != "HMAC-SHA1":
		return keyErrorf(key+".signature_method", "must be HMAC-SHA1 or RSA-SHA1, got %q", p.SignatureMethod)
	case cfg.PrivateKey != "" && p.SignatureMethod != "RSA-SHA1":
		return keyErrorf(keyName, "is used only with signature_method: RSA-SHA1")
	case cfg.PrivateKey != "":
		k, err := parseRSAKey(cfg.PrivateKey)
		if err != nil {
			return keyErrorf(keyName, "%v", err)
		}
		p.PrivateKey = k
	case p.SignatureMethod == "RSA-SHA1" && cfg.Enabled():
		return keyErrorf(key+".private_key", "is required: %s signs with RSA-SHA1 (or set private_key_file)", describeEntry(cfg))
	}
	return nil
}

// privateKeyName is the key the RSA key came from, for messages.
func privateKeyName(cfg config.Provider) string {
	if cfg.PrivateKeyFile != "" {
		return "private_key_file"
	}
	return "private_key"
}

// parseRSAKey reads an RSA private key in PEM, PKCS #1 ("BEGIN RSA PRIVATE
// KEY", what openssl genrsa wrote for years and JIRA's guides use) or PKCS #8
// ("BEGIN PRIVATE KEY").
func parseRSAKey(text string) (*rsa.PrivateKey, error) {
	if !strings.Contains(text, "\n") {
		text = strings.ReplaceAll(text, `\n`, "\n") // a PEM block flattened to one line
	}
	block, _ := pem.Decode([]byte(text))
	switch {
	case block == nil:
		return nil, fmt.Errorf("must be a PEM-encoded RSA private key (-----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----)")
	case block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED"):
		return nil, fmt.Errorf("is encrypted; store it decrypted (openssl pkey -in key.pem -out plain.pem) and protect the file instead")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("is neither a PKCS #1 nor a PKCS #8 private key (PEM type %q)", block.Type)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("is a %T key; RSA-SHA1 needs an RSA key", k)
	}
	return rk, nil
}

// checkEndpoints insists on what each protocol cannot run without. Presets
// always have it; a custom provider may have left out a userinfo_url, which
// the config package cannot require on its own, since presets bring theirs.
func checkEndpoints(key string, p *Provider, cfg config.Provider) error {
	type endpoint struct{ name, value string }
	var need []endpoint
	switch p.Protocol {
	case OAuth2:
		need = []endpoint{{"auth_url", p.AuthURL}, {"token_url", p.TokenURL}, {"userinfo_url", p.UserinfoURL}}
	case OIDC:
		need = []endpoint{{"issuer", p.Issuer}}
	case OAuth1:
		need = []endpoint{
			{"request_token_url", p.RequestTokenURL}, {"authorize_url", p.AuthorizeURL},
			{"access_token_url", p.AccessTokenURL}, {"userinfo_url", p.UserinfoURL},
		}
	}
	for _, n := range need {
		if n.value == "" {
			return keyErrorf(key+"."+n.name, "is required for %s (protocol %s)", describeEntry(cfg), p.Protocol)
		}
	}
	if p.Profile.ID == "" && p.ProfileFunc == nil {
		return keyErrorf(key+".profile.id", "is required: the account's stable id is what a connection is keyed by")
	}
	return nil
}
