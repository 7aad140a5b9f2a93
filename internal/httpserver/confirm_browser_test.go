package httpserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/dancecard/dancecard/internal/browsertest"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

const openDialog = "dialog.confirm-dialog[open]"

// confirmInDialog clicks what sel finds, waits for confirm.js's dialog and
// confirms in it; then, like Click, waits for the page that loads to show
// ready and, unless path is empty, checks its path.
func confirmInDialog(b *browsertest.Browser, sel, path, ready string) {
	b.Do("ask about "+sel, chromedp.Click(chromedp.Search(sel)), chromedp.WaitVisible(chromedp.CSS(openDialog)))
	b.Click(`//dialog[@open]//button[@value="confirm"]`, path, ready)
}

// wantNoSeriousViolations runs axe-core on the page as it is.
func wantNoSeriousViolations(t *testing.T, b *browsertest.Browser, what string) {
	t.Helper()
	for _, v := range b.Axe() {
		if v.Serious() {
			t.Errorf("%s: %s", what, v)
		}
	}
}

// TestBrowserConfirmations disconnects two accounts in a real Chromium:
// with JavaScript, the button opens a dialog that names the account, where
// Cancel and Escape leave everything and Confirm disconnects; without it,
// the same button leads to the confirmation page, whose Cancel goes back
// and whose button disconnects.
func TestBrowserConfirmations(t *testing.T) {
	hub, lab := oauthtest.NewServer(t), oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub"), fakeOAuth2(lab, "lab")))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	u := ts.browser(t)
	u.signUp("ada@example.com", goodPassword)
	u.dance(hub, "/auth/hub/connect", nil)
	u.dance(lab, "/auth/lab/connect", nil)
	b := browsertest.New(t, ctx, ts.URL)
	logIn(b, "ada@example.com", goodPassword, true)

	// The confirmation page passes axe-core. (axe needs scripts: the page
	// is fetched by a submit() that confirm.js does not see.)
	b.Eval(`(document.querySelector(".connection-actions form[data-confirm]").submit(), 1)`)
	b.Do("wait for the confirmation page", chromedp.WaitVisible(chromedp.CSS("#confirm-title")))
	wantNoSeriousViolations(t, b, "the confirmation page")
	b.Open("/profile", "#connections-title")

	// With JavaScript: a dialog asks, labelled by its title, described by
	// its question, with the focus on Cancel.
	hubButton := `//button[@aria-label="Disconnect Hub hub account @octo"]`
	ask := chromedp.Click(chromedp.Search(hubButton))
	b.Do("ask", ask, chromedp.WaitVisible(chromedp.CSS(openDialog)))
	b.At("/profile")
	b.Contains(openDialog+" h2", "Disconnect Hub hub account")
	b.Contains(openDialog, "Disconnect your Hub hub account @octo?")
	b.Contains(openDialog, "Dancecard will also revoke its token at Hub hub.")
	b.Contains(openDialog+` button[value="confirm"]`, "Disconnect")
	for expr, want := range map[string]string{
		`document.activeElement.textContent`:          "Cancel",
		`document.querySelector("dialog[open]").role`: "alertdialog",
		`document.getElementById(document.querySelector("dialog[open]").getAttribute("aria-labelledby")).textContent`:  "Disconnect Hub hub account",
		`document.getElementById(document.querySelector("dialog[open]").getAttribute("aria-describedby")).textContent`: "Disconnect your Hub hub account @octo?",
	} {
		if got := b.Await(expr); got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
	wantNoSeriousViolations(t, b, "the dialog")
	b.Screenshot()

	// Cancel: nothing changes, and the focus is back on the button.
	b.Do("cancel", chromedp.Click(chromedp.Search(`//dialog[@open]//button[normalize-space()="Cancel"]`)),
		chromedp.WaitNotVisible(chromedp.CSS("dialog.confirm-dialog")))
	if got := b.Await(`document.activeElement.getAttribute("aria-label")`); got != "Disconnect Hub hub account @octo" {
		t.Errorf("focus after Cancel is on %q, want the Disconnect button", got)
	}
	// Escape: the same.
	// Escape only once the dialog is set up (focus on Cancel): a key sent
	// earlier, under load, can reach the page before showModal has run.
	b.Do("ask and press Escape", ask, chromedp.WaitVisible(chromedp.CSS(openDialog)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[open] button[value=cancel]:focus`)), chromedp.KeyEvent(kb.Escape),
		chromedp.WaitNotVisible(chromedp.CSS("dialog.confirm-dialog")))
	b.At("/profile")
	wantCount(t, ts, 2, `SELECT count(*) FROM connections`)
	wantCount(t, ts, 0, `SELECT count(*) FROM events WHERE kind = 'connection_removed'`)

	// Confirm: it disconnects, and the token is revoked at the provider.
	confirmInDialog(b, hubButton, "/profile", ".flash-success")
	b.Contains(".flash-success", "The account was disconnected.")
	wantCount(t, ts, 1, `SELECT count(*) FROM connections`)
	wantCount(t, ts, 0, `SELECT count(*) FROM connections WHERE provider = 'hub'`)
	if n := hub.Counts().Revocations; n != 1 {
		t.Errorf("revocations at the provider = %d, want 1", n)
	}

	// A stale session: confirm.js's question is sent to /reauth, so the
	// form is posted as it is and lands there too, saying why once; after
	// re-authenticating, the profile asks again.
	labButton := `//button[@aria-label="Disconnect Hub lab account @octo"]`
	ts.ageSessions(t)
	b.Click(labButton, "/reauth", ".flash-info")
	if n := b.Eval(`document.querySelectorAll(".flash").length`); n != 1 {
		t.Errorf("the re-authentication page shows %d messages, want 1: %s", n, b.Text(".flashes"))
	}
	b.Fill("password", goodPassword)
	b.Submit("Confirm", "/profile", ".flash-success")
	b.Do("ask after re-authenticating", chromedp.Click(chromedp.Search(labButton)), chromedp.WaitVisible(chromedp.CSS(openDialog)))
	b.Contains(openDialog, "Disconnect your Hub lab account @octo?")
	b.Do("cancel", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.CSS("dialog.confirm-dialog")))
	wantCount(t, ts, 1, `SELECT count(*) FROM connections`)

	// Without JavaScript: the same button leads to the confirmation page.
	b.Do("turn JavaScript off", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	b.Open("/profile", "#connections-title")
	b.Click(labButton, "", "#confirm-title")
	if p := b.Location().Path; !strings.HasPrefix(p, "/connections/") || !strings.HasSuffix(p, "/delete") {
		t.Fatalf("the confirmation page is at %s, want the action's address", p)
	}
	b.Contains("#confirm-title", "Disconnect Hub lab account")
	b.Contains("#confirm-question", "Disconnect your Hub lab account @octo?")
	b.Contains(".confirm-consequences", "Dancecard will also revoke its token at Hub lab.")
	b.Screenshot()
	wantCount(t, ts, 1, `SELECT count(*) FROM connections`)
	b.Follow("Cancel", "/profile", "#connections-title")
	wantCount(t, ts, 1, `SELECT count(*) FROM connections`)
	b.Click(labButton, "", "#confirm-title")
	b.Click(`//section[@data-confirm-page]//button[normalize-space()="Disconnect"]`, "/profile", ".flash-success")
	b.Contains(".flash-success", "The account was disconnected.")
	wantCount(t, ts, 0, `SELECT count(*) FROM connections`)
	if n := lab.Counts().Revocations; n != 1 {
		t.Errorf("revocations at the second provider = %d, want 1", n)
	}
}
