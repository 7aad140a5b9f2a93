package httpserver_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/dancecard/dancecard/internal/browsertest"
)

// passkeyScript is what the page's own script would do, in pieces a test
// can take apart: begin() asks for a log-in ceremony, sign(o, tamper) has
// the browser's navigator.credentials.get answer it (with one bit of the
// challenge flipped first when tamper is set), and post() sends JSON with
// the page's CSRF token. It is pasted into every evaluation, as each
// navigation forgets it.
const passkeyScript = `
const b64 = s => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), c => c.charCodeAt(0));
const enc = buf => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const post = async (path, body) => {
  const r = await fetch(path, {method: "POST", credentials: "same-origin", body: JSON.stringify(body), headers: {
    "Content-Type": "application/json", Accept: "application/json",
    "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content}});
  return {status: r.status, body: await r.text()};
};
const begin = async () => {
  const r = await post("/login/passkey/options", {});
  if (r.status !== 200) throw new Error("options: " + r.status + " " + r.body);
  return JSON.parse(r.body);
};
const sign = async (o, tamper) => {
  const pk = o.options.publicKey;
  pk.challenge = b64(pk.challenge);
  if (tamper) pk.challenge[0] ^= 1;
  pk.allowCredentials = (pk.allowCredentials || []).map(d => ({...d, id: b64(d.id)}));
  const c = await navigator.credentials.get({publicKey: pk});
  const r = c.response;
  return {id: c.id, rawId: enc(c.rawId), type: c.type, clientExtensionResults: c.getClientExtensionResults(),
    response: {clientDataJSON: enc(r.clientDataJSON), authenticatorData: enc(r.authenticatorData),
      signature: enc(r.signature), userHandle: enc(r.userHandle)}};
};
`

// signedPasskey is a ceremony and the browser's answer to it.
type signedPasskey struct {
	Ceremony   string          `json:"ceremony"`
	Credential json.RawMessage `json:"credential"`
}

// passkeyReply is the server's answer to a posted passkey.
type passkeyReply struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// runPasskeyScript evaluates body after passkeyScript in the page, waiting
// for the promise it returns; args are given to it as the constant args.
func runPasskeyScript[T any](b *browsertest.Browser, what, body string, args any) T {
	var out T
	a, _ := json.Marshal(args)
	js := "(async () => {" + passkeyScript + "const args = " + string(a) + ";" + body + "})()"
	b.Do(what, chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
		out, err = chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise)(ctx, t)
		return err
	}))
	return out
}

// signPasskey begins a log-in and has the virtual authenticator answer it.
func signPasskey(b *browsertest.Browser, tamper bool) signedPasskey {
	return runPasskeyScript[signedPasskey](b, "sign a passkey log-in",
		`const o = await begin(); return {ceremony: o.ceremony, credential: await sign(o, args)};`, tamper)
}

// postPasskey posts an answer to /login/passkey, as the page's script does.
func postPasskey(b *browsertest.Browser, s signedPasskey) passkeyReply {
	return runPasskeyScript[passkeyReply](b, "post a passkey answer",
		`return await post("/login/passkey", {ceremony: args.ceremony, credential: args.credential, next: ""});`, s)
}

// hasSessionCookie reports whether the browser holds a session cookie.
func hasSessionCookie(b *browsertest.Browser, base string) bool {
	var found bool
	b.Do("read the cookies", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
		for _, c := range res.Cookies {
			found = found || strings.HasSuffix(c.Name, "dc_session")
		}
		return err
	}))
	return found
}

// wantPasskeyRefused posts s and checks that the server refuses it with a
// JSON error and starts no session, that a login_failed event with reason
// is recorded on the account, and that the ceremony is used up: the same
// answer again finds no ceremony, and records nothing.
func wantPasskeyRefused(t *testing.T, ts *testServer, b *browsertest.Browser, base, email string, s signedPasskey, reason string) {
	t.Helper()
	const failed = `SELECT count(*) FROM events e JOIN users u ON u.id = e.user_id
		WHERE u.email = $1 AND e.kind = 'login_failed' AND e.data->>'method' = 'passkey' AND e.reason = $2`
	const anyFailed = `SELECT count(*) FROM events WHERE kind = 'login_failed'`
	sessions, failures, fails := ts.count(t, `SELECT count(*) FROM sessions`), ts.count(t, failed, email, reason), ts.count(t, anyFailed)

	r := postPasskey(b, s)
	var body struct{ Error string }
	if r.Status != http.StatusBadRequest || json.Unmarshal([]byte(r.Body), &body) != nil || !strings.Contains(body.Error, "not accepted") {
		t.Fatalf("answer: %d %s, want 400 with the passkey not accepted", r.Status, r.Body)
	}
	if hasSessionCookie(b, base) {
		t.Fatal("a refused passkey left a session cookie")
	}
	wantCount(t, ts, sessions, `SELECT count(*) FROM sessions`)
	wantCount(t, ts, failures+1, failed, email, reason)
	wantCount(t, ts, fails+1, anyFailed)

	if r = postPasskey(b, s); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "expired or was already used") {
		t.Fatalf("the same answer again: %d %s, want the ceremony used up", r.Status, r.Body)
	}
	wantCount(t, ts, fails+1, anyFailed)
	wantCount(t, ts, 0, `SELECT count(*) FROM webauthn_ceremonies`)
}

// wantPasskeyLogin posts s and checks that it logs in, then logs out
// through the page.
func wantPasskeyLogin(t *testing.T, b *browsertest.Browser, base string, s signedPasskey) {
	t.Helper()
	if r := postPasskey(b, s); r.Status != http.StatusOK || !strings.Contains(r.Body, `"next"`) || !hasSessionCookie(b, base) {
		t.Fatalf("log-in: %d %s", r.Status, r.Body)
	}
	b.Open("/profile", "#connections-title")
	b.Submit("Log out", "/", "#hero-title")
}

// clientOrigin is the origin the browser wrote into an answer's
// clientDataJSON, the data its authenticator signed.
func clientOrigin(t *testing.T, s signedPasskey) string {
	t.Helper()
	var cred struct {
		Response struct{ ClientDataJSON string }
	}
	var data struct{ Origin string }
	err := json.Unmarshal(s.Credential, &cred)
	raw, _ := base64.RawURLEncoding.DecodeString(cred.Response.ClientDataJSON)
	if err != nil || json.Unmarshal(raw, &data) != nil {
		t.Fatalf("no clientDataJSON in %s", s.Credential)
	}
	return data.Origin
}

// copyPasskey exports the authenticator's one passkey, private key and
// signature counter included, as a cloner would.
func copyPasskey(t *testing.T, b *browsertest.Browser, key cdpwebauthn.AuthenticatorID) *cdpwebauthn.Credential {
	t.Helper()
	var copied *cdpwebauthn.Credential
	b.Do("copy the passkey", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, cdpwebauthn.GetCredentials, cdpwebauthn.GetCredentialsParams{AuthenticatorID: key})
		if err == nil && len(res.Credentials) == 1 {
			copied = res.Credentials[0]
		}
		return err
	}))
	if copied == nil || len(copied.PrivateKey) == 0 || copied.SignCount == 0 {
		t.Fatalf("the authenticator's passkey: %+v, want one with its key and a counter", copied)
	}
	return copied
}

// addCredential is WebAuthn.addCredential without the fields of the CMTG
// extension: cdproto always sends generateCmtgKeyOnNextOperation, and
// Chromium refuses the command for an authenticator without the extension
// even when it is false.
func addCredential(ctx context.Context, t *chromedp.Target, key cdpwebauthn.AuthenticatorID, c *cdpwebauthn.Credential) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	var cred map[string]any
	if err := json.Unmarshal(raw, &cred); err != nil {
		return err
	}
	delete(cred, "generateCmtgKeyOnNextOperation")
	type params struct {
		AuthenticatorID cdpwebauthn.AuthenticatorID `json:"authenticatorId"`
		Credential      map[string]any              `json:"credential"`
	}
	add := cdp.Command[params, cdp.Empty]{Method: cdpwebauthn.CommandAddCredential}
	_, err = cdp.Call(ctx, t, add, params{key, cred})
	return err
}

// newRelay starts a phishing relay in front of real: it forwards every
// request and says the browser came from real's own origin, so the server's
// CSRF and origin checks pass and only what the browser signed tells.
func newRelay(t *testing.T, real *url.URL, origin string) *httptest.Server {
	t.Helper()
	relay := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(real)
		r.Out.Host = strings.TrimPrefix(origin, "http://")
		if r.In.Header.Get("Origin") != "" {
			r.Out.Header.Set("Origin", origin)
		}
		if ref, err := url.Parse(r.In.Header.Get("Referer")); err == nil && ref.Host != "" {
			r.Out.Header.Set("Referer", origin+ref.RequestURI())
		}
	}})
	t.Cleanup(relay.Close)
	return relay
}

// TestBrowserPasskeyRefusals proves, with real navigator.credentials.get
// calls in Chromium and its virtual authenticator, that the server refuses
// a passkey answer to a tampered challenge, a replayed answer, one signed
// for a phishing relay's origin, and one from a cloned authenticator.
func TestBrowserPasskeyRefusals(t *testing.T) {
	ts := newTestServer(t, withLocalhost)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	real, _ := url.Parse(ts.URL)
	base := "http://localhost:" + real.Port()
	b := browsertest.New(t, ctx, base)
	key, _ := addVirtualAuthenticator(b)

	// A passkey added on the profile, as in the journey. Nobody opens
	// /login, whose autofill would answer by itself: every ceremony here
	// is the test's own, begun from the home page.
	const email = "ref@example.com"
	b.Open("/signup", `form[action="/signup"]`)
	b.Fill("email", email, "password", goodPassword, "password_confirm", goodPassword)
	b.Submit("Create account", "/profile", "#connections-title")
	b.Follow("Security", "/profile/security", "#passkeys-title")
	b.Fill("passkey-name", "Virtual key")
	b.Submit("Add a passkey", "/profile/security", ".passkey-name")
	b.Submit("Log out", "/", "#hero-title")
	const logins = `SELECT count(*) FROM events WHERE kind = 'login_completed' AND data->>'method' = 'passkey'`

	// 1. The browser signs a challenge other than the one the server gave.
	wantPasskeyRefused(t, ts, b, base, email, signPasskey(b, true), "Error validating challenge")

	// 2. A good answer logs in once; replayed with a new ceremony, or with
	// its own again, it is refused.
	old := signPasskey(b, false)
	wantPasskeyLogin(t, b, base, old)
	wantCount(t, ts, 1, logins)
	fresh := runPasskeyScript[string](b, "begin a log-in", `return (await begin()).ceremony;`, nil)
	wantPasskeyRefused(t, ts, b, base, email, signedPasskey{Ceremony: fresh, Credential: old.Credential}, "Error validating challenge")
	if r := postPasskey(b, old); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "expired or was already used") {
		t.Fatalf("the answer replayed with its own ceremony: %d %s", r.Status, r.Body)
	}
	wantCount(t, ts, 2, `SELECT count(*) FROM events WHERE kind = 'login_failed'`)

	// 3. A phishing relay on another port: the browser signs for the
	// relay's origin (the relying party localhost fits any port), and the
	// relay passes the answer on as if from the real page.
	relay, _ := url.Parse(newRelay(t, real, base).URL)
	phish := "http://localhost:" + relay.Port()
	b.Do("open the relay", chromedp.Navigate(phish+"/"), chromedp.WaitVisible(chromedp.CSS("#hero-title")))
	relayed := signPasskey(b, false)
	if got := clientOrigin(t, relayed); got != phish {
		t.Fatalf("the browser signed for %s, want the relay's %s", got, phish)
	}
	wantPasskeyRefused(t, ts, b, base, email, relayed, "Error validating origin")
	b.Open("/", "#hero-title")

	// 4. A cloned authenticator: a copy of the passkey taken before a
	// log-in signs with a counter the server has already seen.
	copied := copyPasskey(t, b, key)
	wantPasskeyLogin(t, b, base, signPasskey(b, false))
	wantCount(t, ts, 2, logins)
	var stored int64
	if err := ts.DB.QueryRow(ctx, `SELECT sign_count FROM passkeys`).Scan(&stored); err != nil || stored <= int64(copied.SignCount) {
		t.Fatalf("stored counter %d (%v), want past the copy's %v", stored, err, copied.SignCount)
	}
	b.Do("swap the passkey for its copy", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, cdpwebauthn.RemoveCredential,
			cdpwebauthn.RemoveCredentialParams{AuthenticatorID: key, CredentialID: copied.CredentialID}); err != nil {
			return err
		}
		return addCredential(ctx, t, key, copied)
	}))
	wantPasskeyRefused(t, ts, b, base, email, signPasskey(b, false), "signature counter went back")
	wantCount(t, ts, 1, `SELECT count(*) FROM passkeys WHERE sign_count = $1`, stored)
	wantCount(t, ts, 2, logins)
}
