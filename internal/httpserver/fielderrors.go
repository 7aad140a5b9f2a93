package httpserver

import (
	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
)

// localFieldErrors puts every *accounts.FieldError in err's tree into a
// form's errors, in the request's language, keeping a message already
// there for the same field (the form's own checks run first), and reports
// whether it found any. Checks join what they find, so a form shows all
// its problems at once.
func localFieldErrors(c echo.Context, errs map[string]string, err error) bool {
	fes := accounts.FieldErrors(err)
	for _, fe := range fes {
		if _, ok := errs[fe.Field]; !ok {
			errs[fe.Field] = fieldErrorText(c.Request().Context(), fe)
		}
	}
	return len(fes) > 0
}
