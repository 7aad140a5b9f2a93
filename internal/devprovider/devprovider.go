// Package devprovider is the built-in dev provider that dev mode mounts at
// /dev/provider: the oauthtest engine, speaking OAuth 2 (PKCE, refresh,
// revocation) and OAuth 1.0a, behind a consent page where a developer picks
// or makes up an identity and chooses a failure. It lets a newcomer click
// through every flow, and every failure, with no credentials. It keeps
// everything in one process's memory and must never be mounted outside dev
// mode.
package devprovider

import (
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/dancecard/dancecard/internal/config"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
	"github.com/dancecard/dancecard/web"
)

// MountPath is where the provider lives below the server's base URL.
const MountPath = "/dev/provider"

// The credentials the engine accepts. They are not secrets: the provider is
// a dev-only fake, and Providers hands the same values to the app.
const (
	clientID       = "dancecard-devhub"
	clientSecret   = "devhub-secret"
	consumerKey    = "dancecard-devbird"
	consumerSecret = "devbird-secret"
)

// The names the app knows the two faces of the provider by: its consent
// page says which one is asking.
const (
	nameOAuth2 = "DevHub"
	nameOAuth1 = "DevBird"
)

// Provider is the dev provider: an http.Handler for everything under
// MountPath. It is safe for concurrent use.
type Provider struct {
	engine   *oauthtest.Provider
	base     string // the engine's absolute URL: baseURL + MountPath
	basePath string // its path, which the consent form posts back below

	mu          sync.Mutex
	revokeAfter map[string]bool            // user ids whose tokens die once their profile has been read
	known       map[string]web.DevIdentity // made-up identities that consented, by lower-cased id, login and email
}

// New returns the dev provider engine mounted at baseURL+"/dev/provider";
// baseURL is the server's base_url, as the browser sees it.
func New(baseURL string) *Provider {
	p := &Provider{base: engineURL(baseURL), revokeAfter: map[string]bool{}, known: map[string]web.DevIdentity{}}
	if u, err := url.Parse(p.base); err == nil {
		p.basePath = u.Path
	}
	p.engine = oauthtest.NewHandler(
		oauthtest.WithBaseURL(p.base),
		oauthtest.WithClient(clientID, clientSecret),
		oauthtest.WithConsumer(consumerKey, consumerSecret),
		oauthtest.WithAuthorize(p.authorize),
	)
	return p
}

// ServeHTTP serves the engine's endpoints. It takes the request path with or
// without the MountPath prefix (and whatever path base_url itself has), so
// both e.Any("/dev/provider/*", echo.WrapHandler(dp)) and
// http.StripPrefix work.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := r.URL.Path
	if i := strings.Index(rest, MountPath+"/"); i >= 0 {
		rest = rest[i+len(MountPath):]
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = rest, ""
	if rest == "/userinfo" && p.anyRevokePending() {
		p.serveUserinfoThenRevoke(w, r2)
		return
	}
	p.engine.ServeHTTP(w, r2)
}

// Providers returns the config entries for "devhub" (OAuth 2 with PKCE,
// refresh and revocation) and "devbird" (OAuth 1.0a, HMAC-SHA1), pointing at
// the provider New(baseURL) serves. Dev mode appends them to cfg.Providers.
func Providers(baseURL string) []config.Provider {
	base := engineURL(baseURL)
	pkce := true
	profile := map[string]string{
		"id": "id", "username": "login", "name": "name", "email": "email",
		"email_verified": "email_verified", "avatar_url": "avatar_url", "profile_url": "html_url",
	}
	return []config.Provider{
		{
			ID: "devhub", Protocol: "oauth2", Name: nameOAuth2,
			ClientID: clientID, ClientSecret: clientSecret,
			AuthURL: base + "/oauth2/authorize", TokenURL: base + "/oauth2/token", RevokeURL: base + "/oauth2/revoke",
			APIBaseURL: base + "/api/", UserinfoURL: base + "/userinfo",
			Scopes: []string{"read:user", "user:email"}, PKCE: &pkce, Profile: profile,
		},
		{
			ID: "devbird", Protocol: "oauth1", Name: nameOAuth1,
			ConsumerKey: consumerKey, ConsumerSecret: consumerSecret, SignatureMethod: "HMAC-SHA1",
			RequestTokenURL: base + "/oauth1/request_token", AuthorizeURL: base + "/oauth1/authorize",
			AccessTokenURL: base + "/oauth1/access_token",
			APIBaseURL:     base + "/api/", UserinfoURL: base + "/userinfo", Profile: profile,
		},
	}
}

func engineURL(baseURL string) string {
	return strings.TrimRight(baseURL, "/") + MountPath
}
