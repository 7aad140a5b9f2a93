package oauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dancecard/dancecard/internal/config"
)

// rsaTestKey is one RSA key for every test that needs one: generating a key
// costs more than the tests that use it.
var rsaTestKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func pkcs1PEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaTestKey())}))
}

func pkcs8PEM(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// presetConfig is the smallest configuration that enables a preset: fake
// credentials for its protocol, and base_url and key where it needs them.
func presetConfig(name string) config.Provider {
	preset := Presets()[name]
	cfg := config.Provider{ID: name, Preset: name}
	if preset.Protocol == OAuth1 {
		cfg.ConsumerKey, cfg.ConsumerSecret = "ck-"+name, "cs-"+name
	} else {
		cfg.ClientID, cfg.ClientSecret = "id-"+name, "secret-"+name
	}
	if preset.BaseURL == NeedRequired {
		cfg.BaseURL = "https://" + name + ".example.com"
	}
	if name == "jira" {
		cfg.PrivateKey = pkcs1PEM()
	}
	return cfg
}

func mustCatalog(t *testing.T, base string, cfgs ...config.Provider) *Catalog {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCatalog(cfgs, u)
	if err != nil {
		t.Fatalf("NewCatalog: %v", err)
	}
	return c
}

func isHTTPS(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.Fragment == ""
}

// TestPresetsBuild builds every preset through the catalogue, as a
// configuration would, and checks the shape every preset must have.
func TestPresetsBuild(t *testing.T) {
	presets := Presets()
	for _, name := range slices.Sorted(maps.Keys(presets)) {
		t.Run(name, func(t *testing.T) {
			preset := presets[name]
			c := mustCatalog(t, "https://dc.example.com", presetConfig(name))
			p, ok := c.Get(name)
			if !ok {
				t.Fatalf("Get(%q) = false; an entry with credentials must be enabled", name)
			}
			if p.Name != preset.Name || p.Protocol != preset.Protocol || p.Preset != name || p.ID != name {
				t.Errorf("identity = %q %q %q %q", p.ID, p.Preset, p.Name, p.Protocol)
			}
			if got, want := c.CallbackURL(name), "https://dc.example.com/auth/"+name+"/callback"; got != want {
				t.Errorf("CallbackURL = %q, want %q", got, want)
			}
			checkEndpointShape(t, p)
			if p.Timeout != DefaultTimeout {
				t.Errorf("Timeout = %v, want the default", p.Timeout)
			}
			if p.Profile.ID == "" && p.ProfileFunc == nil {
				t.Error("no way to find the profile's id")
			}
			reserved := []string{"response_type", "client_id", "redirect_uri", "state", "scope",
				"code_challenge", "code_challenge_method", "nonce", "response_mode"}
			for k := range p.AuthParams {
				if slices.Contains(reserved, k) {
					t.Errorf("AuthParams overrides %q, which the dance owns", k)
				}
			}
		})
	}
}

func checkEndpointShape(t *testing.T, p *Provider) {
	t.Helper()
	var must []string
	switch p.Protocol {
	case OAuth2:
		must = []string{p.AuthURL, p.TokenURL, p.UserinfoURL}
	case OIDC:
		must = []string{p.Issuer} // the rest comes from discovery
	case OAuth1:
		must = []string{p.RequestTokenURL, p.AuthorizeURL, p.AccessTokenURL, p.UserinfoURL}
	}
	for _, u := range append(must, p.APIBaseURL) {
		if !isHTTPS(u) {
			t.Errorf("endpoint %q is not an absolute https URL", u)
		}
	}
	for _, u := range []string{p.RevokeURL, p.AuthURL, p.TokenURL, p.UserinfoURL} {
		if u != "" && !isHTTPS(u) {
			t.Errorf("endpoint %q is not an absolute https URL", u)
		}
	}
	if !strings.HasSuffix(p.APIBaseURL, "/") {
		t.Errorf("APIBaseURL %q should end in / so paths join under it", p.APIBaseURL)
	}
	if p.ScopeSep != "" && p.ScopeSep != "," {
		t.Errorf("ScopeSep = %q", p.ScopeSep)
	}
	if p.Protocol == OAuth1 && p.SignatureMethod != "HMAC-SHA1" && p.SignatureMethod != "RSA-SHA1" {
		t.Errorf("SignatureMethod = %q", p.SignatureMethod)
	}
}

// TestPresetDefaults pins each preset's scopes, PKCE and client
// authentication, the values most likely to be changed by accident.
func TestPresetDefaults(t *testing.T) {
	type want struct {
		scopes string
		pkce   bool
		auth   TokenAuth
		revoke bool
	}
	wants := map[string]want{
		"github":       {"read:user user:email", true, TokenAuthPost, false},
		"gitlab":       {"read_user", true, TokenAuthPost, true},
		"gitea":        {"read:user", true, TokenAuthPost, false},
		"bitbucket":    {"account email", false, TokenAuthBasic, false},
		"google":       {"openid email profile", true, TokenAuthPost, true},
		"azure":        {"User.Read offline_access", true, TokenAuthPost, false},
		"microsoft":    {"User.Read offline_access", true, TokenAuthPost, false},
		"okta":         {"openid email profile", true, TokenAuthBasic, false},
		"slack":        {"openid email profile", false, TokenAuthPost, false},
		"linkedin":     {"openid profile email", false, TokenAuthPost, true},
		"twitch":       {"openid user:read:email", false, TokenAuthPost, true},
		"jira":         {"", false, TokenAuthAuto, false},
		"atlassian":    {"read:me offline_access", false, TokenAuthPost, false},
		"facebook":     {"public_profile email", false, TokenAuthPost, false},
		"twitter":      {"", false, TokenAuthAuto, false},
		"x":            {"tweet.read users.read offline.access", true, TokenAuthBasic, true},
		"discord":      {"identify email", false, TokenAuthBasic, true},
		"reddit":       {"identity", false, TokenAuthBasic, true},
		"meetup":       {"basic", false, TokenAuthPost, false},
		"dropbox":      {"account_info.read", true, TokenAuthBasic, false},
		"nylas":        {"", true, TokenAuthPost, true},
		"spotify":      {"user-read-email", true, TokenAuthBasic, false},
		"strava":       {"read", false, TokenAuthPost, false},
		"foursquare":   {"", false, TokenAuthPost, false},
		"digitalocean": {"read", false, TokenAuthPost, true},
		"douban":       {"douban_basic_common", false, TokenAuthPost, false},
		"weibo":        {"", false, TokenAuthPost, false},
	}
	presets := Presets()
	if got, want := slices.Sorted(maps.Keys(presets)), slices.Sorted(maps.Keys(wants)); !slices.Equal(got, want) {
		t.Fatalf("presets = %v\nwant %v", got, want)
	}
	for name, w := range wants {
		p := mustCatalog(t, "https://dc.example.com", presetConfig(name)).Enabled()[0]
		got := want{strings.Join(p.Scopes, " "), p.PKCE, p.TokenAuth, p.RevokeURL != ""}
		if got != w {
			t.Errorf("%s: got %+v, want %+v", name, got, w)
		}
	}
}

// TestPresetsSelfHosted checks the presets that take base_url or tenant.
func TestPresetsSelfHosted(t *testing.T) {
	tests := []struct {
		preset, baseURL, tenant string
		auth, api, userinfo     string
	}{
		{"github", "https://github.example.com/", "", "https://github.example.com/login/oauth/authorize",
			"https://github.example.com/api/v3/", "https://github.example.com/api/v3/user"},
		{"github", "https://octocorp.ghe.com", "", "https://octocorp.ghe.com/login/oauth/authorize",
			"https://api.octocorp.ghe.com/", "https://api.octocorp.ghe.com/user"},
		{"gitlab", "https://git.example.com/gitlab", "", "https://git.example.com/gitlab/oauth/authorize",
			"https://git.example.com/gitlab/api/v4/", "https://git.example.com/gitlab/api/v4/user"},
		{"gitea", "https://codeberg.org", "", "https://codeberg.org/login/oauth/authorize",
			"https://codeberg.org/api/v1/", "https://codeberg.org/api/v1/user"},
		{"nylas", "https://api.eu.nylas.com", "", "https://api.eu.nylas.com/v3/connect/auth",
			"https://api.eu.nylas.com/v3/", "https://api.eu.nylas.com/v3/grants/me"},
		{"microsoft", "", "contoso.onmicrosoft.com", "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
			"https://graph.microsoft.com/", "https://graph.microsoft.com/v1.0/me"},
		{"azure", "", "", "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
			"https://graph.microsoft.com/", "https://graph.microsoft.com/v1.0/me"},
	}
	for _, tt := range tests {
		cfg := presetConfig(tt.preset)
		cfg.BaseURL, cfg.Tenant = tt.baseURL, tt.tenant
		p := mustCatalog(t, "https://dc.example.com", cfg).Enabled()[0]
		if p.AuthURL != tt.auth || p.APIBaseURL != tt.api || p.UserinfoURL != tt.userinfo {
			t.Errorf("%s %q: got %s | %s | %s", tt.preset, tt.baseURL+tt.tenant, p.AuthURL, p.APIBaseURL, p.UserinfoURL)
		}
	}
	jira := mustCatalog(t, "https://dc.example.com", presetConfig("jira")).Enabled()[0]
	if jira.RequestTokenURL != "https://jira.example.com/plugins/servlet/oauth/request-token" ||
		jira.SignatureMethod != "RSA-SHA1" || jira.PrivateKey == nil {
		t.Errorf("jira = %s %s %v", jira.RequestTokenURL, jira.SignatureMethod, jira.PrivateKey != nil)
	}
	okta := mustCatalog(t, "https://dc.example.com", presetConfig("okta")).Enabled()[0]
	if okta.Issuer != "https://okta.example.com" || okta.APIBaseURL != "https://okta.example.com/api/v1/" {
		t.Errorf("okta = %s %s", okta.Issuer, okta.APIBaseURL)
	}
}
