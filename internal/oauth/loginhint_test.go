package oauth

import (
	"net/url"
	"testing"
)

// TestWithLoginHint: a reconnect's hint goes out as the provider's own
// parameter (GitHub's login, Twitter's screen_name), else login_hint, next
// to what the authorization URL already carries.
func TestWithLoginHint(t *testing.T) {
	presets := Presets()
	gh, err := presets["github"].Provider(PresetSettings{})
	if err != nil {
		t.Fatal(err)
	}
	tw, err := presets["twitter"].Provider(PresetSettings{})
	if err != nil {
		t.Fatal(err)
	}
	const auth = "https://example.com/authorize?client_id=x&state=s%2Bt"
	for _, tc := range []struct {
		p     Provider
		param string
	}{{gh, "login"}, {tw, "screen_name"}, {Provider{ID: "custom"}, "login_hint"}} {
		got, err := WithLoginHint(&tc.p, auth, "ada lovelace")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(got)
		if q := u.Query(); q.Get(tc.param) != "ada lovelace" || q.Get("state") != "s+t" || q.Get("client_id") != "x" {
			t.Errorf("%s: %s", tc.param, got)
		}
	}
	if got, _ := WithLoginHint(&gh, auth, ""); got != auth {
		t.Errorf("no hint changed the URL: %s", got)
	}
}
