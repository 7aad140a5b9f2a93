package httpserver

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/web"
)

// The dev mailbox shows what dev mode "sent" when no SMTP server is
// configured. It is mounted only in dev mode (Options.DevMailbox).

func (s *Server) handleDevMailList() echo.HandlerFunc {
	return func(c echo.Context) error {
		msgs, err := s.opts.DevMailbox.List(c.Request().Context(), 100)
		if err != nil {
			return err
		}
		v := web.DevMailbox{}
		for _, m := range msgs {
			v.Messages = append(v.Messages, devMail(m))
		}
		return render(c, http.StatusOK, web.DevMailList(s.page(c, tr(c, "devmail.title")), v))
	}
}

func (s *Server) handleDevMailView() echo.HandlerFunc {
	return func(c echo.Context) error {
		m, err := s.devMessage(c)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, web.DevMailView(s.page(c, m.Subject), devMail(m)))
	}
}

// handleDevMailHTML serves a message's HTML part as its own document, under
// a policy that runs no script and loads nothing but images.
func (s *Server) handleDevMailHTML() echo.HandlerFunc {
	return func(c echo.Context) error {
		m, err := s.devMessage(c)
		if err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; sandbox allow-popups allow-top-navigation-by-user-activation")
		h.Set("Cache-Control", "no-store")
		return c.HTMLBlob(http.StatusOK, []byte(m.HTML))
	}
}

func (s *Server) devMessage(c echo.Context) (mail.DevMessage, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return mail.DevMessage{}, err
	}
	return s.opts.DevMailbox.Get(c.Request().Context(), id)
}

func devMail(m mail.DevMessage) web.DevMail {
	return web.DevMail{ID: m.ID, To: m.To, From: m.From, Subject: m.Subject, Text: m.Text, HTML: m.HTML, CreatedAt: m.CreatedAt}
}
