package devprovider_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// consentPage GETs the consent page at authURL, with extra query
// parameters, and returns its HTML.
func consentPage(t *testing.T, authURL string, extra url.Values) string {
	t.Helper()
	u, _ := url.Parse(authURL)
	q := u.Query()
	for k, v := range extra {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("consent page: %d %s", resp.StatusCode, body)
	}
	return string(body)
}

// TestConsentPageIsTheProvidersOwn: the page names the provider that asks
// (DevHub for OAuth 2, DevBird for OAuth 1.0a) and, being another site,
// none of Dancecard's navigation: no "Log in" or "Sign up" to someone
// logged in to Dancecard.
func TestConsentPageIsTheProvidersOwn(t *testing.T) {
	t.Parallel()
	d := newDev(t)
	for id, name := range map[string]string{"devhub": "DevHub", "devbird": "DevBird"} {
		_, authURL, _ := d.begin(t, id)
		html := consentPage(t, authURL, nil)
		for _, want := range []string{"<title>Authorize Dancecard · " + name + "</title>", "<span>" + name + "</span>",
			"Authorize Dancecard to use your " + name + " account?", "Sign in to " + name + " as",
			`provider-initial" aria-hidden="true">D</span>`} {
			if !strings.Contains(html, want) {
				t.Errorf("%s: consent page lacks %q", id, want)
			}
		}
		for _, unwanted := range []string{`href="/login"`, `href="/signup"`, ">Log in<", ">Sign up<", `action="/logout"`, `href="/profile"`} {
			if strings.Contains(html, unwanted) {
				t.Errorf("%s: consent page shows Dancecard's navigation: %s", id, unwanted)
			}
		}
		// With no hint, the first identity is preselected, and no hint is named.
		if !strings.Contains(html, `value="1001" checked`) || strings.Contains(html, "asked for the account") {
			t.Errorf("%s: without a hint the page does not preselect the first identity", id)
		}
	}
}

// TestConsentPagePreselectsTheHintedAccount: a reconnect sends login_hint;
// the page preselects that account, whether a preset (by login, id or
// email) or a made-up one that consented before, and says which was asked
// for. An account it never saw is filled in as far as the hint goes.
func TestConsentPagePreselectsTheHintedAccount(t *testing.T) {
	t.Parallel()
	d := newDev(t)
	for _, id := range []string{"devhub", "devbird"} {
		_, authURL, _ := d.begin(t, id)
		for _, hint := range []string{"grace", "1002", "Grace@dev.test"} {
			html := consentPage(t, authURL, url.Values{"login_hint": {hint}})
			if !strings.Contains(html, `value="1002" checked`) || strings.Contains(html, `value="1001" checked`) {
				t.Errorf("%s: login_hint=%s does not preselect Grace (1002)", id, hint)
			}
			if !strings.Contains(html, "Dancecard asked for the account <strong class=\"break\">"+hint+"</strong>") {
				t.Errorf("%s: login_hint=%s is not named", id, hint)
			}
		}
	}
	// A made-up identity that consented is found again by its login.
	_, authURL, _ := d.begin(t, "devhub")
	consent(t, authURL, url.Values{"identity": {"custom"}, "custom_id": {"u-zoe"}, "custom_login": {"zoe"},
		"custom_name": {"Zoe Q"}, "custom_email": {"zoe@dev.test"}, "failure": {"none"}, "decision": {"approve"}})
	_, authURL, _ = d.begin(t, "devhub")
	html := consentPage(t, authURL, url.Values{"login_hint": {"zoe"}})
	for _, want := range []string{`value="custom" checked`, `value="u-zoe"`, `value="Zoe Q"`, `value="zoe@dev.test"`} {
		if !strings.Contains(html, want) {
			t.Errorf("login_hint=zoe: page lacks %s", want)
		}
	}
	// One it never saw: "someone else", with the hint as the login.
	html = consentPage(t, authURL, url.Values{"login_hint": {"nobody"}})
	if !strings.Contains(html, `value="custom" checked`) || !strings.Contains(html, `name="custom_login" type="text" value="nobody"`) {
		t.Error("an unknown hint is not offered as someone else's login")
	}
}

// TestConsentPageSpeaksGerman: a browser that asks for German gets the
// consent page, its failures and its form errors in German.
func TestConsentPageSpeaksGerman(t *testing.T) {
	t.Parallel()
	d := newDev(t)
	_, authURL, _ := d.begin(t, "devhub")
	req, _ := http.NewRequest(http.MethodGet, authURL, nil)
	req.Header.Set("Accept-Language", "de-DE,de;q=0.9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	html := string(body)
	for _, want := range []string{`<html lang="de">`, "<title>Dancecard autorisieren · DevHub</title>",
		"Dancecard erlauben, Ihr DevHub-Konto zu verwenden?", "Bei DevHub anmelden als", "Kurzlebige Tokens", "Zustimmen"} {
		if !strings.Contains(html, want) {
			t.Errorf("German consent page lacks %q", want)
		}
	}
	if strings.Contains(html, "Approve") || strings.Contains(html, "Short-lived tokens") {
		t.Error("the German consent page still has English")
	}
}
