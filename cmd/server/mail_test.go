package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/mail/mailtest"
)

// signUpOver signs up through the real server at base and returns the
// client, logged in.
func signUpOver(t *testing.T, base, email string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res, err := client.Get(base + "/signup")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatal("no csrf token on /signup")
	}
	const pw = "correct horse battery staple"
	res, err = client.PostForm(base+"/signup", url.Values{"email": {email}, "password": {pw}, "password_confirm": {pw}, "csrf_token": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/profile" {
		t.Fatalf("sign-up ended at %s", res.Request.URL)
	}
	return client
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestDevMailbox: make run's dev mode delivers mail to /dev/mail, with the
// link clickable, within moments of the sign-up.
func TestDevMailbox(t *testing.T) {
	s := startServe(t, nil)
	c := signUpOver(t, s.base, "newbie@example.com")
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, list := get(t, c, s.base+"/dev/mail")
		if m := regexp.MustCompile(`href="(/dev/mail/\d+)"`).FindStringSubmatch(list); m != nil {
			_, msg := get(t, c, s.base+m[1])
			if !strings.Contains(msg, `href="`+s.base+`/email/verify?token=`) {
				t.Fatalf("message has no clickable link:\n%.800s", msg)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail in the dev mailbox:\n%.800s", list)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(logLines(s.out.String()), "token=") {
		t.Error("a link secret appears in a log line")
	}
}

// TestSMTPOutsideDevMode: with mail.smtp_url the same mail goes over SMTP,
// and the dev mailbox is not mounted.
func TestSMTPOutsideDevMode(t *testing.T) {
	sink := mailtest.New(t)
	s := startServe(t, map[string]string{
		"DANCECARD_DEV":                "",
		"DANCECARD_INSECURE_TRANSPORT": "true",
		"DANCECARD_TOKEN_KEYS":         "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"DANCECARD_MAIL_SMTP_URL":      sink.URL(),
	})
	c := signUpOver(t, s.base, "prod@example.com")
	got := sink.WaitFor(t, 1, 10*time.Second)
	m := mailtest.Parse(t, got[0])
	if !strings.Contains(m.Text, s.base+"/email/verify?token=") {
		t.Fatalf("mail over SMTP lacks the link:\n%s", m.Text)
	}
	if code, _ := get(t, c, s.base+"/dev/mail"); code != http.StatusNotFound {
		t.Fatalf("/dev/mail outside dev mode: %d", code)
	}
	// The sender counts the mail once it has recorded it as sent, a moment
	// after the SMTP server has it.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, metrics := get(t, c, s.base+"/metrics"); strings.Contains(metrics, `dancecard_mail_total{kind="verify_email",outcome="sent"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("metrics do not count the sent mail")
		}
	}
}

// TestMetricsAddr: with metrics_addr, /metrics moves to its own listener.
func TestMetricsAddr(t *testing.T) {
	maddr := freeAddr(t)
	s := startServe(t, map[string]string{"DANCECARD_METRICS_ADDR": maddr})
	c := &http.Client{}
	if code, _ := get(t, c, s.base+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on addr: %d, want 404", code)
	}
	code, body := get(t, c, "http://"+maddr+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, "dancecard_http_request_duration_seconds") {
		t.Fatalf("/metrics on metrics_addr: %d\n%.300s", code, body)
	}
}
