package httpserver

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/web"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes a page in one piece: templ output is buffered, so a failure
// halfway through becomes a clean error page instead of half a page.
func render(c echo.Context, status int, page templ.Component) error {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := page.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set("Cache-Control", "no-store")
	// The words depend on the language cookie and Accept-Language.
	h.Add("Vary", "Accept-Language")
	h.Add("Vary", "Cookie")
	// Known length: the page goes out in one piece, not chunked.
	h.Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	c.Response().WriteHeader(status)
	_, err := c.Response().Write(buf.Bytes())
	return err
}

// page assembles what every layout needs and consumes pending flashes.
func (s *Server) page(c echo.Context, title string) web.Page {
	p := web.Page{
		Title:        title,
		CSRFToken:    s.csrfToken(c),
		Dev:          s.opts.Dev,
		AssetVersion: web.AssetVersion(),
		Flashes:      s.takeFlashes(c),
		SignupClosed: !s.opts.SignupLocal,
		Passkeys:     s.opts.Accounts.PasskeysOn(),
		Path:         c.Request().URL.RequestURI(),
	}
	if sess := sessionFrom(c); sess != nil {
		p.User = &web.User{ID: sess.User.ID, Email: sess.User.Email, IsAdmin: sess.User.IsAdmin}
	}
	return p
}

// flash queues a message for the next page this browser renders. Flashes
// travel in a signed cookie, so they work before log-in and across replicas.
// A message already waiting is not queued twice: a request repeated before
// the next page (confirm.js posts again after asking) says it once.
func (s *Server) flash(c echo.Context, kind, message string) {
	pending, _ := c.Get("dancecard.flashes").([]web.Flash)
	if len(pending) == 0 {
		pending = s.readFlashes(c)
	}
	f := web.Flash{Kind: kind, Message: message}
	if slices.Contains(pending, f) {
		c.Set("dancecard.flashes", pending)
		return
	}
	pending = append(pending, f)
	c.Set("dancecard.flashes", pending)
	raw, _ := json.Marshal(pending)
	value := base64.RawURLEncoding.EncodeToString(raw)
	s.setCookie(c, s.cookies.flash, value+"."+s.sign("flash", value), 0)
}

func (s *Server) readFlashes(c echo.Context) []web.Flash {
	ck, err := c.Cookie(s.cookies.flash)
	if err != nil || len(ck.Value) > 4096 {
		return nil
	}
	value, sig, ok := strings.Cut(ck.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.sign("flash", value))) {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return nil
	}
	var flashes []web.Flash
	if json.Unmarshal(raw, &flashes) != nil {
		return nil
	}
	return flashes
}

func (s *Server) takeFlashes(c echo.Context) []web.Flash {
	flashes, _ := c.Get("dancecard.flashes").([]web.Flash)
	if len(flashes) == 0 {
		flashes = s.readFlashes(c)
	}
	if _, err := c.Cookie(s.cookies.flash); err == nil {
		s.clearCookie(c, s.cookies.flash)
	}
	c.Set("dancecard.flashes", []web.Flash(nil))
	return flashes
}

// redirect answers a form post with 303 See Other, so a reload never
// re-submits the form.
func redirect(c echo.Context, to string) error {
	return c.Redirect(http.StatusSeeOther, to)
}
