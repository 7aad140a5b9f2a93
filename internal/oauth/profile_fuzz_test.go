package oauth_test

import (
	"testing"

	"github.com/dancecard/dancecard/internal/oauth"
)

// FuzzMapJSON feeds arbitrary provider responses and mapping paths to
// MapJSON: it must never panic, and whatever it accepts must carry an id.
func FuzzMapJSON(f *testing.F) {
	for _, seed := range []string{
		`{"id": 1, "login": "octo", "email": "o@example.com", "avatar_url": "https://a.example/x.png"}`,
		`{"id_str": "1234567890123456789", "screen_name": "bird"}`,
		`{"data": {"user": {"id": "u1", "emails": [{"value": "a@b.c", "verified": "true"}]}}}`,
		`{"id": 12345678901234567890123}`, `{"id": null}`, `{"id": true}`, `{"id": "  "}`,
		`[]`, `null`, `"x"`, `{`, `{"id": "\u0000"}`, "{\"id\": \"\xff\"}",
	} {
		f.Add([]byte(seed), "id")
	}
	f.Add([]byte(`{"data": {"user": {"id": "u1"}}}`), "data.user.id")
	f.Add([]byte(`{"a": [[{"b": 1}]]}`), "a.0.0.b")
	f.Add([]byte(`{"a": [1]}`), "a.-1")
	f.Fuzz(func(t *testing.T, raw []byte, idPath string) {
		m := oauth.ProfileMap{ID: idPath, Username: "login", Name: "data.user.name", Email: "email",
			EmailVerified: "data.user.emails.0.verified", AvatarURL: "avatar_url", ProfileURL: "a.0"}
		p, err := oauth.MapJSON(raw, m)
		if err == nil && p.ID == "" {
			t.Fatalf("MapJSON(%q) accepted a profile without an id", raw)
		}
		if err == nil && p.Email == "" && p.EmailVerified {
			t.Fatalf("verified without an email: %+v", p)
		}
	})
}
