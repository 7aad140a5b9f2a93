package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/config"
)

func refOf[T any](v T) *T { return &v }

// TestCatalogPresetOverrides: configuration values win over the preset's.
func TestCatalogPresetOverrides(t *testing.T) {
	cfg := presetConfig("github")
	cfg.Name, cfg.Scopes, cfg.PKCE, cfg.TokenAuth = "GitHub (work)", []string{"repo"}, refOf(false), "basic"
	cfg.AuthParams = map[string]string{"allow_signup": "false"}
	cfg.Timeout = 3 * time.Second
	cfg.APIBaseURL, cfg.UserinfoURL = "https://proxy.example.com/github/", "/user"
	cfg.Profile = map[string]string{"email": "notification_email"}
	p := mustCatalog(t, "https://dc.example.com", cfg).Enabled()[0]

	if p.Name != "GitHub (work)" || !slices.Equal(p.Scopes, []string{"repo"}) || p.PKCE || p.TokenAuth != TokenAuthBasic ||
		p.Timeout != 3*time.Second || p.AuthParams["allow_signup"] != "false" {
		t.Errorf("overrides not applied: %+v", p)
	}
	if p.APIBaseURL != "https://proxy.example.com/github/" || p.UserinfoURL != "https://proxy.example.com/github/user" {
		t.Errorf("api %q userinfo %q", p.APIBaseURL, p.UserinfoURL)
	}
	if p.AuthURL != "https://github.com/login/oauth/authorize" || p.ClientID != "id-github" || p.ClientSecret != "secret-github" {
		t.Errorf("preset values lost: %q %q %q", p.AuthURL, p.ClientID, p.ClientSecret)
	}
	wantProfile := ProfileMap{ID: "id", Username: "login", Name: "name", Email: "notification_email",
		AvatarURL: "avatar_url", ProfileURL: "html_url"}
	if p.Profile != wantProfile || p.ProfileFunc != nil {
		t.Errorf("profile = %+v (func kept: %v); a configured mapping replaces the preset's function", p.Profile, p.ProfileFunc != nil)
	}
}

func TestCatalogPresetMergesAuthParamsAndKeepsDefaults(t *testing.T) {
	cfg := presetConfig("dropbox")
	cfg.AuthParams = map[string]string{"require_role": "work"}
	p := mustCatalog(t, "https://dc.example.com", cfg).Enabled()[0]
	want := map[string]string{"token_access_type": "offline", "require_role": "work"}
	if !reflect.DeepEqual(p.AuthParams, want) {
		t.Errorf("AuthParams = %v, want %v", p.AuthParams, want)
	}
	// Each build is fresh: changing one catalogue's provider leaves the next alone.
	p.AuthParams["token_access_type"] = "online"
	p.Scopes[0] = "changed"
	again := mustCatalog(t, "https://dc.example.com", presetConfig("dropbox")).Enabled()[0]
	if again.AuthParams["token_access_type"] != "offline" || again.Scopes[0] != "account_info.read" {
		t.Errorf("presets share state between builds: %v %v", again.AuthParams, again.Scopes)
	}
	presets := Presets()
	delete(presets, "github")
	if _, ok := Presets()["github"]; !ok {
		t.Error("Presets returned a shared map")
	}
}

func TestCatalogEmptyScopesMeansNone(t *testing.T) {
	cfg := presetConfig("github")
	cfg.Scopes = []string{}
	if p := mustCatalog(t, "https://dc.example.com", cfg).Enabled()[0]; len(p.Scopes) != 0 {
		t.Errorf("scopes: [] gave %v; an explicit empty list asks for no scopes", p.Scopes)
	}
}

func TestCatalogCustomProviders(t *testing.T) {
	hub := config.Provider{ID: "mockhub", Protocol: "oauth2", Name: "MockHub", ClientID: "dancecard", ClientSecret: "secret",
		AuthURL: "http://127.0.0.1:9100/login/oauth/authorize", TokenURL: "http://127.0.0.1:9100/login/oauth/access_token",
		APIBaseURL: "http://127.0.0.1:9100", UserinfoURL: "/user",
		Profile: map[string]string{"id": "id", "username": "login", "email_verified": "verified"}}
	bird := config.Provider{ID: "mockbird", Protocol: "oauth1", ConsumerKey: "dancecard", ConsumerSecret: "secret",
		RequestTokenURL: "http://127.0.0.1:9100/oauth/request_token", AuthorizeURL: "http://127.0.0.1:9100/oauth/authorize",
		AccessTokenURL: "http://127.0.0.1:9100/oauth/access_token", UserinfoURL: "http://127.0.0.1:9100/1.1/me.json"}
	rsaBird := bird
	rsaBird.ID, rsaBird.SignatureMethod, rsaBird.PrivateKey = "rsabird", "RSA-SHA1", pkcs8PEM(t, rsaTestKey())
	sso := config.Provider{ID: "company-sso", Protocol: "oidc", Issuer: "https://login.example.com", ClientID: "c"}
	c := mustCatalog(t, "http://127.0.0.1:8080", hub, bird, rsaBird, sso)

	ids := []string{}
	for _, p := range c.Enabled() {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []string{"mockhub", "mockbird", "rsabird", "company-sso"}) {
		t.Fatalf("Enabled = %v, want configuration order", ids)
	}
	h, _ := c.Get("mockhub")
	if !h.PKCE || h.TokenAuth != TokenAuthAuto || h.Name != "MockHub" || h.Scopes != nil ||
		h.UserinfoURL != "http://127.0.0.1:9100/user" || h.Profile != (ProfileMap{ID: "id", Username: "login", EmailVerified: "verified"}) {
		t.Errorf("mockhub = %+v", h)
	}
	if got := c.CallbackURL("mockhub"); got != "http://127.0.0.1:8080/auth/mockhub/callback" {
		t.Errorf("CallbackURL = %q", got)
	}
	b, _ := c.Get("mockbird")
	if b.SignatureMethod != "HMAC-SHA1" || b.Name != "mockbird" || b.Profile.ID != "id" || b.PrivateKey != nil {
		t.Errorf("mockbird = %+v", b)
	}
	if r, _ := c.Get("rsabird"); r.SignatureMethod != "RSA-SHA1" || !r.PrivateKey.Equal(rsaTestKey()) {
		t.Errorf("rsabird: %s, key parsed: %v", r.SignatureMethod, r.PrivateKey != nil)
	}
	if s, _ := c.Get("company-sso"); !s.PKCE || s.Profile != oidcClaims() || s.Issuer != "https://login.example.com" {
		t.Errorf("company-sso = %+v", s)
	}
}

func TestCatalogDisabledProviders(t *testing.T) {
	off := presetConfig("google")
	off.ClientID = "" // an unset ${GOOGLE_CLIENT_ID}
	// JIRA without a consumer key, and so without its private key either.
	jira := config.Provider{ID: "jira", Preset: "jira", BaseURL: "https://jira.example.com"}
	c := mustCatalog(t, "https://dc.example.com", presetConfig("github"), off, jira)
	if _, ok := c.Get("google"); ok {
		t.Error("a provider without credentials is offered")
	}
	if _, ok := c.Get("jira"); ok {
		t.Error("jira without a consumer key is offered")
	}
	list := c.Enabled()
	if len(list) != 1 || list[0].ID != "github" {
		t.Fatalf("Enabled = %v", list)
	}
	list[0] = nil
	if c.Enabled()[0] == nil {
		t.Error("Enabled returned the catalogue's own slice")
	}
}

func TestCatalogCallbackURLKeepsBasePath(t *testing.T) {
	c := mustCatalog(t, "https://example.com/dancecard")
	if got := c.CallbackURL("github"); got != "https://example.com/dancecard/auth/github/callback" {
		t.Errorf("CallbackURL = %q", got)
	}
}

type catalogErrorCase struct {
	name string
	cfgs []config.Provider
	want string
}

func TestCatalogErrors(t *testing.T) {
	tests := catalogErrorCases(t)
	base, _ := url.Parse("https://dc.example.com")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCatalog(tt.cfgs, base)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := NewCatalog(nil, nil); err == nil || !strings.Contains(err.Error(), "base_url") {
		t.Errorf("nil base URL: err = %v", err)
	}
}

// catalogErrorCases are configurations NewCatalog must refuse, with the
// message it must give.
func catalogErrorCases(t *testing.T) []catalogErrorCase {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	with := func(name string, set func(*config.Provider)) []config.Provider {
		cfg := presetConfig(name)
		set(&cfg)
		return []config.Provider{cfg}
	}
	custom := config.Provider{ID: "hub", Protocol: "oauth2", ClientID: "c",
		AuthURL: "https://hub.example.com/authorize", TokenURL: "https://hub.example.com/token"}
	return []catalogErrorCase{
		{"unknown preset", with("github", func(c *config.Provider) { c.Preset = "githb" }),
			`config: providers[0].preset: unknown preset "githb" (did you mean "github"?); the presets are atlassian, azure, bitbucket,`},
		{"protocol mismatch", with("google", func(c *config.Provider) { c.Protocol = "oauth2" }),
			"config: providers[0].protocol: the google preset speaks oidc, not oauth2"},
		{"base_url on a fixed preset", with("facebook", func(c *config.Provider) { c.BaseURL = "https://fb.example.com" }),
			"config: providers[0].base_url: is not used by the facebook preset"},
		{"disabled entries are checked too", with("facebook", func(c *config.Provider) { c.ClientID, c.BaseURL = "", "https://x.example.com" }),
			"providers[0].base_url: is not used"},
		{"jira needs base_url", with("jira", func(c *config.Provider) { c.BaseURL = "" }),
			"config: providers[0].base_url: is required by the jira preset"},
		{"okta needs base_url", with("okta", func(c *config.Provider) { c.BaseURL = "" }),
			"config: providers[0].base_url: is required by the okta preset"},
		{"tenant elsewhere", with("github", func(c *config.Provider) { c.Tenant = "common" }),
			"config: providers[0].tenant: is not used by the github preset"},
		{"bad tenant", with("microsoft", func(c *config.Provider) { c.Tenant = "con toso/x" }),
			"config: providers[0].tenant: must be common, organizations, consumers"},
		{"jira without key", with("jira", func(c *config.Provider) { c.PrivateKey = "" }),
			"config: providers[0].private_key: is required: the jira preset signs with RSA-SHA1"},
		{"key not PEM", with("jira", func(c *config.Provider) { c.PrivateKey = "not a key" }),
			"config: providers[0].private_key: must be a PEM-encoded RSA private key"},
		{"key from file", with("jira", func(c *config.Provider) { c.PrivateKey, c.PrivateKeyFile = "junk", "/run/secrets/jira.pem" }),
			"config: providers[0].private_key_file: must be a PEM-encoded"},
		{"key not RSA", with("jira", func(c *config.Provider) { c.PrivateKey = pkcs8PEM(t, ecKey) }),
			"config: providers[0].private_key: is a *ecdsa.PrivateKey key; RSA-SHA1 needs an RSA key"},
		{"key encrypted", with("jira", func(c *config.Provider) {
			c.PrivateKey = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n"
		}), "config: providers[0].private_key: is encrypted"},
		{"key with HMAC", with("twitter", func(c *config.Provider) { c.PrivateKey = pkcs1PEM() }),
			"config: providers[0].private_key: is used only with signature_method: RSA-SHA1"},
		{"bad signature method", with("twitter", func(c *config.Provider) { c.SignatureMethod = "PLAINTEXT" }),
			"config: providers[0].signature_method: must be HMAC-SHA1 or RSA-SHA1"},
		{"consumer_key on oauth2", with("github", func(c *config.Provider) { c.ConsumerKey = "ck" }),
			"config: providers[0].consumer_key: is not used by the github preset, which speaks oauth2"},
		{"client_id on jira", with("jira", func(c *config.Provider) { c.ClientID = "id" }),
			"config: providers[0].client_id: is not used by the jira preset, which speaks oauth1"},
		{"issuer on oauth2", with("github", func(c *config.Provider) { c.Issuer = "https://github.com" }),
			"config: providers[0].issuer: is not used by the github preset"},
		{"unknown profile field", with("github", func(c *config.Provider) { c.Profile = map[string]string{"avatar": "x"} }),
			"config: providers[0].profile.avatar: unknown profile field; the fields are avatar_url, email,"},
		{"custom without userinfo", []config.Provider{custom},
			"config: providers[0].userinfo_url: is required for provider hub (protocol oauth2)"},
		{"userinfo path without api base", []config.Provider{func() config.Provider { c := custom; c.UserinfoURL = "/me"; return c }()},
			"config: providers[0].api_base_url: is required when userinfo_url is a path"},
		{"custom protocol", []config.Provider{{ID: "x", Protocol: "saml"}},
			`config: providers[0].protocol: must be oauth1, oauth2 or oidc for a custom provider, got "saml"`},
		{"duplicate id", []config.Provider{presetConfig("github"), presetConfig("github")},
			`config: providers[1].id: "github" is already the id of providers[0]`},
		{"index of the failing entry", []config.Provider{presetConfig("github"), {ID: "fb", Preset: "facebok"}},
			`config: providers[1].preset: unknown preset "facebok" (did you mean "facebook"?)`},
	}
}

// TestCatalogFromExampleConfig loads the commented example configuration the
// way `make run` does (dev mode, no secrets in the environment) and builds
// the catalogue from it: the example must start.
func TestCatalogFromExampleConfig(t *testing.T) {
	env := map[string]string{"DANCECARD_DEV": "true"}
	cfg, err := config.Load("../../configs/dancecard.example.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	c, err := NewCatalog(cfg.Providers, cfg.BaseURL)
	if err != nil {
		t.Fatalf("NewCatalog(example) = %v", err)
	}
	if _, ok := c.Get("github"); ok {
		t.Error("github is enabled without GITHUB_CLIENT_ID")
	}
	if p, ok := c.Get("mockhub"); !ok || p.UserinfoURL != "http://127.0.0.1:9100/user" {
		t.Errorf("mockhub = %+v, %v", p, ok)
	}
}
