package web

import (
	"context"

	"github.com/dancecard/dancecard/internal/i18n"
)

// t translates a message id into the language of the request in ctx (see
// internal/i18n). Every id is a string literal, so the catalogue test finds
// it: t(ctx, "login.title").
func t(ctx context.Context, id string, data ...i18n.Data) string { return i18n.T(ctx, id, data...) }

// tn translates a message id in the plural form for n, such as "2
// sessions" for n = 2.
func tn(ctx context.Context, id string, n int, data ...i18n.Data) string {
	return i18n.N(ctx, id, n, data...)
}

// lang is the language code of the page, for <html lang>.
func lang(ctx context.Context) string { return i18n.From(ctx).Lang() }

// languages are the choices of the language form, each named in its own
// language.
func languages() []struct{ Code, Name string } { return i18n.Languages }
