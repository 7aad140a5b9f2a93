package httpserver_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/dancecard/dancecard/internal/browsertest"
)

// TestBrowserRecoveryCodesCopy turns on two-step verification in Chromium
// and copies the recovery codes with the page's copy button: the clipboard
// then holds exactly the codes the page shows, one per line.
func TestBrowserRecoveryCodesCopy(t *testing.T) {
	ts := newTestServer(t, withLocalhost)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	u, _ := url.Parse(ts.URL)
	b := browsertest.New(t, ctx, "http://localhost:"+u.Port())

	b.Open("/signup", `form[action="/signup"]`)
	b.Fill("email", "rae@example.com", "password", goodPassword, "password_confirm", goodPassword)
	b.Submit("Create account", "/profile", "#connections-title")
	b.Follow("Security", "/profile/security", "#mfa-title")
	b.Submit("Set up an authenticator app", "", ".totp-secret")
	code, err := totp.GenerateCode(strings.ReplaceAll(b.Text(".totp-secret"), " ", ""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.Fill("code", code)
	b.Submit("Turn on two-step verification", "", "#recovery-codes")
	var shown []string
	for _, line := range strings.Split(b.Text("#recovery-codes"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			shown = append(shown, line)
		}
	}
	if len(shown) != 10 {
		t.Fatalf("the page shows %d recovery codes, want 10: %q", len(shown), shown)
	}

	b.Do("copy the codes",
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			for _, name := range []string{"clipboard-read", "clipboard-write"} {
				if _, err := cdp.Call(ctx, t, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
					Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted}); err != nil {
					return err
				}
			}
			return nil
		}),
		chromedp.Click(chromedp.CSS(`button[data-copy="#recovery-codes"]`)),
		chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Copied"]`)))
	if copied := b.Await(`navigator.clipboard.readText()`); copied != strings.Join(shown, "\n") {
		t.Fatalf("clipboard holds %q, want the %d codes one per line", copied, len(shown))
	}
	b.Contains("#recovery-codes-copied", "Copied to the clipboard.")
}
