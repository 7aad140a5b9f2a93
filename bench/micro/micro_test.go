// Package micro holds Go benchmarks of the per-request work that the load
// drivers (bench/dances, bench/proxy, bench/loaddriver) cannot separate from
// the HTTP and database round trips around it. Each Dancecard benchmark has a
// baseline beside it, run in the same `go test -bench` invocation: the least
// the same job can cost (the bytes of the page already rendered, bare
// AES-GCM, bare HMAC, the standard library's URL join). See bench/README.md.
package micro

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/web"
)

// profile is the profile page of a user as bench/dances leaves it: one
// connection, the 25 sessions the page lists at most, three API tokens and
// two providers to connect.
func profile() (web.Page, web.Profile) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	v := web.Profile{Email: "ada@example.com", CreatedAt: now.Add(-48 * time.Hour), HasPassword: true,
		ConnectProviders: []web.ProviderButton{{ID: "github", Name: "GitHub"}, {ID: "google", Name: "Google"}}}
	for i := range 25 {
		v.Sessions = append(v.Sessions, web.Session{ID: strconv.Itoa(1000 + i), CreatedAt: now.Add(-time.Duration(i) * time.Minute),
			LastSeenAt: now, UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
			IP: "203.0.113." + strconv.Itoa(i), Current: i == 0})
	}
	v.Connections = []web.Connection{{ID: "17", Provider: "github", ProviderName: "GitHub", Username: "ada",
		Name: "Ada Lovelace", ProfileURL: "https://github.com/ada", AvatarURL: "https://avatars.example/ada.png",
		Email: "ada@example.com", Scopes: []string{"read:user", "repo"}, Status: "active", Primary: true,
		CreatedAt: now.Add(-time.Hour), LastUsedAt: &now}}
	for i := range 3 {
		v.Tokens = append(v.Tokens, web.APIToken{ID: strconv.Itoa(i + 1), Name: "deploy bot " + strconv.Itoa(i),
			Scope: "proxy", Prefix: "dct_abcd" + strconv.Itoa(i), CreatedAt: now, LastUsedAt: &now})
	}
	p := web.Page{Title: "Your profile", CSRFToken: "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE",
		User: &web.User{ID: 1, Email: v.Email}, AssetVersion: "abc123"}
	return p, v
}

// BenchmarkProfilePage renders the profile page (/profile, the connections)
// with templ; the baseline writes the same bytes, already rendered, to the
// same kind of buffer.
func BenchmarkProfilePage(b *testing.B) {
	p, v := profile()
	var page bytes.Buffer
	if err := web.ProfileConnectionsPage(p, v).Render(context.Background(), &page); err != nil {
		b.Fatal(err)
	}
	b.Run("templ", func(b *testing.B) {
		var buf bytes.Buffer
		b.SetBytes(int64(page.Len()))
		for b.Loop() {
			buf.Reset()
			if err := web.ProfileConnectionsPage(p, v).Render(context.Background(), &buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-prerendered", func(b *testing.B) {
		var buf bytes.Buffer
		b.SetBytes(int64(page.Len()))
		for b.Loop() {
			buf.Reset()
			_, _ = io.Copy(&buf, bytes.NewReader(page.Bytes()))
		}
	})
}

var key = bytes.Repeat([]byte{7}, 32)

// BenchmarkSealToken seals a 40-byte access token the way connections store
// it; the baseline is AES-256-GCM with a fresh random nonce and the same
// associated data, without the key ring's version and key id.
func BenchmarkSealToken(b *testing.B) {
	const token, context = "gho_16C7e42F292c6912E7710c838347Ae178B4a", "connection:github:583231:access_token"
	ring, err := links.NewKeyring([][]byte{key})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("keyring", func(b *testing.B) {
		for b.Loop() {
			_ = ring.Seal(token, context)
		}
	})
	b.Run("keyring-open", func(b *testing.B) {
		sealed := ring.Seal(token, context)
		for b.Loop() {
			if _, err := ring.Open(sealed, context); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-aes-gcm", func(b *testing.B) {
		block, _ := aes.NewCipher(key)
		aead, _ := cipher.NewGCM(block)
		for b.Loop() {
			nonce := make([]byte, aead.NonceSize())
			_, _ = rand.Read(nonce)
			_ = aead.Seal(nonce, nonce, []byte(token), []byte(context))
		}
	})
}

// BenchmarkProxyURL checks and builds the upstream URL of a proxied call,
// refusing everything off the API host; the baseline is url.JoinPath, which
// checks nothing.
func BenchmarkProxyURL(b *testing.B) {
	p := &oauth.Provider{ID: "github", APIBaseURL: "https://api.github.com/"}
	const path, query = "repos/dancecard/dancecard/issues/42/comments", "page=2&per_page=50"
	b.Run("dancecard", func(b *testing.B) {
		for b.Loop() {
			if _, err := oauth.APIURL(p, path, query); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-joinpath", func(b *testing.B) {
		for b.Loop() {
			u, err := url.JoinPath(p.APIBaseURL, path)
			if err != nil {
				b.Fatal(err)
			}
			_ = u + "?" + query
		}
	})
}

// BenchmarkWebhookSignature signs a webhook delivery the Standard Webhooks
// way; the baseline is the bare HMAC-SHA256 of the same bytes.
func BenchmarkWebhookSignature(b *testing.B) {
	body, err := events.MarshalEvent(events.Event{ID: 12345, Kind: events.LoginCompleted, UserID: 42, Provider: "github",
		ProviderUserID: "583231", ConnectionID: 17, CreatedAt: time.Now(), Data: map[string]any{"method": "provider"}})
	if err != nil {
		b.Fatal(err)
	}
	const id, ts = "evt_12345", int64(1795000000)
	b.Run("dancecard", func(b *testing.B) {
		for b.Loop() {
			_ = events.SignWebhook(key, id, ts, body)
		}
	})
	b.Run("baseline-hmac", func(b *testing.B) {
		for b.Loop() {
			m := hmac.New(sha256.New, key)
			fmt.Fprintf(m, "%s.%d.", id, ts)
			m.Write(body)
			_ = base64.StdEncoding.EncodeToString(m.Sum(nil))
		}
	})
}
