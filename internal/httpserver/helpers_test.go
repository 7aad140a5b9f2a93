package httpserver_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/config"
	"github.com/dancecard/dancecard/internal/httpserver"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/mail/mailtest"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
	"github.com/dancecard/dancecard/internal/ratelimit"
	"github.com/dancecard/dancecard/web"
)

// testHashKiB is argon2id's memory per password hash in tests: 64 KiB, not
// 46 MiB (accounts.Options.TestHashMemoryKiB).
const testHashKiB = 64

// testServer is a real server on a fresh database behind httptest.
type testServer struct {
	*httptest.Server
	DB       *pgxpool.Pool
	Accounts *accounts.Service
	Links    *links.Service
	Keys     *links.Keyring
	Mail     *mailtest.Server // the SMTP server every mail goes to
	mailer   *mail.Sender
}

// setup is what a test can change before the server is built.
type setup struct {
	trustProviders bool // mfa.provider_logins: trust
	opts           httpserver.Options
	accounts       accounts.Options
	providers      []config.Provider
	signup         links.Signup
	hooks          links.Hooks
}

type serverOption func(*setup)

func withRateLimits(s *setup) { s.opts.Limiter = ratelimit.New(s.opts.DB, true) }
func withoutSignup(s *setup)  { s.opts.SignupLocal = false }

// withProviders configures providers as the configuration file would.
func withProviders(ps ...config.Provider) serverOption {
	return func(s *setup) { s.providers = append(s.providers, ps...) }
}

func withSignup(sg links.Signup) serverOption { return func(s *setup) { s.signup = sg } }

// withVerification sets signup.email_verification.
func withVerification(v accounts.Verification) serverOption {
	return func(s *setup) { s.accounts.Verification = v }
}

// withDevMailbox mounts the dev mailbox at /dev/mail and sends mail there
// instead of to the SMTP server.
func withDevMailbox(s *setup) { s.opts.DevMailbox = mail.NewDevMailbox(s.opts.DB) }

// withTrustedProxies believes X-Forwarded-For from loopback, so a test can
// speak from many addresses.
func withTrustedProxies(s *setup) {
	s.opts.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
}

// withTrustedProviderLogins is mfa.provider_logins: trust.
func withTrustedProviderLogins(s *setup) { s.trustProviders = true }

// withAdminsMustEnrol is mfa.admins_must_enrol: true.
func withAdminsMustEnrol(s *setup) { s.opts.AdminsMustEnrol = true }

// withLocalhost names the server http://localhost:PORT rather than by its
// IP address: browsers refuse an IP address as a passkey's relying party.
func withLocalhost(s *setup) {
	u := *s.opts.BaseURL
	u.Host = "localhost:" + u.Port()
	s.opts.BaseURL = &u
}

func withHooks(h links.Hooks) serverOption { return func(s *setup) { s.hooks = h } }

// newTestServer boots the whole HTTP stack on its own database. Rate limits
// are off unless withRateLimits is given, so tests can log in freely.
func newTestServer(t *testing.T, opts ...serverOption) *testServer {
	t.Helper()
	db := pgtest.New(t)
	secret, err := postgres.Secret(context.Background(), db, "cookie-signing")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + ts.Listener.Addr().String())
	st := &setup{
		opts: httpserver.Options{
			Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
			DB:          db,
			Limiter:     ratelimit.New(db, false),
			BaseURL:     base,
			SignupLocal: true,
			Secret:      secret,
		},
		signup: links.Signup{ViaProvider: true},
	}
	for _, opt := range opts {
		opt(st)
	}
	st.accounts.TestHashMemoryKiB = testHashKiB
	accts := accounts.New(db, st.accounts)
	st.opts.Accounts = accts
	catalog, err := oauth.NewCatalog(st.providers, base)
	if err != nil {
		t.Fatalf("catalog: %v", err)
	}
	keys, _ := links.NewKeyring([][]byte{[]byte("0123456789abcdef0123456789abcdef")})
	accts.SetSecretSealer(keys)
	rp, err := accounts.NewRelyingParty(st.opts.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	accts.SetWebAuthn(rp)
	lk := links.New(links.Options{DB: db, Accounts: accts, Catalog: catalog, Client: oauth.NewClient(oauth.ClientOptions{}),
		Keys: keys, Signup: st.signup, Hooks: st.hooks, Logger: st.opts.Logger, SecondFactorAfterLogin: !st.trustProviders})
	st.opts.Links = lk
	st.opts.Admin = admin.New(db)
	for _, p := range catalog.Enabled() {
		st.opts.Providers = append(st.opts.Providers, httpserver.ProviderInfo{ID: p.ID, Name: p.Name, Mark: p.Mark, Colour: p.Colour})
	}
	// Every /api/v1 exchange is checked against openapi.json.
	ts.Config.Handler = validateAgainstOpenAPI(t, httpserver.New(st.opts).Handler())
	ts.Listener = httpserver.Listener(ts.Listener)
	ts.Start()
	t.Cleanup(ts.Close)
	sink := mailtest.New(t)
	var transport mail.Transport = st.opts.DevMailbox
	if st.opts.DevMailbox == nil {
		if transport, err = mail.NewSMTP(sink.URL()); err != nil {
			t.Fatal(err)
		}
	}
	mailer := mail.NewSender(mail.Options{DB: db, Transport: transport, BaseURL: base, From: "Dancecard <no-reply@example.com>",
		Renderer: mail.RendererFunc(func(o mail.Outgoing) (mail.Rendered, error) {
			subject, text, html, err := web.RenderMail(web.MailData{Kind: string(o.Kind), To: o.To, Data: o.Data,
				LinkURL: o.LinkURL, LinkExpiresAt: o.LinkExpiresAt, BaseURL: base.String(), Lang: o.Lang})
			return mail.Rendered{Subject: subject, Text: text, HTML: html}, err
		}), Logger: st.opts.Logger, Resolver: accts})
	if st.opts.DevMailbox != nil {
		// Mail goes out as soon as it is committed, as in make run.
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); mailer.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	return &testServer{Server: ts, DB: db, Accounts: accts, Links: lk, Keys: keys, Mail: sink, mailer: mailer}
}

// browser is an HTTP client with its own cookie jar that does not follow
// redirects, so tests see every 303.
type browser struct {
	t      *testing.T
	ts     *testServer
	client *http.Client
}

func (ts *testServer) browser(t *testing.T) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, ts: ts, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: string(body), Location: res.Header.Get("Location")}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.ts.URL+path, nil)
	return b.do(req)
}

// csrf fetches a page and returns the CSRF token from its meta tag.
func (b *browser) csrf() string {
	b.t.Helper()
	r := b.get("/login")
	if r.Status == http.StatusSeeOther {
		r = b.get("/profile")
	}
	return csrfFrom(b.t, r.Body)
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

func csrfFrom(t *testing.T, body string) string {
	t.Helper()
	m := csrfMeta.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf meta tag in page:\n%.500s", body)
	}
	return m[1]
}

// post submits a form with the browser's current CSRF token.
func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	form = cloneValues(form)
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", b.csrf())
	}
	return b.postRaw(path, "application/x-www-form-urlencoded", form.Encode())
}

func (b *browser) postRaw(path, contentType, body string) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.ts.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return b.do(req)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// signUp creates an account through the form and leaves the browser logged in.
func (b *browser) signUp(email, password string) {
	b.t.Helper()
	r := b.post("/signup", url.Values{"email": {email}, "password": {password}, "password_confirm": {password}})
	if r.Status != http.StatusSeeOther || r.Location != "/profile" {
		b.t.Fatalf("sign up %s: status %d location %q body:\n%.800s", email, r.Status, r.Location, r.Body)
	}
}

func (b *browser) logIn(email, password string) response {
	b.t.Helper()
	return b.post("/login", url.Values{"email": {email}, "password": {password}})
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.ts.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// count returns the number of rows a query counts.
func (ts *testServer) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := ts.DB.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

const goodPassword = "correct horse battery staple"

func linksSignupOff() links.Signup { return links.Signup{} }

// sendMail sends every mail that is due, as the background sender would.
func (ts *testServer) sendMail(t *testing.T) {
	t.Helper()
	if _, err := ts.mailer.SendDue(t.Context()); err != nil {
		t.Fatalf("send mail: %v", err)
	}
}

// mailTo sends what is due and returns the newest mail to addr.
func (ts *testServer) mailTo(t *testing.T, addr string) mailtest.Parsed {
	t.Helper()
	ts.sendMail(t)
	return ts.Mail.Last(t, addr)
}

// linkIn returns the path and query of the one link with a token in m.
func linkIn(t *testing.T, m mailtest.Parsed) string {
	t.Helper()
	tok := mailtest.TokenIn(t, m.Text)
	for _, line := range strings.Fields(m.Text) {
		if strings.Contains(line, "token="+tok) {
			u, err := url.Parse(line)
			if err != nil {
				t.Fatalf("link %q: %v", line, err)
			}
			return u.RequestURI()
		}
	}
	t.Fatalf("no link with token in:\n%s", m.Text)
	return ""
}
