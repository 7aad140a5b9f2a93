package oauth_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/config"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

func TestOAuth2Dance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       []oauthtest.Option
		setup      func(*oauth.Provider)
		extra      []string
		wantScope  string // the scope parameter of the authorization URL
		wantScopes []string
		exchanges  int64 // token requests (auto-detection may need two)
	}{
		{name: "pkce, client_secret_basic", opts: []oauthtest.Option{oauthtest.WithClientAuth(oauthtest.ClientAuthBasic), oauthtest.WithRequirePKCE()},
			setup: func(p *oauth.Provider) { p.TokenAuth = oauth.TokenAuthBasic }, wantScope: "read:user", wantScopes: []string{"read:user"}, exchanges: 1},
		{name: "no pkce, client_secret_post", opts: []oauthtest.Option{oauthtest.WithClientAuth(oauthtest.ClientAuthPost)},
			setup: func(p *oauth.Provider) { p.PKCE, p.TokenAuth = false, oauth.TokenAuthPost }, wantScope: "read:user", wantScopes: []string{"read:user"}, exchanges: 1},
		{name: "auto-detected post", opts: []oauthtest.Option{oauthtest.WithClientAuth(oauthtest.ClientAuthPost)},
			wantScope: "read:user", wantScopes: []string{"read:user"}, exchanges: 2},
		{name: "form-encoded token response", opts: []oauthtest.Option{oauthtest.WithFormEncodedTokens()},
			wantScope: "read:user", wantScopes: []string{"read:user"}, exchanges: 1},
		{name: "extra scopes, de-duplicated", extra: []string{"repo", "read:user", " "},
			wantScope: "read:user repo", wantScopes: []string{"read:user", "repo"}, exchanges: 1},
		{name: "comma scope separator", opts: []oauthtest.Option{oauthtest.WithKnobs(oauthtest.Knobs{ScopeSep: ","})},
			setup:     func(p *oauth.Provider) { p.ScopeSep, p.Scopes = ",", []string{"user", "repo"} },
			wantScope: "user,repo", wantScopes: []string{"user", "repo"}, exchanges: 1},
		{name: "granted scopes narrower, comma separated", opts: []oauthtest.Option{oauthtest.WithKnobs(oauthtest.Knobs{GrantedScopes: []string{"user", "gist"}, ScopeSep: ","})},
			setup: func(p *oauth.Provider) { p.Scopes = []string{"user", "repo"} }, wantScope: "user repo", wantScopes: []string{"user", "gist"}, exchanges: 1},
		{name: "granted scopes in a form-encoded response", opts: []oauthtest.Option{oauthtest.WithFormEncodedTokens(), oauthtest.WithKnobs(oauthtest.Knobs{GrantedScopes: []string{"a", "b"}, FormEncoded: true})},
			wantScope: "read:user", wantScopes: []string{"a", "b"}, exchanges: 1},
		{name: "no scope in the response: what was asked", opts: []oauthtest.Option{oauthtest.WithKnobs(oauthtest.Knobs{OmitScope: true})},
			extra: []string{"repo"}, wantScope: "read:user repo", wantScopes: []string{"read:user", "repo"}, exchanges: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := oauthtest.NewServer(t, tt.opts...)
			p := srv.OAuth2Provider("fake")
			if tt.setup != nil {
				tt.setup(p)
			}
			c := oauth.NewClient(oauth.ClientOptions{})
			authURL, pending, err := c.Begin(context.Background(), p, callbackFor(p), tt.extra)
			if err != nil {
				t.Fatal(err)
			}
			q := mustParse(t, authURL).Query()
			if q.Get("scope") != tt.wantScope || q.Get("state") != pending.State || q.Get("redirect_uri") != callbackFor(p) {
				t.Errorf("authorization URL %s: scope %q, state %q, redirect_uri %q", authURL, q.Get("scope"), q.Get("state"), q.Get("redirect_uri"))
			}
			if (q.Get("code_challenge") != "") != p.PKCE || (p.PKCE && q.Get("code_challenge_method") != "S256") {
				t.Errorf("PKCE %v but authorization URL %s", p.PKCE, authURL)
			}
			if len(pending.State) != 43 || (pending.Verifier != "") != p.PKCE || pending.Nonce != "" {
				t.Errorf("pending = %+v", pending)
			}
			tok, prof, err := c.Finish(context.Background(), p, callbackFor(p), pending, srv.Authorize(t, authURL).Query())
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType == "" || tok.IDToken != "" {
				t.Errorf("token = %+v", tok)
			}
			if until := time.Until(tok.Expiry); until < 59*time.Minute || until > time.Hour {
				t.Errorf("expiry in %v, want an hour", until)
			}
			if !slices.Equal(tok.Scopes, tt.wantScopes) {
				t.Errorf("scopes = %q, want %q", tok.Scopes, tt.wantScopes)
			}
			if prof != octo(srv) {
				t.Errorf("profile = %+v, want %+v", prof, octo(srv))
			}
			if n := srv.Counts(); n.TokenExchanges != tt.exchanges || n.Userinfo != 1 {
				t.Errorf("counts = %+v", n)
			}
		})
	}
}

func TestOAuth2FormPost(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t)
	p := srv.OAuth2Provider("apple")
	p.ResponseMode = "form_post"
	c := oauth.NewClient(oauth.ClientOptions{})
	authURL, pending, err := c.Begin(context.Background(), p, callbackFor(p), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustParse(t, authURL).Query().Get("response_mode"); got != "form_post" {
		t.Fatalf("response_mode = %q", got)
	}
	cb := srv.AuthorizeCallback(t, authURL)
	if cb.Method != "POST" || cb.Form.Get("code") == "" || cb.Form.Get("state") != pending.State {
		t.Fatalf("callback = %+v", cb)
	}
	if _, prof, err := c.Finish(context.Background(), p, callbackFor(p), pending, cb.Form); err != nil || prof.ID != "42" {
		t.Fatalf("Finish = %+v, %v", prof, err)
	}
}

func TestOAuth2AuthParamsCannotOverrideTheDance(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t)
	p := srv.OAuth2Provider("fake")
	p.AuthParams = map[string]string{"prompt": "consent", "state": "fixed", "redirect_uri": "https://evil.example/", "code_challenge": "x"}
	authURL, pending, err := oauth.NewClient(oauth.ClientOptions{}).Begin(context.Background(), p, callbackFor(p), nil)
	if err != nil {
		t.Fatal(err)
	}
	q := mustParse(t, authURL).Query()
	if q.Get("prompt") != "consent" || q.Get("state") != pending.State || q.Get("redirect_uri") != callbackFor(p) || q.Get("code_challenge") == "x" {
		t.Fatalf("authorization URL %s", authURL)
	}
}

func TestOAuth2ProfileFunc(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t)
	p := srv.OAuth2Provider("fake")
	var evilErr error
	p.ProfileFunc = func(raw []byte, get oauth.Getter) (oauth.Profile, error) {
		_, evilErr = get("https://evil.example/steal")
		prof, err := oauth.MapJSON(raw, oauthtest.ProfileMap())
		if err != nil {
			return prof, err
		}
		echo, err := get(srv.APIBaseURL() + "user/emails?primary=1")
		if err != nil {
			return prof, err
		}
		doc, _ := oauth.DecodeJSON(echo)
		prof.Name = oauth.LookupString(doc, "auth") + " " + oauth.LookupString(doc, "path")
		return prof, nil
	}
	_, prof, err := dance(t, oauth.NewClient(oauth.ClientOptions{}), srv, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if prof.Name != "Bearer /user/emails" || prof.ID != "42" {
		t.Errorf("profile = %+v", prof)
	}
	if !errors.Is(evilErr, oauth.ErrMisconfigured) {
		t.Errorf("get on another host = %v, want ErrMisconfigured", evilErr)
	}
}

// Without a configured style, only a rejected client is retried the other
// way; what worked is remembered, and a server error is not retried (it may
// have consumed the code).
func TestTokenAuthDetection(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t, oauthtest.WithClientAuth(oauthtest.ClientAuthPost))
	p := srv.OAuth2Provider("hub")
	c := oauth.NewClient(oauth.ClientOptions{})
	mustDance(t, c, srv, p)
	mustDance(t, c, srv, p)
	if n := srv.Counts().TokenExchanges; n != 3 {
		t.Errorf("%d token requests for two dances, want 3 (one probe)", n)
	}

	down := oauthtest.NewServer(t, oauthtest.WithKnobs(oauthtest.Knobs{TokenStatus: 500}))
	_, _, err := dance(t, c, down, down.OAuth2Provider("hub"), nil)
	wantProviderError(t, err, "token", "", 500)
	if n := down.Counts().TokenExchanges; n != 1 {
		t.Errorf("%d token requests after a 500, want 1", n)
	}
}

// TestOAuth2TokenType: only bearer tokens are taken (RFC 6749 7.1: a client
// must not use a token whose type it does not understand), in the token
// response of a dance and of a refresh. An empty token_type is tolerated
// only where the provider is known to leave it out.
func TestOAuth2TokenType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		knobs    oauthtest.Knobs
		optional bool // the provider's TokenTypeOptional
		oidc     bool
		refuse   bool
	}{
		{name: "bearer"},
		{name: "Bearer, any case", knobs: oauthtest.Knobs{TokenType: "BeArEr"}},
		{name: "bearer, form-encoded", knobs: oauthtest.Knobs{TokenType: "bearer", FormEncoded: true}},
		{name: "omitted where the provider leaves it out", knobs: oauthtest.Knobs{OmitTokenType: true}, optional: true},
		{name: "omitted", knobs: oauthtest.Knobs{OmitTokenType: true}, refuse: true},
		{name: "omitted, OpenID Connect", knobs: oauthtest.Knobs{OmitTokenType: true}, oidc: true, refuse: true},
		{name: "mac", knobs: oauthtest.Knobs{TokenType: "mac"}, refuse: true},
		{name: "mac where an empty type is tolerated", knobs: oauthtest.Knobs{TokenType: "mac"}, optional: true, refuse: true},
		{name: "DPoP, OpenID Connect", knobs: oauthtest.Knobs{TokenType: "DPoP"}, oidc: true, refuse: true},
		{name: "mac, form-encoded", knobs: oauthtest.Knobs{TokenType: "mac", FormEncoded: true}, refuse: true},
		{name: "bearer with spaces", knobs: oauthtest.Knobs{TokenType: " bearer"}, refuse: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := oauthtest.NewServer(t, oauthtest.WithKnobs(tt.knobs))
			p := srv.OAuth2Provider("hub")
			if tt.oidc {
				p = srv.OIDCProvider("sso")
			}
			p.TokenTypeOptional = tt.optional
			c := oauth.NewClient(oauth.ClientOptions{})
			_, _, err := dance(t, c, srv, p, nil)
			if tt.refuse {
				pe := wantProviderError(t, err, "token", "", 0)
				if !strings.Contains(pe.Description, "token_type") {
					t.Errorf("description %q does not name token_type", pe.Description)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}

	// A refresh answered with another type is refused too, and nothing of
	// it is returned.
	srv := oauthtest.NewServer(t)
	p := srv.OAuth2Provider("hub")
	c := oauth.NewClient(oauth.ClientOptions{})
	tok, _ := mustDance(t, c, srv, p)
	srv.UpdateKnobs(func(k *oauthtest.Knobs) { k.TokenType = "mac" })
	got, err := c.Refresh(context.Background(), p, tok)
	wantProviderError(t, err, "refresh", "", 0)
	if got.AccessToken != "" {
		t.Errorf("refused refresh returned %+v", got)
	}
}

// TestTokenTypeOptionalPresets pins which presets tolerate a token response
// without token_type: the ones whose documented responses leave it out.
func TestTokenTypeOptionalPresets(t *testing.T) {
	t.Parallel()
	want := map[string]bool{"linkedin": true, "foursquare": true, "weibo": true, "douban": true}
	for name, preset := range oauth.Presets() {
		var s oauth.PresetSettings
		if preset.BaseURL == oauth.NeedRequired {
			s.BaseURL = "https://example.com"
		}
		p, err := preset.Provider(s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.TokenTypeOptional != want[name] {
			t.Errorf("%s: TokenTypeOptional = %v, want %v", name, p.TokenTypeOptional, want[name])
		}
	}
}

// TestTokenTypeOptionalFromConfig: a custom provider (or a preset) can say
// its token responses omit token_type; OAuth 1 refuses the key.
func TestTokenTypeOptionalFromConfig(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("https://dc.example.com")
	yes, no := true, false
	cat, err := oauth.NewCatalog([]config.Provider{
		{ID: "c", Protocol: "oauth2", ClientID: "x", AuthURL: "https://p.example/a", TokenURL: "https://p.example/t", UserinfoURL: "https://p.example/u", TokenTypeOptional: &yes},
		{ID: "li", Preset: "linkedin", ClientID: "x", TokenTypeOptional: &no},
	}, base)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := cat.Get("c"); !p.TokenTypeOptional {
		t.Error("custom provider: token_type_optional not applied")
	}
	if p, _ := cat.Get("li"); p.TokenTypeOptional {
		t.Error("preset: token_type_optional: false not applied")
	}
	_, err = oauth.NewCatalog([]config.Provider{{ID: "b", Protocol: "oauth1", ConsumerKey: "k", ConsumerSecret: "s",
		RequestTokenURL: "https://p.example/r", AuthorizeURL: "https://p.example/a", AccessTokenURL: "https://p.example/t", TokenTypeOptional: &yes}}, base)
	if err == nil || !strings.Contains(err.Error(), "token_type_optional") {
		t.Errorf("oauth1 with token_type_optional: %v", err)
	}
}
