package web

import (
	"strings"
	"testing"
)

// TestRenderMailGerman: every kind of mail and every notice renders in
// German when its language is "de": the subject, the text and the HTML
// differ from the English ones, the HTML says lang="de", the dates are
// German, and an unknown language falls back to English.
func TestRenderMailGerman(t *testing.T) {
	for name, m := range testMails() {
		enSubject, enText, _, err := RenderMail(m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		m.Lang = "de"
		subject, text, html, err := RenderMail(m)
		if err != nil {
			t.Fatalf("%s in German: %v", name, err)
		}
		if subject == enSubject || text == enText {
			t.Errorf("%s: the German mail is the English one: %q", name, subject)
		}
		if !strings.Contains(html, `<html lang="de">`) {
			t.Errorf("%s: the German HTML is not marked lang=\"de\"", name)
		}
		for _, english := range []string{"You got this mail", "If you did not", "This link works once", "If the button does not work"} {
			if strings.Contains(text+html, english) {
				t.Errorf("%s: the German mail still says %q", name, english)
			}
		}
		m.Lang = "xx"
		if s, _, _, _ := RenderMail(m); s != enSubject {
			t.Errorf("%s: an unknown language gave %q, want the English %q", name, s, enSubject)
		}
	}
	m := testMails()["notice/pw_changed"]
	m.Lang = "de"
	_, text, _, _ := RenderMail(m)
	if !strings.Contains(strings.Join(strings.Fields(text), " "), "4. März 2025 um 10:30 UTC") {
		t.Errorf("German notice time not in German:\n%s", text)
	}
	m = testMails()["notice/mfa"]
	m.Data["change"], m.Data["name"], m.Lang = "passkey_added", "Laptop", "de"
	if _, text, _, _ := RenderMail(m); !strings.Contains(strings.Join(strings.Fields(text), " "), "ein Passkey namens „Laptop“ wurde hinzugefügt") {
		t.Errorf("German two-step notice lacks the change in German:\n%s", text)
	}
}
