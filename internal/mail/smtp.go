package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// smtpTimeout bounds one SMTP conversation, dial to QUIT.
const smtpTimeout = 30 * time.Second

// smtpTransport sends through one SMTP server.
type smtpTransport struct {
	host        string // as go-mail wants it: an IPv6 literal in brackets
	serverName  string // for certificate checks
	port        int
	implicitTLS bool
	policy      gomail.TLSPolicy
	user        string
	password    string
}

// NewSMTP returns a Transport for smtpURL (the mail.smtp_url setting):
//
//	smtp://[user:pass@]host[:port]   port 587, STARTTLS required
//	smtps://[user:pass@]host[:port]  port 465, TLS from the first byte
//
// STARTTLS is required because the mail carries links that take over an
// account; only for a loopback host (a local relay, Mailpit, a test server)
// is it used when offered and skipped otherwise. Credentials are sent only
// over TLS, or in the clear to a loopback host.
func NewSMTP(smtpURL string) (Transport, error) {
	u, err := url.Parse(smtpURL)
	if err != nil {
		// url's errors quote the input, password and all.
		return nil, errors.New("mail.smtp_url: not a valid URL")
	}
	t := &smtpTransport{serverName: u.Hostname(), policy: gomail.TLSMandatory}
	switch u.Scheme {
	case "smtp":
		t.port = 587
	case "smtps":
		t.port, t.implicitTLS = 465, true
	default:
		return nil, fmt.Errorf("mail.smtp_url: the scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if t.serverName == "" {
		return nil, errors.New("mail.smtp_url: no host")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, errors.New("mail.smtp_url: only smtp[s]://[user:pass@]host[:port] is understood (no path or query)")
	}
	if p := u.Port(); p != "" {
		t.port, err = strconv.Atoi(p)
		if err != nil || t.port < 1 || t.port > 65535 {
			return nil, fmt.Errorf("mail.smtp_url: port %q is not a number from 1 to 65535", p)
		}
	}
	// go-mail joins host and port with a bare colon.
	t.host = t.serverName
	if strings.Contains(t.host, ":") {
		t.host = "[" + t.host + "]"
	}
	if isLoopback(t.serverName) {
		t.policy = gomail.TLSOpportunistic
	}
	if u.User != nil {
		t.user = u.User.Username()
		t.password, _ = u.User.Password()
	}
	if _, err := t.client(nil); err != nil {
		return nil, fmt.Errorf("mail.smtp_url: %w", err)
	}
	return t, nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// client makes a go-mail client per send (its clients keep per-connection
// state, so one is not shared between concurrent sends) that dials with
// dial.
func (t *smtpTransport) client(dial gomail.DialContextFunc) (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(t.port), gomail.WithTimeout(smtpTimeout),
		gomail.WithTLSPolicy(t.policy), gomail.WithTLSConfig(t.tlsConfig())}
	if t.implicitTLS {
		opts = append(opts, gomail.WithSSL()) // and no STARTTLS
	}
	if dial != nil {
		opts = append(opts, gomail.WithDialContextFunc(dial))
	}
	if t.user != "" {
		// PLAIN and LOGIN refuse to run without TLS, except to localhost.
		opts = append(opts, gomail.WithUsername(t.user), gomail.WithPassword(t.password),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
				gomail.SMTPAuthCramMD5, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	return gomail.NewClient(t.host, opts...)
}

func (t *smtpTransport) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: t.serverName, MinVersion: tls.VersionTLS12}
}

// Send delivers e over one SMTP conversation as a multipart/alternative
// mail with a text and an HTML part.
func (t *smtpTransport) Send(ctx context.Context, e Envelope) error {
	m, err := message(e)
	if err != nil {
		return err
	}
	// Dial here, so the connection is closed whatever happens: go-mail
	// leaves it open when the greeting, STARTTLS or QUIT fails.
	var raw net.Conn
	defer func() {
		if raw != nil {
			raw.Close()
		}
	}()
	c, err := t.client(func(ctx context.Context, network, addr string) (conn net.Conn, err error) {
		if t.implicitTLS {
			raw, err = (&tls.Dialer{Config: t.tlsConfig()}).DialContext(ctx, network, addr)
		} else {
			raw, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		return raw, err
	})
	if err != nil {
		return t.scrub(err)
	}
	ctx, cancel := context.WithTimeout(ctx, smtpTimeout)
	defer cancel()
	conn, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return t.scrub(fmt.Errorf("smtp %s: %w", t.host, err))
	}
	// Once the server has accepted the data the mail is sent, whatever
	// QUIT then says: reporting a failure would send it again, and the
	// retry's new link would disable the one already delivered.
	defer c.CloseWithSMTPClient(conn)
	if err := c.SendWithSMTPClient(conn, m); err != nil {
		return t.scrub(fmt.Errorf("smtp %s: %w", t.host, err))
	}
	return nil
}

// message builds the MIME message for e.
func message(e Envelope) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(e.From); err != nil {
		return nil, fmt.Errorf("from address: %w", err)
	}
	if err := m.To(e.To); err != nil {
		// go-mail's error quotes the address; the caller's logs must not.
		return nil, errors.New("the recipient address is not valid")
	}
	// A line break in a subject would start a header of its own.
	m.Subject(strings.Join(strings.Fields(e.Subject), " "))
	m.SetDate()
	if e.MessageID != "" {
		m.SetMessageIDWithValue(e.MessageID)
	} else {
		m.SetMessageID()
	}
	m.SetBodyString(gomail.TypeTextPlain, e.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	return m, nil
}

// scrub keeps the SMTP password out of an error, should a server or the
// library ever quote it.
func (t *smtpTransport) scrub(err error) error {
	if t.password == "" || !strings.Contains(err.Error(), t.password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), t.password, "[redacted]"))
}
