// Package i18n holds Dancecard's translations: the message catalogues
// (locales/active.*.toml, embedded), the choice of a language for a request,
// and the localizer that pages and mails read from their context.
//
// English is the source language: every message id exists in
// active.en.toml, and every other catalogue translates every id (a test
// keeps it so). Code names messages by stable dotted ids, always as string
// literals in calls of T, N, ID or a helper that passes them on, so that
// the test can find every id in use.
package i18n

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"
	"text/template"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/active.*.toml
var locales embed.FS

// Default is the language of anyone who has not said or shown otherwise.
const Default = "en"

// Languages are the codes of the languages with a complete catalogue,
// each with its name in its own language, for a language menu. The
// default comes first.
var Languages = []struct{ Code, Name string }{
	{"en", "English"},
	{"de", "Deutsch"},
}

// Data is the template data of a message: {{.Email}} in the text is
// Data{"Email": ...}.
type Data = map[string]any

// Catalogue is the loaded set of translations. It is immutable once built.
type Catalogue struct {
	bundle   *goi18n.Bundle
	matcher  language.Matcher
	messages map[string]map[string]*goi18n.Message // language -> id -> message
	byLang   map[string]*Localizer
}

// catalogue is the embedded catalogue, parsed once on first use. The
// catalogues are constant data compiled into the binary, so one shared
// copy is as safe as a constant; a broken catalogue fails the tests.
var catalogue = sync.OnceValue(func() *Catalogue {
	c, err := Load(locales)
	if err != nil {
		panic(err)
	}
	return c
})

// Embedded returns the catalogue compiled into the binary.
func Embedded() *Catalogue { return catalogue() }

// Load reads active.<lang>.toml for every supported language from fsys.
func Load(fsys fs.FS) (*Catalogue, error) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	tags := make([]language.Tag, len(Languages))
	for i, l := range Languages {
		tags[i] = language.MustParse(l.Code)
	}
	c := &Catalogue{bundle: b, matcher: language.NewMatcher(tags),
		messages: map[string]map[string]*goi18n.Message{}, byLang: map[string]*Localizer{}}
	for _, l := range Languages {
		path := "locales/active." + l.Code + ".toml"
		raw, err := fs.ReadFile(fsys, path)
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		mf, err := b.ParseMessageFileBytes(raw, path)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", path, err)
		}
		ms := map[string]*goi18n.Message{}
		for _, m := range mf.Messages {
			ms[m.ID] = m
		}
		c.messages[l.Code] = ms
	}
	for _, l := range Languages {
		texts, err := c.texts(l.Code)
		if err != nil {
			return nil, err
		}
		c.byLang[l.Code] = &Localizer{lang: l.Code, l: goi18n.NewLocalizer(b, l.Code), texts: texts}
	}
	return c, nil
}

// texts resolves, once, every message of lang that has no plural forms:
// its own text, or English's where it has none, as go-i18n would pick,
// split at its placeholders. A page asks for dozens of messages, and
// go-i18n matches the language, finds the message and runs text/template
// for each: that was most of the profile page's render time.
func (c *Catalogue) texts(lang string) (map[string]text, error) {
	out := map[string]text{}
	for id, en := range c.messages[Default] {
		m := en
		if own, ok := c.messages[lang][id]; ok {
			m = own
		}
		if m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != "" {
			continue // plural: go-i18n picks the form
		}
		t, err := parseText(m.Other)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s %s: %w", lang, id, err)
		}
		out[id] = t
	}
	return out, nil
}

// fieldAction is the one action most messages hold: {{.Email}}.
var fieldAction = regexp.MustCompile(`\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// text is one resolved message: literal parts and {{.Field}} placeholders,
// or, when it holds any other action ({{if .Who}}), its parsed template.
type text struct {
	parts []part
	tmpl  *template.Template
}

// part is a literal or, when field is set, a placeholder.
type part struct{ lit, field string }

func parseText(src string) (text, error) {
	if !strings.Contains(fieldAction.ReplaceAllString(src, ""), "{{") {
		var t text
		at := 0
		for _, m := range fieldAction.FindAllStringSubmatchIndex(src, -1) {
			if m[0] > at {
				t.parts = append(t.parts, part{lit: src[at:m[0]]})
			}
			t.parts = append(t.parts, part{field: src[m[2]:m[3]]})
			at = m[1]
		}
		if at < len(src) || len(t.parts) == 0 {
			t.parts = append(t.parts, part{lit: src[at:]})
		}
		if len(t.parts) == 1 && t.parts[0].field == "" {
			t.parts[0].lit = strings.TrimSpace(t.parts[0].lit)
		}
		return t, nil
	}
	// As go-i18n's text parser does.
	tmpl, err := template.New("").Option("missingkey=default").Parse(src)
	return text{tmpl: tmpl}, err
}

// render fills the message in from d, as text/template would.
func (t text) render(d Data) (string, bool) {
	if t.tmpl != nil {
		var sb strings.Builder
		if err := t.tmpl.Execute(&sb, d); err != nil {
			return "", false
		}
		return strings.TrimSpace(sb.String()), true
	}
	if len(t.parts) == 1 && t.parts[0].field == "" {
		return t.parts[0].lit, true
	}
	var sb strings.Builder
	for _, p := range t.parts {
		if p.field == "" {
			sb.WriteString(p.lit)
			continue
		}
		switch v, ok := d[p.field]; {
		case !ok:
			sb.WriteString("<no value>")
		case v == nil:
			sb.WriteString("<nil>")
		default:
			if s, ok := v.(string); ok {
				sb.WriteString(s)
			} else {
				fmt.Fprint(&sb, v)
			}
		}
	}
	return strings.TrimSpace(sb.String()), true
}

// Messages returns the catalogue of one language, by message id, for tests
// and tools.
func (c *Catalogue) Messages(lang string) map[string]*goi18n.Message { return c.messages[lang] }

// Supported reports whether code names a supported language exactly ("en",
// "de"), as a language form or cookie must.
func Supported(code string) bool {
	for _, l := range Languages {
		if l.Code == code {
			return true
		}
	}
	return false
}

// Match picks the language for a visitor: the first of choices that is a
// supported language (a stored preference, a cookie), else the best match
// for the Accept-Language header, else English.
func (c *Catalogue) Match(acceptLanguage string, choices ...string) string {
	for _, ch := range choices {
		if Supported(ch) {
			return ch
		}
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return Default
	}
	return Languages[i].Code
}

// Localizer returns the localizer for a supported language code, English
// for any other.
func (c *Catalogue) Localizer(lang string) *Localizer {
	if l, ok := c.byLang[lang]; ok {
		return l
	}
	return c.byLang[Default]
}

// Localizer translates messages into one language.
type Localizer struct {
	lang  string
	l     *goi18n.Localizer
	texts map[string]text // id -> resolved message, for those without plural forms
}

// Lang is the localizer's language code ("en", "de").
func (l *Localizer) Lang() string { return l.lang }

// T translates the message id, filling in its template from data. A
// message missing in the language falls back to English, and one missing
// in English too shows its id, which the catalogue test forbids.
func (l *Localizer) T(id string, data ...Data) string {
	if t, ok := l.texts[id]; ok {
		var d Data
		if len(data) > 0 {
			d = data[0]
		}
		if s, ok := t.render(d); ok {
			return s
		}
	}
	lc := &goi18n.LocalizeConfig{MessageID: id}
	if len(data) > 0 {
		lc.TemplateData = data[0]
	}
	return l.localize(id, lc)
}

// N translates the message id in the plural form for count ("1 session",
// "2 sessions"); the template sees count as {{.Count}}, beside data.
func (l *Localizer) N(id string, count int, data ...Data) string {
	d := Data{"Count": count}
	if len(data) > 0 {
		for k, v := range data[0] {
			d[k] = v
		}
	}
	return l.localize(id, &goi18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: d})
}

func (l *Localizer) localize(id string, lc *goi18n.LocalizeConfig) string {
	s, err := l.l.Localize(lc)
	if s == "" && err != nil {
		return id
	}
	return strings.TrimSpace(s)
}

type ctxKey struct{}

// With returns ctx carrying l, for the pages and mails rendered with it.
func With(ctx context.Context, l *Localizer) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the localizer in ctx, or the English one when there is none
// (a mail rendered outside a request, a component rendered in a test).
func From(ctx context.Context) *Localizer {
	if l, ok := ctx.Value(ctxKey{}).(*Localizer); ok && l != nil {
		return l
	}
	return Embedded().Localizer(Default)
}

// T translates id into the language of ctx.
func T(ctx context.Context, id string, data ...Data) string { return From(ctx).T(id, data...) }

// N translates id into the language of ctx in the plural form for count.
func N(ctx context.Context, id string, count int, data ...Data) string {
	return From(ctx).N(id, count, data...)
}

// ID marks a string literal as a message id for the catalogue test, where
// an id is kept in a table and translated later: ID("error.csrf.title").
func ID(id string) string { return id }
