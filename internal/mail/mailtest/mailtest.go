// Package mailtest is an in-process SMTP server for tests: it keeps the
// messages it accepts, can go down and come back on the same address, or
// refuse DATA with 451, and takes received mail apart so tests can follow
// the links in it.
package mailtest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Server is an in-process SMTP server that keeps what it accepts, and can be
// stopped, restarted on the same address, or told to refuse DATA with 451.
type Server struct {
	addr   string
	Reject atomic.Bool // answer DATA with 451

	mu       sync.Mutex
	got      [][]byte // accepted messages
	rejected [][]byte // messages refused with 451
	srv      *smtp.Server
	ln       net.Listener
	done     chan struct{}
	Auth     func(user, pass string) bool // non-nil: require AUTH PLAIN
	TLS      *tls.Config                  // non-nil: TLS from the first byte, as smtps
}

// New starts a sink on a free loopback port, stopped when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := Down(t)
	s.Start(t)
	return s
}

// Down reserves a loopback address with nothing listening on it yet:
// an SMTP server that is down.
func Down(t testing.TB) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{addr: l.Addr().String()}
	l.Close()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) Start(t testing.TB) {
	t.Helper()
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Fatalf("mailtest: listen on %s again: %v", s.addr, err)
	}
	if s.TLS != nil {
		l = tls.NewListener(l, s.TLS)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{s: s}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	s.mu.Lock()
	s.srv, s.ln, s.done = srv, l, done
	s.mu.Unlock()
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
}

// Stop closes the listener and every connection, as a server going down.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln, done := s.srv, s.ln, s.done
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		// Serve may not have registered the listener with the server yet.
		ln.Close()
		srv.Close()
		<-done
	}
}

// Messages returns the accepted messages so far.
func (s *Server) Messages() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.got...)
}

// Refused returns the messages refused with 451 so far.
func (s *Server) Refused() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.rejected...)
}

// WaitFor waits until n messages were accepted and returns them.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) [][]byte {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := s.Messages()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailtest: %d messages after %v, want %d", len(got), timeout, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type session struct {
	s    *Server
	user string
	rcpt string
}

func (x *session) Mail(string, *smtp.MailOptions) error {
	if x.s.Auth != nil && x.user == "" {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.rcpt = to
	return nil
}
func (x *session) Reset()        {}
func (x *session) Logout() error { return nil }

// AuthMechanisms and Auth offer AUTH PLAIN, checked by sink.auth.
func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if x.s.Auth == nil || !x.s.Auth(user, pass) {
			return errors.New("bad credentials")
		}
		x.user = user
		return nil
	}), nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.Reject.Load() {
		x.s.rejected = append(x.s.rejected, b)
		// Like real servers, quote the address, which must not reach events.
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailbox <" + x.rcpt + "> busy, try again later"}
	}
	x.s.got = append(x.s.got, b)
	return nil
}

// Parsed is a received mail taken apart with net/mail and mime/multipart.
type Parsed struct {
	Header     netmail.Header
	Subject    string
	Text, HTML string
}

// Parse checks raw is a multipart/alternative mail with a text and an HTML
// part, and returns its pieces.
func Parse(t testing.TB, raw []byte) Parsed {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse mail: %v", err)
	}
	p := Parsed{Header: m.Header}
	if p.Subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		body, err := io.ReadAll(part) // quoted-printable is decoded by NextPart
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		switch ct {
		case "text/plain":
			p.Text = string(body)
		case "text/html":
			p.HTML = string(body)
		default:
			t.Fatalf("unexpected part %q", ct)
		}
	}
	if p.Text == "" || p.HTML == "" {
		t.Fatalf("want a text and an HTML part, got text %q html %q", p.Text, p.HTML)
	}
	return p
}

var tokenRE = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

// TokenIn returns the token of the one link in text.
func TokenIn(t testing.TB, text string) string {
	t.Helper()
	m := tokenRE.FindAllStringSubmatch(text, -1)
	if len(m) != 1 {
		t.Fatalf("want one link in %q, found %d", text, len(m))
	}
	return m[0][1]
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// URL is the smtp:// URL that sends to this server.
func (s *Server) URL() string { return "smtp://" + s.addr }

// To returns the parsed messages accepted for address to, oldest first.
func (s *Server) To(t testing.TB, to string) []Parsed {
	t.Helper()
	var out []Parsed
	for _, raw := range s.Messages() {
		p := Parse(t, raw)
		if addrs, err := p.Header.AddressList("To"); err == nil && len(addrs) == 1 && strings.EqualFold(addrs[0].Address, to) {
			out = append(out, p)
		}
	}
	return out
}

// Last returns the newest message accepted for to, failing the test when
// there is none.
func (s *Server) Last(t testing.TB, to string) Parsed {
	t.Helper()
	got := s.To(t, to)
	if len(got) == 0 {
		t.Fatalf("mailtest: no mail to %s among %d messages", to, len(s.Messages()))
	}
	return got[len(got)-1]
}
