package oauth

import (
	"context"
	"io"
	"net/http"
	"testing"
)

// TestProfileRequestShapes checks the request shapes presets declare reach
// the wire: Dropbox's POST with "null", Foursquare's token in the query,
// Reddit's User-Agent and Twitch's Client-Id.
func TestProfileRequestShapes(t *testing.T) {
	presets := Presets()
	build := func(name string) *Provider {
		p, err := presets[name].Provider(PresetSettings{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p.ClientID = "cid-123"
		return &p
	}
	dropbox := build("dropbox")
	req, err := profileRequest(context.Background(), dropbox, dropbox.UserinfoURL, dropbox.UserinfoURL)
	if err != nil || req.Method != http.MethodPost {
		t.Fatalf("dropbox: %v %v", req, err)
	}
	if body, _ := io.ReadAll(req.Body); string(body) != "null" || req.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("dropbox body %q", body)
	}
	if other, _ := profileRequest(context.Background(), dropbox, dropbox.APIBaseURL+"x", dropbox.UserinfoURL); other.Method != http.MethodGet {
		t.Fatal("a follow-up request was not a GET")
	}

	fsq := build("foursquare")
	req, _ = profileRequest(context.Background(), fsq, fsq.UserinfoURL, fsq.UserinfoURL)
	bearer(fsq, "tok-1")(req)
	if req.URL.Query().Get("oauth_token") != "tok-1" || req.URL.Query().Get("v") != "20240101" || req.Header.Get("Authorization") != "" {
		t.Fatalf("foursquare request %s, Authorization %q", req.URL, req.Header.Get("Authorization"))
	}

	reddit := build("reddit")
	req, _ = profileRequest(context.Background(), reddit, reddit.UserinfoURL, reddit.UserinfoURL)
	bearer(reddit, "tok-2")(req)
	if req.Header.Get("User-Agent") == "" || req.Header.Get("Authorization") != "Bearer tok-2" {
		t.Fatalf("reddit headers %v", req.Header)
	}

	twitch := build("twitch")
	req, _ = profileRequest(context.Background(), twitch, twitch.APIBaseURL+"users", "")
	if req.Header.Get("Client-Id") != "cid-123" {
		t.Fatalf("twitch Client-Id %q", req.Header.Get("Client-Id"))
	}
}
