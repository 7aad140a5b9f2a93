package config

import (
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestLoadDefaults(t *testing.T) {
	c, err := Load("", env(map[string]string{"DANCECARD_DEV": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		key       string
		got, want any
	}{
		{"addr", c.Addr, "127.0.0.1:8080"},
		{"base_url", c.BaseURL.String(), "http://127.0.0.1:8080"},
		{"database_url", c.DatabaseURL, "postgres://postgres@127.0.0.1:5432/dancecard?sslmode=disable"},
		{"dev", c.Dev, true},
		{"insecure_transport", c.InsecureTransport, false},
		{"trusted_proxies", len(c.TrustedProxies), 0},
		{"token_keys", len(c.TokenKeys), 0},
		{"rate_limits", c.RateLimits, RateLimits{Enabled: true}},
		{"signup", c.Signup, Signup{Local: true, ViaProvider: true, EmailVerification: "optional"}},
		{"mail", c.Mail, Mail{From: "Dancecard <no-reply@example.com>"}},
		{"mfa", c.MFA, MFA{ProviderLogins: "require"}},
		{"security", c.Security, Security{ReauthWindow: 10 * time.Minute, ResetLinkTTL: time.Hour, VerifyLinkTTL: 72 * time.Hour}},
		{"sessions", c.Sessions, Sessions{IdleTimeout: 72 * time.Hour, AbsoluteTimeout: 720 * time.Hour}},
		{"log", c.Log, Log{Level: slog.LevelInfo, Format: "json"}},
		{"providers", len(c.Providers), 0},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.key, ch.got, ch.want)
		}
	}
}

func TestLoadValues(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, []byte(fakePEM), 0o600); err != nil {
		t.Fatal(err)
	}
	text := `
base_url: https://dc.example.com/sub/   # trailing slash dropped
trusted_proxies: [10.1.2.3/8, 192.168.0.1, "::1"]
token_keys: "` + testKey + `, ` + testKey2 + `,"
signup: {link_by_verified_email: true, email_verification: Required}
mail: {smtp_url: "smtp://u:p@mail.example.com:587", from: "Ops <ops@example.com>"}
security: {reauth_window: 5m, reset_link_ttl: 30m, verify_link_ttl: 24h}
sessions: {idle_timeout: 30m, absolute_timeout: 12h}
log: {level: DEBUG, format: text}
providers:
  - id: gh
    preset: github
  - id: hub
    protocol: oauth2
    client_id: ${HUB_ID}
    auth_url: https://hub.example.com/authorize?audience=x
    token_url: https://hub.example.com/token
    scopes: []
    pkce: false
    profile: {id: data.id}
    auth_params: {prompt: consent}
  - id: bird
    protocol: oauth1
    consumer_key: ck
    request_token_url: https://bird.example.com/request
    authorize_url: https://bird.example.com/authorize
    access_token_url: https://bird.example.com/access
    signature_method: rsa-sha1
    private_key_file: ` + keyFile + `
`
	c, err := Load(writeConfig(t, text), env(map[string]string{"HUB_ID": "hub-client"}))
	if err != nil {
		t.Fatal(err)
	}
	wantPrefixes := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.0.1/32"), netip.MustParsePrefix("::1/128"),
	}
	gh, hub, bird := c.Providers[0], c.Providers[1], c.Providers[2]
	checks := []struct {
		key       string
		got, want any
	}{
		{"base_url", c.BaseURL.String(), "https://dc.example.com/sub"},
		{"base_url path", c.BaseURL.Path, "/sub"},
		{"trusted_proxies", c.TrustedProxies, wantPrefixes},
		{"token_keys", len(c.TokenKeys), 2},
		{"token_keys[1][0]", c.TokenKeys[1][0], byte(255)},
		{"signup", c.Signup, Signup{Local: true, ViaProvider: true, LinkByVerifiedEmail: true, EmailVerification: "required"}},
		{"mail", c.Mail, Mail{SMTPURL: "smtp://u:p@mail.example.com:587", From: "Ops <ops@example.com>"}},
		{"security", c.Security, Security{ReauthWindow: 5 * time.Minute, ResetLinkTTL: 30 * time.Minute, VerifyLinkTTL: 24 * time.Hour}},
		{"sessions", c.Sessions, Sessions{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour}},
		{"log", c.Log, Log{Level: slog.LevelDebug, Format: "text"}},
		{"gh name (preset: left to the preset)", gh.Name, ""},
		{"gh scopes absent", gh.Scopes == nil, true},
		{"gh pkce absent", gh.PKCE == nil, true},
		{"gh timeout", gh.Timeout, 10 * time.Second},
		{"gh enabled", gh.Enabled(), false},
		{"hub name", hub.Name, "hub"},
		{"hub client_id", hub.ClientID, "hub-client"},
		{"hub scopes empty", hub.Scopes != nil && len(hub.Scopes) == 0, true},
		{"hub pkce", hub.PKCE != nil && !*hub.PKCE, true},
		{"hub profile", hub.Profile, map[string]string{"id": "data.id"}},
		{"hub auth_params", hub.AuthParams, map[string]string{"prompt": "consent"}},
		{"hub enabled", hub.Enabled(), true},
		{"bird signature_method", bird.SignatureMethod, "RSA-SHA1"},
		{"bird private_key", bird.PrivateKey, fakePEM},
		{"bird private_key_file", bird.PrivateKeyFile, keyFile},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.key, ch.got, ch.want)
		}
	}
}

func TestInterpolation(t *testing.T) {
	secret := "a: b # c\nevil: true"
	text := valid + oauth2 + `    client_secret: ${SECRET}
    name: "pre-${NAME}-post $${LITERAL} ${UNSET}."
    api_base_url: https://api.example.com/${PATH}
`
	c, err := Load(writeConfig(t, text), env(map[string]string{"SECRET": secret, "NAME": "Hub", "PATH": "v1"}))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Providers[0]
	if p.ClientSecret != secret {
		t.Errorf("client_secret = %q, want %q (one scalar)", p.ClientSecret, secret)
	}
	if want := "pre-Hub-post ${LITERAL} ."; p.Name != want {
		t.Errorf("name = %q, want %q", p.Name, want)
	}
	if p.APIBaseURL != "https://api.example.com/v1" {
		t.Errorf("api_base_url = %q", p.APIBaseURL)
	}
}

func TestInterpolatedEmptyKeepsDefault(t *testing.T) {
	text := valid + "dev: ${UNSET}\nsessions: {idle_timeout: '${UNSET}'}\n" + oauth2 + "    timeout: ${UNSET}\n    client_id: ${UNSET}\n"
	text = strings.Replace(text, "    client_id: cid\n", "", 1)
	c, err := Load(writeConfig(t, text), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Dev || c.Sessions.IdleTimeout != 72*time.Hour || c.Providers[0].Timeout != 10*time.Second {
		t.Errorf("defaults not kept: dev=%v idle=%v timeout=%v", c.Dev, c.Sessions.IdleTimeout, c.Providers[0].Timeout)
	}
	if c.Providers[0].Enabled() {
		t.Error("provider with an empty client_id is enabled, want disabled")
	}
}

func TestEnvOverrides(t *testing.T) {
	text := valid + "addr: 127.0.0.1:1\nproviders:\n  - id: company-sso\n    protocol: oidc\n    issuer: https://id.example.com\n    client_id: c\n"
	vars := map[string]string{
		"DANCECARD_ADDR":                                ":9000",
		"DANCECARD_BASE_URL":                            "http://localhost:9000/",
		"DATABASE_URL":                                  "postgres://a@db/x",
		"DANCECARD_DATABASE_URL":                        "postgres://loser@db/x",
		"DANCECARD_DEV":                                 "0",
		"DANCECARD_INSECURE_TRANSPORT":                  "1",
		"DANCECARD_TRUSTED_PROXIES":                     "10.0.0.0/8, 127.0.0.1",
		"DANCECARD_TOKEN_KEYS":                          testKey2 + ",",
		"DANCECARD_RATE_LIMITS_ENABLED":                 "false",
		"DANCECARD_SIGNUP_LOCAL":                        "false",
		"DANCECARD_SIGNUP_VIA_PROVIDER":                 "FALSE",
		"DANCECARD_SIGNUP_LINK_BY_VERIFIED_EMAIL":       "true",
		"DANCECARD_SESSIONS_IDLE_TIMEOUT":               "1h",
		"DANCECARD_SESSIONS_ABSOLUTE_TIMEOUT":           "2h",
		"DANCECARD_LOG_LEVEL":                           "warn",
		"DANCECARD_LOG_FORMAT":                          "text",
		"DANCECARD_PROVIDERS_COMPANY_SSO_CLIENT_SECRET": "s3cret: #x",
		"DANCECARD_PROVIDERS_COMPANY_SSO_SCOPES":        "openid,email",
		"DANCECARD_PROVIDERS_COMPANY_SSO_PKCE":          "1",
		"DANCECARD_PROVIDERS_COMPANY_SSO_TIMEOUT":       "3s",
	}
	c, err := Load(writeConfig(t, text), env(vars))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Providers[0]
	checks := []struct {
		key       string
		got, want any
	}{
		{"addr", c.Addr, ":9000"},
		{"base_url", c.BaseURL.String(), "http://localhost:9000"},
		{"database_url", c.DatabaseURL, "postgres://a@db/x"},
		{"insecure_transport", c.InsecureTransport, true},
		{"trusted_proxies", len(c.TrustedProxies), 2},
		{"token_keys", len(c.TokenKeys), 1},
		{"rate_limits", c.RateLimits.Enabled, false},
		{"signup", c.Signup, Signup{LinkByVerifiedEmail: true, EmailVerification: "optional"}},
		{"sessions", c.Sessions, Sessions{IdleTimeout: time.Hour, AbsoluteTimeout: 2 * time.Hour}},
		{"log", c.Log, Log{Level: slog.LevelWarn, Format: "text"}},
		{"client_secret", p.ClientSecret, "s3cret: #x"},
		{"scopes", p.Scopes, []string{"openid", "email"}},
		{"pkce", p.PKCE != nil && *p.PKCE, true},
		{"timeout", p.Timeout, 3 * time.Second},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.key, ch.got, ch.want)
		}
	}
	delete(vars, "DATABASE_URL")
	if c, err = Load(writeConfig(t, text), env(vars)); err != nil || c.DatabaseURL != "postgres://loser@db/x" {
		t.Errorf("DANCECARD_DATABASE_URL alone: url=%v err=%v", c, err)
	}
}

func TestEnabled(t *testing.T) {
	tests := []struct {
		p    Provider
		want bool
	}{
		{Provider{Preset: "github"}, false},
		{Provider{Preset: "github", ClientID: "x"}, true},
		{Provider{Preset: "jira", ConsumerKey: "x"}, true},
		{Provider{Protocol: "oauth2", ClientID: "x"}, true},
		{Provider{Protocol: "oauth2", ConsumerKey: "x"}, false},
		{Provider{Protocol: "oidc", ClientID: "x"}, true},
		{Provider{Protocol: "oauth1", ConsumerKey: "x"}, true},
		{Provider{Protocol: "oauth1", ClientID: "x"}, false},
	}
	for _, tt := range tests {
		if got := tt.p.Enabled(); got != tt.want {
			t.Errorf("%+v.Enabled() = %v, want %v", tt.p, got, tt.want)
		}
	}
}

// TestExampleFile keeps configs/dancecard.example.yaml loadable: it supplies every
// ${VAR} the file references, plus insecure_transport, which its loopback http://
// base_url needs outside dev mode.
func TestExampleFile(t *testing.T) {
	const path = "../../configs/dancecard.example.yaml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^[^#\n]*\$\{([A-Za-z_][A-Za-z0-9_]*)\}`).FindAllStringSubmatch(string(data), -1) {
		vars[m[1]] = "x"
	}
	vars["DANCECARD_TOKEN_KEYS"] = testKey
	vars["DANCECARD_SMTP_URL"] = "smtp://user:pass@mail.example.com:587"
	if _, err := Load(path, env(vars)); err == nil || !strings.Contains(err.Error(), "base_url") {
		t.Errorf("without insecure_transport: err = %v, want the base_url error", err)
	}
	vars["DANCECARD_INSECURE_TRANSPORT"] = "true"
	c, err := Load(path, env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Providers) != 4 || !c.Providers[0].Enabled() || c.Providers[3].Name != "company-sso" {
		t.Errorf("providers = %+v", c.Providers)
	}
}
