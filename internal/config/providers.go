package config

import (
	"encoding/pem"
	"fmt"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
)

var (
	// providerIDRE keeps ids usable in URLs (/auth/{id}/callback) and in environment
	// variable names.
	providerIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	// presetRE only checks shape; the oauth package knows which presets exist.
	presetRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
	// fieldPathRE is a JSON field name or a dotted path into nested objects.
	fieldPathRE = regexp.MustCompile(`^[^.\s]+(\.[^.\s]+)*$`)
)

// checkProviders validates each provider and keeps ids unique, since an id is the
// provider's name in URLs, in stored connections and in events.
func (l *loader) checkProviders() error {
	seen := map[string]int{}
	for i := range l.cfg.Providers {
		key := fmt.Sprintf("providers[%d]", i)
		p := &l.cfg.Providers[i]
		checks := []func(string, *Provider) error{
			l.checkIdentity, l.checkEnums, l.checkProviderURLs, l.checkRequired,
			l.checkProtocolKeys, l.checkPrivateKey, l.checkMaps,
		}
		for _, check := range checks {
			if err := check(key, p); err != nil {
				return err
			}
		}
		if j, dup := seen[p.ID]; dup {
			return l.errorf(key+".id", "%q is already the id of providers[%d]; ids must be unique", p.ID, j)
		}
		seen[p.ID] = i
	}
	return nil
}

// checkIdentity checks id, preset and protocol, and names custom providers by their id
// when no name is given.
func (l *loader) checkIdentity(key string, p *Provider) error {
	if p.ID == "" {
		return l.errorf(key+".id", "is required")
	}
	if !providerIDRE.MatchString(p.ID) {
		return l.errorf(key+".id", "must be 1 to 32 of a-z, 0-9, '-' and '_', starting with a letter or digit, got %q", p.ID)
	}
	if p.Preset != "" && !presetRE.MatchString(p.Preset) {
		return l.errorf(key+".preset", "must be the lowercase name of a built-in provider such as github, got %q", p.Preset)
	}
	p.Protocol = strings.ToLower(p.Protocol)
	switch p.Protocol {
	case "", "oauth1", "oauth2", "oidc":
	default:
		return l.errorf(key+".protocol", "must be oauth1, oauth2 or oidc, got %q", p.Protocol)
	}
	if p.Preset == "" && p.Protocol == "" {
		return l.errorf(key+".protocol", "is required for a custom provider (oauth1, oauth2 or oidc), or set preset")
	}
	if p.Preset == "" && p.Name == "" {
		p.Name = p.ID
	}
	return nil
}

// checkEnums normalises and checks token_auth and signature_method.
func (l *loader) checkEnums(key string, p *Provider) error {
	p.TokenAuth = strings.ToLower(p.TokenAuth)
	switch p.TokenAuth {
	case "", "basic", "post":
	default:
		return l.errorf(key+".token_auth", "must be basic or post (or absent to choose automatically), got %q", p.TokenAuth)
	}
	p.SignatureMethod = strings.ToUpper(p.SignatureMethod)
	switch p.SignatureMethod {
	case "", "HMAC-SHA1", "RSA-SHA1":
	default:
		return l.errorf(key+".signature_method", "must be HMAC-SHA1 or RSA-SHA1, got %q", p.SignatureMethod)
	}
	return nil
}

// checkProviderURLs requires every URL key to be an absolute http(s) URL. Endpoints may
// carry a query; base URLs, which get paths appended, may not.
func (l *loader) checkProviderURLs(key string, p *Provider) error {
	urls := []struct {
		name, value string
		query       bool
	}{
		{"auth_url", p.AuthURL, true}, {"token_url", p.TokenURL, true}, {"revoke_url", p.RevokeURL, true},
		{"request_token_url", p.RequestTokenURL, true}, {"authorize_url", p.AuthorizeURL, true},
		{"access_token_url", p.AccessTokenURL, true}, {"api_base_url", p.APIBaseURL, false},
		{"issuer", p.Issuer, false}, {"base_url", p.BaseURL, false},
	}
	for _, u := range urls {
		if u.value == "" {
			continue
		}
		if msg := checkURL(u.value, u.query); msg != "" {
			return l.errorf(key+"."+u.name, "%s", msg)
		}
	}
	return l.checkUserinfo(key, p)
}

// checkURL returns what is wrong with an absolute http(s) URL, or "".
func checkURL(s string, query bool) string {
	u, err := url.Parse(s)
	bad := err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" ||
		u.Fragment != "" || strings.Contains(s, "#")
	switch {
	case bad && query:
		return "must be an absolute http(s) URL without a fragment"
	case bad || (!query && (u.RawQuery != "" || u.ForceQuery)):
		return "must be an absolute http(s) URL without query or fragment"
	case u.User != nil:
		return "must not contain a user name or password"
	}
	return ""
}

// checkUserinfo accepts a full URL, or a path that is appended to api_base_url and so
// must not name another host ("//evil.example/x").
func (l *loader) checkUserinfo(key string, p *Provider) error {
	s := p.UserinfoURL
	if s == "" {
		return nil
	}
	if strings.Contains(s, "://") {
		if msg := checkURL(s, true); msg != "" {
			return l.errorf(key+".userinfo_url", "%s", msg)
		}
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(s, "//") || strings.Contains(s, "#") {
		return l.errorf(key+".userinfo_url", "must be a path such as /user or an absolute http(s) URL")
	}
	if p.Preset == "" && p.APIBaseURL == "" {
		return l.errorf(key+".api_base_url", "is required when userinfo_url is a path")
	}
	return nil
}

// protocolKeys names the credential and the endpoints a custom provider must have.
func protocolKeys(protocol string) (credential string, endpoints []string) {
	switch protocol {
	case "oauth1":
		return "consumer_key", []string{"request_token_url", "authorize_url", "access_token_url"}
	case "oidc":
		return "client_id", []string{"issuer"}
	default:
		return "client_id", []string{"auth_url", "token_url"}
	}
}

// checkRequired checks a custom provider's required keys. The credential key must be
// written but may be empty (an unset ${VAR}), which disables the provider; endpoints
// must have a value, since no secret store would hold them.
func (l *loader) checkRequired(key string, p *Provider) error {
	if p.Preset != "" {
		return nil
	}
	credential, endpoints := protocolKeys(p.Protocol)
	if !l.present(key + "." + credential) {
		return l.errorf(key+"."+credential, "required for protocol %s", p.Protocol)
	}
	fs := providerFields(p)
	for _, e := range endpoints {
		if s, _ := fs[e].(*string); s == nil || *s == "" {
			return l.errorf(key+"."+e, "required for protocol %s", p.Protocol)
		}
	}
	return nil
}

// checkProtocolKeys refuses keys a custom provider's protocol never reads, such as a
// consumer_key on an OAuth 2 provider: such a key is almost always a mistake that
// would otherwise leave the provider silently disabled.
func (l *loader) checkProtocolKeys(key string, p *Provider) error {
	if p.Preset != "" {
		return nil
	}
	foreign := []string{"consumer_key", "consumer_secret", "request_token_url", "authorize_url",
		"access_token_url", "signature_method", "private_key", "private_key_file"}
	if p.Protocol == "oauth1" {
		foreign = []string{"client_id", "client_secret", "auth_url", "token_url", "revoke_url", "pkce", "token_auth"}
	}
	if p.Protocol != "oidc" {
		foreign = append(foreign, "issuer")
	}
	for _, k := range append(foreign, "tenant", "base_url") {
		if l.present(key + "." + k) {
			return l.errorf(key+"."+k, "is not used by a custom provider with protocol %s", p.Protocol)
		}
	}
	return nil
}

// checkPrivateKey reads private_key_file into PrivateKey and checks that RSA-SHA1 has
// exactly one key source. A disabled provider may lack its key, like its other secrets.
func (l *loader) checkPrivateKey(key string, p *Provider) error {
	if p.PrivateKey != "" && p.PrivateKeyFile != "" {
		return l.errorf(key+".private_key_file", "set either private_key or private_key_file, not both")
	}
	pemKey := key + ".private_key"
	if p.PrivateKeyFile != "" {
		data, err := os.ReadFile(p.PrivateKeyFile)
		if err != nil {
			return l.errorf(key+".private_key_file", "cannot be read: %v", err)
		}
		p.PrivateKey, pemKey = string(data), key+".private_key_file"
	}
	if p.PrivateKey != "" {
		// Secret stores and .env files often flatten a PEM block to one line with \n.
		if !strings.Contains(p.PrivateKey, "\n") {
			p.PrivateKey = strings.ReplaceAll(p.PrivateKey, `\n`, "\n")
		}
		if block, _ := pem.Decode([]byte(p.PrivateKey)); block == nil {
			return l.errorf(pemKey, "must be a PEM-encoded private key (-----BEGIN ... PRIVATE KEY-----)")
		}
		if p.Preset == "" && p.SignatureMethod != "RSA-SHA1" {
			return l.errorf(pemKey, "is used only with signature_method: RSA-SHA1")
		}
	}
	if p.SignatureMethod == "RSA-SHA1" && p.PrivateKey == "" && p.Enabled() {
		return l.errorf(key+".private_key", "required for signature_method RSA-SHA1 (or set private_key_file)")
	}
	return nil
}

// checkMaps checks profile paths and keeps auth_params from overriding the parameters
// that carry the dance's security (state, PKCE, redirect URI).
func (l *loader) checkMaps(key string, p *Provider) error {
	for _, k := range slices.Sorted(maps.Keys(p.Profile)) {
		if !fieldPathRE.MatchString(p.Profile[k]) {
			return l.errorf(key+".profile."+k, "must be a JSON field name or a dotted path such as data.id, got %q", p.Profile[k])
		}
	}
	reserved := []string{"client_id", "redirect_uri", "response_type", "scope", "state",
		"code_challenge", "code_challenge_method", "nonce", "oauth_token", "oauth_callback"}
	for _, k := range slices.Sorted(maps.Keys(p.AuthParams)) {
		if k == "scope" {
			return l.errorf(key+".auth_params.scope", "use scopes instead")
		}
		if slices.Contains(reserved, k) {
			return l.errorf(key+".auth_params."+k, "is set by Dancecard itself and cannot be overridden")
		}
	}
	return nil
}
