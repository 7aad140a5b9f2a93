package devprovider_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/devprovider"
	"github.com/dancecard/dancecard/internal/oauth"
)

// dev is a dev provider mounted as the server mounts it, with the catalogue
// and client the app would use.
type dev struct {
	base    string
	catalog *oauth.Catalog
	client  *oauth.Client
}

func newDev(t *testing.T) *dev {
	t.Helper()
	mux := http.NewServeMux()
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	mux.Handle(devprovider.MountPath+"/", devprovider.New(ts.URL))
	base, _ := url.Parse(ts.URL)
	c, err := oauth.NewCatalog(devprovider.Providers(ts.URL), base)
	if err != nil {
		t.Fatalf("NewCatalog: %v", err)
	}
	return &dev{base: ts.URL, catalog: c, client: oauth.NewClient(oauth.ClientOptions{})}
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// begin starts a dance with the provider and returns its authorize URL.
func (d *dev) begin(t *testing.T, id string) (*oauth.Provider, string, oauth.Pending) {
	t.Helper()
	p, ok := d.catalog.Get(id)
	if !ok {
		t.Fatalf("%s is not enabled", id)
	}
	authURL, pending, err := d.client.Begin(context.Background(), p, d.catalog.CallbackURL(id), nil)
	if err != nil {
		t.Fatalf("%s: Begin: %v", id, err)
	}
	return p, authURL, pending
}

// consent POSTs the consent form and returns the callback it redirects to.
func consent(t *testing.T, authURL string, form url.Values) *url.URL {
	t.Helper()
	resp, err := noRedirects.PostForm(authURL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("consent: %d, want 302: %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestProvidersLoadAndAreEnabled(t *testing.T) {
	t.Parallel()
	d := newDev(t)
	var ids []string
	for _, p := range d.catalog.Enabled() {
		ids = append(ids, p.ID+":"+string(p.Protocol))
	}
	if strings.Join(ids, ",") != "devhub:oauth2,devbird:oauth1" {
		t.Errorf("enabled = %v", ids)
	}
	if hub, _ := d.catalog.Get("devhub"); !hub.PKCE || hub.RevokeURL != d.base+"/dev/provider/oauth2/revoke" {
		t.Errorf("devhub = %+v", hub)
	}
}

func TestConsentPageRenders(t *testing.T) {
	t.Parallel()
	d := newDev(t)
	for _, tc := range []struct{ id, want string }{
		{"devhub", "read:user"},
		{"devbird", "OAuth 1.0a"},
	} {
		name := map[string]string{"devhub": "DevHub", "devbird": "DevBird"}[tc.id]
		_, authURL, _ := d.begin(t, tc.id)
		resp, err := http.Get(authURL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		html := string(body)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: GET consent page: %d %s", tc.id, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, want := range []string{"built-in dev provider", "Development mode", "Authorize Dancecard to use your " + name + " account?", tc.want,
			"Ada Lovelace", "grace@dev.test", `value="custom"`, `name="email_verified" value="on" checked`,
			"Revoked token", ">Approve<", ">Deny<", `action="/dev/provider/`} {
			if !strings.Contains(html, want) {
				t.Errorf("%s: consent page lacks %q", tc.id, want)
			}
		}
		// The site's own script files are allowed; inline script is not.
		if strings.Contains(ownScript.ReplaceAllString(html, ""), "<script") || strings.Contains(html, "style=") {
			t.Errorf("%s: consent page has inline script or style", tc.id)
		}
	}
}

// ownScript is a script tag for one of the site's own static files.
var ownScript = regexp.MustCompile(`<script src="/static/[a-z]+\.js(\?v=[0-9a-f]*)?" defer></script>`)

func TestApproveFinishesTheDance(t *testing.T) {
	t.Parallel()
	d := newDev(t)
	for _, tc := range []struct{ id, param string }{{"devhub", "code"}, {"devbird", "oauth_verifier"}} {
		p, authURL, pending := d.begin(t, tc.id)
		cb := consent(t, authURL, url.Values{"identity": {"1002"}, "email_verified": {"on"}, "failure": {"none"}, "decision": {"approve"}})
		if cb.Path != "/auth/"+tc.id+"/callback" || cb.Query().Get(tc.param) == "" {
			t.Fatalf("%s: callback %s lacks %s", tc.id, cb, tc.param)
		}
		_, prof, err := d.client.Finish(context.Background(), p, d.catalog.CallbackURL(tc.id), pending, cb.Query())
		if err != nil || prof.ID != "1002" || prof.Username != "grace" || prof.Email != "grace@dev.test" || !prof.EmailVerified {
			t.Errorf("%s: Finish = %+v, %v", tc.id, prof, err)
		}
	}
}

func TestDenyRedirectsWithAccessDenied(t *testing.T) {
	t.Parallel()
	d := newDev(t)
	for _, form := range []url.Values{
		{"identity": {"1001"}, "decision": {"deny"}},
		{"identity": {"1001"}, "failure": {"deny"}, "decision": {"approve"}},
	} {
		_, authURL, _ := d.begin(t, "devhub")
		if cb := consent(t, authURL, form); cb.Query().Get("error") != "access_denied" || cb.Query().Get("code") != "" {
			t.Errorf("%v: callback %s, want error=access_denied", form, cb)
		}
		_, authURL, _ = d.begin(t, "devbird")
		if cb := consent(t, authURL, form); cb.Query().Get("denied") == "" || cb.Query().Get("oauth_verifier") != "" {
			t.Errorf("%v: OAuth 1 callback %s, want denied", form, cb)
		}
	}
}

func TestCustomIdentity(t *testing.T) {
	t.Parallel()
	d := newDev(t)
	p, authURL, pending := d.begin(t, "devhub")
	resp, err := noRedirects.PostForm(authURL, url.Values{"identity": {"custom"}, "custom_login": {"zoe"}, "decision": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "needs at least an ID") ||
		!strings.Contains(string(body), `value="zoe"`) {
		t.Fatalf("custom identity without id: %d %s", resp.StatusCode, body)
	}
	cb := consent(t, authURL, url.Values{"identity": {"custom"}, "custom_id": {"u-zoe"}, "custom_login": {"zoe"},
		"custom_name": {"Zoe"}, "custom_email": {"zoe@dev.test"}, "failure": {"none"}, "decision": {"approve"}})
	_, prof, err := d.client.Finish(context.Background(), p, d.catalog.CallbackURL("devhub"), pending, cb.Query())
	if err != nil || prof.ID != "u-zoe" || prof.Username != "zoe" || prof.Name != "Zoe" || prof.EmailVerified {
		t.Errorf("Finish = %+v, %v; want zoe with an unverified email", prof, err)
	}
}

// dance runs a devhub dance as ada with the given failure.
func (d *dev) dance(t *testing.T, failure string) (*oauth.Provider, oauth.Token) {
	t.Helper()
	p, authURL, pending := d.begin(t, "devhub")
	cb := consent(t, authURL, url.Values{"identity": {"1001"}, "email_verified": {"on"}, "failure": {failure}, "decision": {"approve"}})
	tok, prof, err := d.client.Finish(context.Background(), p, d.catalog.CallbackURL("devhub"), pending, cb.Query())
	if err != nil || prof.ID != "1001" {
		t.Fatalf("%s: Finish = %+v, %v", failure, prof, err)
	}
	return p, tok
}

func TestFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newDev(t)

	_, tok := d.dance(t, "none")
	if left := time.Until(tok.Expiry); left < 30*time.Minute {
		t.Errorf("no failure: token expires in %v", left)
	}

	p, tok := d.dance(t, "expire")
	if left := time.Until(tok.Expiry); left <= 0 || left > 10*time.Second {
		t.Errorf("expire: token expires in %v, want within 10s", left)
	}
	if _, err := d.client.Refresh(ctx, p, tok); err != nil {
		t.Errorf("expire: refresh: %v", err)
	}

	p, tok = d.dance(t, "refresh")
	if left := time.Until(tok.Expiry); left > 10*time.Second {
		t.Errorf("refresh: token expires in %v", left)
	}
	if _, err := d.client.Refresh(ctx, p, tok); err == nil {
		t.Error("refresh: the refresh succeeded")
	}

	p, tok = d.dance(t, "revoke")
	req, _ := http.NewRequest(http.MethodGet, p.UserinfoURL, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoke: userinfo after the dance = %d, want 401", resp.StatusCode)
	}
	if _, err := d.client.Refresh(ctx, p, tok); err == nil {
		t.Error("revoke: the refresh succeeded")
	}

	// The revocation fired once: a later dance as the same user keeps its tokens.
	p, tok = d.dance(t, "none")
	if _, err := d.client.Refresh(ctx, p, tok); err != nil {
		t.Errorf("after revoke: refresh: %v", err)
	}
}

func TestServesBehindStripPrefix(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	ts := httptest.NewServer(mux)
	defer ts.Close()
	mux.Handle("/dev/provider/", http.StripPrefix("/dev/provider", devprovider.New(ts.URL)))
	resp, err := http.Get(ts.URL + "/dev/provider/oauth2/authorize?client_id=dancecard-devhub&response_type=code&redirect_uri=" +
		url.QueryEscape(ts.URL+"/auth/devhub/callback"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("consent page behind StripPrefix: %d", resp.StatusCode)
	}
}
