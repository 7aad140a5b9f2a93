package mail_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/mail/mailtest"
)

func TestNewSMTPChecksTheURL(t *testing.T) {
	t.Parallel()
	good := []string{
		"smtp://mail.example.com",
		"smtp://mail.example.com:2525",
		"smtp://user:s3cret@mail.example.com",
		"smtp://user%40example.com:p%40ss@mail.example.com:587/",
		"smtps://mail.example.com",
		"smtps://user:pass@mail.example.com:4650",
		"smtp://127.0.0.1:1025",
		"smtp://localhost:1025",
		"smtp://[::1]:1025",
	}
	for _, u := range good {
		if _, err := mail.NewSMTP(u); err != nil {
			t.Errorf("NewSMTP(%q): %v", u, err)
		}
	}
	bad := map[string]string{
		"":                                  "scheme",
		"mail.example.com":                  "scheme",
		"http://mail.example.com":           "scheme",
		"smtp://":                           "host",
		"smtp://:25":                        "host",
		"smtp://mail.example.com:0":         "port",
		"smtp://mail.example.com:65536":     "port",
		"smtp://mail.example.com:smtp":      "", // url.Parse refuses it
		"smtp://mail.example.com/relay":     "path",
		"smtp://mail.example.com?tls=no":    "query",
		"smtp://user:hunter2%zz@mail.x.com": "",
	}
	for u, mention := range bad {
		_, err := mail.NewSMTP(u)
		if err == nil {
			t.Errorf("NewSMTP(%q) accepted it", u)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "mail.smtp_url") || !strings.Contains(msg, mention) || strings.Contains(msg, "hunter2") {
			t.Errorf("NewSMTP(%q): %q should name mail.smtp_url and %q, and never the password", u, msg, mention)
		}
	}
}

func TestSMTPMessageHeaders(t *testing.T) {
	t.Parallel()
	s := mailtest.New(t)
	err := newSMTP(t, s.URL()).Send(context.Background(), mail.Envelope{
		From: testFrom, To: "uma@example.com", MessageID: "abc.1@dancecard.test",
		Subject: "Grüße\r\nBcc: eve@example.com", Text: "plain ünïcode", HTML: "<p>html</p>",
	})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := mailtest.Parse(t, s.Messages()[0])
	checkHeaders(t, m, "uma@example.com", "Grüße Bcc: eve@example.com")
	if id := m.Header.Get("Message-Id"); id != "<abc.1@dancecard.test>" {
		t.Errorf("Message-ID = %q", id)
	}
	if m.Header.Get("Bcc") != "" {
		t.Error("a line break in the subject became a Bcc header")
	}
	if m.Text != "plain ünïcode" || m.HTML != "<p>html</p>" {
		t.Errorf("bodies %q, %q", m.Text, m.HTML)
	}
}

func TestSMTPAuth(t *testing.T) {
	t.Parallel()
	s := mailtest.Down(t)
	s.Auth = func(user, pass string) bool { return user == "relay" && pass == "s3cret" }
	s.Start(t)
	env := mail.Envelope{From: testFrom, To: "vic@example.com", Subject: "s", Text: "t", HTML: "h"}
	good, err := mail.NewSMTP("smtp://relay:s3cret@" + s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Send(context.Background(), env); err != nil {
		t.Fatalf("Send with the right password: %v", err)
	}
	bad, err := mail.NewSMTP("smtp://relay:wrong-pw@" + s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	err = bad.Send(context.Background(), env)
	if err == nil || strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("Send with a wrong password: %v", err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages arrived, want 1", n)
	}
}

func TestSMTPOverIPv6Loopback(t *testing.T) {
	t.Parallel()
	s := mailtest.New(t)
	addr := relay(t, "::1", s) // skips without an IPv6 loopback
	env := mail.Envelope{From: testFrom, To: "yan@example.com", Subject: "s", Text: "t", HTML: "h"}
	if err := newSMTP(t, "smtp://"+addr).Send(context.Background(), env); err != nil {
		t.Fatalf("Send to %s: %v", addr, err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages arrived, want 1", n)
	}
}

func TestSMTPSUsesTLSFromTheFirstByte(t *testing.T) {
	t.Parallel()
	// httptest's certificate is signed by a CA nobody trusts: the
	// handshake fails, which proves there is one.
	ts := httptest.NewTLSServer(nil)
	cfg := ts.TLS.Clone()
	ts.Close()
	s := mailtest.Down(t)
	s.TLS = cfg
	s.Start(t)
	tr, err := mail.NewSMTP("smtps://" + s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	env := mail.Envelope{From: testFrom, To: "zoe@example.com", Subject: "s", Text: "t", HTML: "h"}
	if err := tr.Send(context.Background(), env); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Send over smtps to an untrusted certificate: %v, want a certificate error", err)
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("%d messages arrived", n)
	}
}

func TestSMTPRequiresSTARTTLSBeyondLoopback(t *testing.T) {
	t.Parallel()
	s := mailtest.New(t) // offers no STARTTLS
	addr := relay(t, nonLoopbackIP(t), s)
	env := mail.Envelope{From: testFrom, To: "wes@example.com", Subject: "s", Text: "t", HTML: "h"}
	err := newSMTP(t, "smtp://"+addr).Send(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("Send to %s without STARTTLS: %v, want a STARTTLS error", addr, err)
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("%d messages went out in the clear", n)
	}
}

// relay listens on a free port of host and passes every connection through
// to s, which listens on 127.0.0.1 only, so the client under test dials
// host. It returns the address it listens on, and skips the test when host
// cannot be listened on.
func relay(t *testing.T, host string, s *mailtest.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", host, err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return // l closed
			}
			up, err := net.Dial("tcp", s.Addr())
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Add(2)
			go pipe(&wg, up, c)
			go pipe(&wg, c, up)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

// pipe copies from src to dst, then closes both so the other direction
// ends too.
func pipe(wg *sync.WaitGroup, dst, src net.Conn) {
	defer wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// nonLoopbackIP returns an IPv4 address of this machine that is not
// loopback, or skips the test.
func nonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skip(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address")
	return ""
}

func TestDevMailbox(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	box := mail.NewDevMailbox(e.db)
	user := newUser(t, e.db, "xia@example.com")
	enqueue(t, e.db, mail.Message{UserID: user, To: "xia@example.com", Kind: mail.KindNotice, Data: map[string]string{"notice": "mfa_changed"}})
	enqueue(t, e.db, verifyMail(user, "xia@example.com"))
	sendDue(t, e.sender(t, func(o *mail.Options) { o.Transport = box }), 2)
	if n := len(e.sink.Messages()); n != 0 {
		t.Errorf("%d messages went over SMTP", n)
	}

	list, err := box.List(ctx, 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	newest := list[0]
	if newest.ID <= list[1].ID || newest.To != "xia@example.com" || newest.From != testFrom ||
		newest.Subject != "Dancecard verify_email for xia@example.com" || !strings.Contains(newest.HTML, "token=") {
		t.Errorf("newest message %+v", newest)
	}
	token := mailtest.TokenIn(t, newest.Text)
	if _, err := mail.LookupLink(ctx, e.db, token, mail.PurposeVerifyEmail); err != nil {
		t.Errorf("the dev mailbox's link: %v", err)
	}
	if got, err := box.Get(ctx, newest.ID); err != nil || got != newest {
		t.Errorf("Get = %+v, %v; want %+v", got, err, newest)
	}
	if _, err := box.Get(ctx, newest.ID+100); !errors.Is(err, mail.ErrNotFound) {
		t.Errorf("Get of an unknown id: %v, want ErrNotFound", err)
	}
	if one, err := box.List(ctx, 1); err != nil || len(one) != 1 || one[0].ID != newest.ID {
		t.Errorf("List(1) = %+v, %v", one, err)
	}
}
