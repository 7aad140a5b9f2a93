package httpserver

import (
	"context"
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/i18n"
)

// localError is an error's title and message for a person, in the
// request's language, naming the provider where the message speaks of one
// ("the provider" when it is not known).
func localError(c echo.Context, err error, provider string) (title, message string) {
	e := lookupError(err)
	l := i18n.From(c.Request().Context())
	if provider == "" {
		provider = l.T("error.the_provider")
	}
	switch {
	case e.own == nil:
		message = l.T(e.message, i18n.Data{"Provider": provider})
	case e.own.messageID != "":
		message = l.T(e.own.messageID, e.own.args)
	default:
		message = e.own.message
	}
	return l.T(e.title), message
}

// inputError is bad input that says itself what is wrong with it: the
// field it names ("" for a whole JSON body), its English message for
// programs, and the catalogue id and data of the same message for pages
// ("" when there is none: pages show the English).
type inputError struct {
	field, message, messageID string
	args                      i18n.Data
}

// inputOf finds the bad input in err: a form or JSON field
// (accounts.FieldError), a list's filter (admin.FilterError) or a JSON
// body that does not parse, which also says where it went wrong.
func inputOf(err error) (inputError, bool) {
	if fe := (*accounts.FieldError)(nil); errors.As(err, &fe) {
		return inputError{fe.Field, fe.Message, fe.MessageID, fe.Args}, true
	}
	if fe := (*admin.FilterError)(nil); errors.As(err, &fe) {
		return inputError{fe.Field, fe.Message, fe.MessageID, fe.Args}, true
	}
	if je := (*jsonError)(nil); errors.As(err, &je) {
		return inputError{message: "The request body is not a valid JSON object of the documented shape: " + je.err.Error()}, true
	}
	return inputError{}, false
}

// fieldErrorText is a field error in the language of ctx.
func fieldErrorText(ctx context.Context, fe *accounts.FieldError) string {
	if fe.MessageID == "" {
		return fe.Message
	}
	return i18n.T(ctx, fe.MessageID, fe.Args)
}
