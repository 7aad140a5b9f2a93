package mail

import "context"

type languageKey struct{}

// WithLanguage returns ctx saying which language the request is in, so
// that mail enqueued while handling it is written in that language unless
// the recipient chose another.
func WithLanguage(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, languageKey{}, lang)
}

// LanguageFrom returns the language WithLanguage put in ctx, or "".
func LanguageFrom(ctx context.Context) string {
	lang, _ := ctx.Value(languageKey{}).(string)
	return lang
}
