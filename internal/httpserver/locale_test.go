package httpserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/accounts"
)

// acceptLanguage makes every request of a browser send Accept-Language,
// as a browser set to that language does.
type acceptLanguage struct {
	lang string
	next http.RoundTripper
}

func (a acceptLanguage) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Language", a.lang)
	return a.next.RoundTrip(r)
}

// speaking makes b a browser set to the languages in accept.
func (b *browser) speaking(accept string) *browser {
	b.client.Transport = acceptLanguage{accept, http.DefaultTransport}
	return b
}

// wantSays fails unless the page contains every one of wants and none of
// the English texts in donts.
func wantSays(t *testing.T, what string, r response, wants []string, donts ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(r.Body, w) {
			t.Errorf("%s: lacks %q:\n%.1500s", what, w, r.Body)
		}
	}
	for _, d := range donts {
		if strings.Contains(r.Body, d) {
			t.Errorf("%s: still says %q", what, d)
		}
	}
}

// TestGermanPages: a browser that asks for German gets German pages (the
// layout, log-in, sign-up with its form errors, an error page, an admin
// page, a confirmation), with <html lang="de"> and Vary: Accept-Language.
func TestGermanPages(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t).speaking("de-DE,de;q=0.9,en;q=0.5")

	r := b.get("/login")
	wantSays(t, "log-in page", r, []string{`<html lang="de">`, "<title>Anmelden · Dancecard</title>",
		"Willkommen zurück", "E-Mail-Adresse", "Passwort vergessen?", "Zum Inhalt springen"},
		"Welcome back", "Forgot your password?")
	if v := r.Header.Values("Vary"); !strings.Contains(strings.Join(v, ","), "Accept-Language") {
		t.Errorf("log-in page: Vary %q lacks Accept-Language", v)
	}

	r = b.post("/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong password!"}})
	wantSays(t, "failed log-in", r, []string{"Diese E-Mail-Adresse und dieses Passwort passen zu keinem Konto."})

	wantSays(t, "sign-up page", b.get("/signup"), []string{"Konto erstellen", "Passwort bestätigen", "Mindestens 8 Zeichen"},
		"Create your account")
	r = b.post("/signup", url.Values{"email": {"not an address"}, "password": {"short"}, "password_confirm": {"short"}})
	wantSays(t, "sign-up errors", r, []string{"Geben Sie eine E-Mail-Adresse wie name@example.com ein.",
		"Verwenden Sie mindestens 8 Zeichen."}, "Use at least")
	r = b.post("/signup", url.Values{"email": {"a@example.com"}, "password": {goodPassword}, "password_confirm": {"other " + goodPassword}})
	wantSays(t, "sign-up mismatch", r, []string{"Die beiden Passwörter stimmen nicht überein."})

	r = b.get("/no/such/page")
	if r.Status != http.StatusNotFound {
		t.Fatalf("missing page: status %d", r.Status)
	}
	wantSays(t, "error page", r, []string{"Fehler 404", "Seite nicht gefunden", "Unter dieser Adresse gibt es keine Seite.", "Zur Startseite"},
		"Page not found")

	r = b.post("/logout", url.Values{"csrf_token": {"forged"}})
	wantSays(t, "CSRF error page", r, []string{"Formular abgelaufen"}, "Form expired")

	admin := ts.adminBrowser(t, "root@example.com").speaking("de")
	r = admin.get("/admin/users")
	wantSays(t, "admin users", r, []string{`<html lang="de">`, "Verwaltung", "Abmelden"})

	// A confirmation names the thing in German, with plural forms.
	other := ts.browser(t)
	other.logIn("root@example.com", goodPassword)
	r = admin.post("/profile/sessions/delete", url.Values{"scope": {"others"}})
	wantSays(t, "confirmation", r, []string{"Ihre andere Sitzung abmelden?", "Abbrechen"}, "Log out your")
}

// TestEnglishStaysDefault: without Accept-Language, or with a language
// there is no catalogue for, pages are English.
func TestEnglishStaysDefault(t *testing.T) {
	ts := newTestServer(t)
	for _, accept := range []string{"", "fr-FR,fr;q=0.9", "*"} {
		r := ts.browser(t).speaking(accept).get("/login")
		wantSays(t, "log-in page for "+accept, r, []string{`<html lang="en">`, "Welcome back", "Email address"}, "Willkommen")
	}
}

// TestLanguageSwitch: the footer's plain form changes the language without
// JavaScript, returns to the page it was on, and the choice persists: in a
// cookie for a visitor, on the account once logged in (so a new browser
// gets it too), and it wins over Accept-Language.
func TestLanguageSwitch(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t).speaking("en-US,en")
	r := b.get("/signup")
	wantSays(t, "sign-up page", r, []string{`<form class="language-form" method="post" action="/language">`,
		`<option value="de" lang="de">Deutsch</option>`, `<input type="hidden" name="next" value="/signup">`})

	r = b.post("/language", url.Values{"lang": {"de"}, "next": {"/signup"}})
	if r.Status != http.StatusSeeOther || r.Location != "/signup" {
		t.Fatalf("switch: status %d, location %q", r.Status, r.Location)
	}
	r = b.get("/signup")
	wantSays(t, "after switching", r, []string{`<html lang="de">`, "Die Sprache ist jetzt Deutsch.", "Konto erstellen",
		`<option value="de" lang="de" selected>Deutsch</option>`})

	// Not a way to send the visitor elsewhere, nor to store nonsense.
	if r := b.post("/language", url.Values{"lang": {"de"}, "next": {"//evil.example/"}}); r.Location != "/" {
		t.Errorf("switch to //evil.example: location %q", r.Location)
	}
	if r := b.post("/language", url.Values{"lang": {"xx"}}); r.Status != http.StatusBadRequest {
		t.Errorf("unknown language: status %d", r.Status)
	}

	// Signing up keeps the choice on the account.
	b.signUp("lang@example.com", goodPassword)
	if n := ts.count(t, `SELECT count(*) FROM users WHERE email = 'lang@example.com' AND language = 'de'`); n != 1 {
		t.Fatalf("the account did not keep the chosen language")
	}
	// Logged in, switching back to English is stored too, and follows
	// the user to a browser that asks for German.
	b.post("/language", url.Values{"lang": {"en"}, "next": {"/"}})
	if n := ts.count(t, `SELECT count(*) FROM users WHERE email = 'lang@example.com' AND language = 'en'`); n != 1 {
		t.Fatalf("the switch did not store English on the account")
	}
	fresh := ts.browser(t).speaking("de")
	wantSays(t, "new browser before log-in", fresh.get("/login"), []string{`<html lang="de">`})
	fresh.logIn("lang@example.com", goodPassword)
	wantSays(t, "new browser after log-in", fresh.get("/"), []string{`<html lang="en">`, "Go to your profile"})
}

// TestGermanMail: the mail a German request causes is German, and the
// recipient's stored choice wins over the language of the request.
func TestGermanMail(t *testing.T) {
	ts := newTestServer(t, withVerification(accounts.VerifyOptional))
	b := ts.browser(t).speaking("de")
	b.signUp("hans@example.com", goodPassword)
	m := ts.mailTo(t, "hans@example.com")
	if m.Subject != "Bestätigen Sie Ihre E-Mail-Adresse" {
		t.Errorf("subject %q", m.Subject)
	}
	for _, want := range []string{"Danke für Ihre Registrierung bei Dancecard", "E-Mail-Adresse bestätigen", "Dieser Link funktioniert einmal, bis"} {
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
			t.Errorf("verification mail lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.HTML, `<html lang="de">`) {
		t.Errorf("mail HTML is not marked German")
	}

	// Stored English wins over a German request: an administrator's German
	// browser sends the reset mail of a user who chose English.
	en := ts.browser(t).speaking("en")
	en.signUp("ada@example.com", goodPassword)
	en.post("/language", url.Values{"lang": {"en"}, "next": {"/"}})
	de := ts.browser(t).speaking("de")
	de.post("/password/forgot", url.Values{"email": {"ada@example.com"}})
	if m := ts.mailTo(t, "ada@example.com"); m.Subject != "Reset your Dancecard password" {
		t.Errorf("reset mail to an English user: subject %q", m.Subject)
	}
	de.post("/password/forgot", url.Values{"email": {"hans@example.com"}})
	if m := ts.mailTo(t, "hans@example.com"); m.Subject != "Setzen Sie Ihr Dancecard-Passwort zurück" {
		t.Errorf("reset mail asked for in German: subject %q", m.Subject)
	}
}

// TestGermanProfileAndAdmin: a browser that asks for German gets the four
// profile pages, their flashes and an admin events page with its reasons
// and totals in German.
func TestGermanProfileAndAdmin(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t).speaking("de")
	b.signUp("maria@example.com", goodPassword)

	for _, p := range []struct {
		path  string
		wants []string
		donts []string
	}{
		{"/profile", []string{`<html lang="de">`, "<title>Verbindungen · Ihr Profil · Dancecard</title>", "Ihr Profil",
			"Bereiche des Profils", "Verknüpfte Konten", "Weiteres Konto verknüpfen"}, []string{"Linked accounts", "Your profile"}},
		{"/profile/security", []string{"Sicherheit", "Sitzungen", "Dieses Gerät", "Zuletzt aktiv", "Überall abmelden", "Passwort ändern"},
			[]string{"Log out everywhere", "This device", "Change password"}},
		{"/profile/tokens", []string{"API-Tokens", "Sie haben noch keine API-Tokens.", "Token erstellen", "in 90 Tagen"},
			[]string{"Create a token", "You have no API tokens"}},
		{"/profile/account", []string{"E-Mail-Adresse", "Mitglied seit", "Ihre Daten", "Konto löschen",
			"Geben Sie zur Bestätigung Ihre E-Mail-Adresse ein"}, []string{"Member since", "Delete my account"}},
	} {
		r := b.get(p.path)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: status %d", p.path, r.Status)
		}
		wantSays(t, p.path, r, p.wants, p.donts...)
	}

	r := b.post("/profile/password", url.Values{"current_password": {goodPassword},
		"new_password": {"another " + goodPassword}, "new_password_confirm": {"other " + goodPassword}})
	wantSays(t, "password mismatch", r, []string{"Die beiden Passwörter stimmen nicht überein."}, "do not match")
	r = b.post("/profile/tokens", url.Values{"name": {"sync"}, "scope": {"read"}, "expires_in_days": {"soon"}})
	wantSays(t, "token form", r, []string{"Wählen Sie, wann das Token abläuft."}, "Choose when")
	b.post("/profile/name", url.Values{"name": {"Maria"}})
	wantSays(t, "name flash", b.get("/profile/account"), []string{"Ihr Name wurde gespeichert."}, "has been saved")

	// A failed log-in shows on the admin events page with its reason in German.
	if r := ts.browser(t).logIn("maria@example.com", "wrong "+goodPassword); r.Status == http.StatusSeeOther {
		t.Fatal("a wrong password logged in")
	}
	admin := ts.adminBrowser(t, "root@example.com").speaking("de")
	r = admin.get("/admin/events?kind=login_failed")
	wantSays(t, "admin events", r, []string{`<html lang="de">`, "Das Passwort war falsch.", "1 Ereignis"},
		"The password was wrong.", "1 event")
	r = admin.get("/admin/users?sort=password_hash")
	wantSays(t, "admin filter error", r, []string{"Sortieren Sie Benutzer nach „created“ oder „email“."}, "Sort users by")
}
