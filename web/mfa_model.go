package web

// The view models of two-step verification: enrolling an authenticator app,
// the recovery codes shown once, and the second step of a log-in.

import (
	"context"
	"net/url"
	"strings"

	"github.com/a-h/templ"

	"github.com/dancecard/dancecard/internal/i18n"
)

// MFASection is the profile's "Two-step verification" area.
type MFASection struct {
	TOTP              bool // an authenticator app is enrolled
	RecoveryCodesLeft int
	Passkeys          int // registered passkeys, which serve as a second step too
}

// TOTPEnrolPage shows a new authenticator secret to scan and a form to
// confirm it with a code (POST /profile/mfa/totp/confirm, field "code").
type TOTPEnrolPage struct {
	Secret    string // base32, shown as text in blocks of 4
	URI       string // otpauth://totp/... shown as text
	QRDataURI string // data:image/png;base64,... rendered as <img>; anything else is not shown
	Error     string // a wrong code
}

// RecoveryCodesPage shows new recovery codes once.
type RecoveryCodesPage struct {
	Codes []string
}

// MFALoginForm is GET,POST /login/mfa (fields "next", "code"): the second
// step of a log-in.
type MFALoginForm struct {
	Error string
	Next  string
}

// lowRecoveryCodes is how few recovery codes left the profile warns about.
const lowRecoveryCodes = 2

// groupSecret writes a base32 secret in blocks of 4 so it can be read and
// typed: "JBSWY3DPEHPK3PXP" -> "JBSW Y3DP EHPK 3PXP".
func groupSecret(s string) string {
	r := []rune(strings.Join(strings.Fields(s), ""))
	var b strings.Builder
	for i, c := range r {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// qrImageSrc passes on only a PNG data URI of base64 characters, so the
// page shows no image for anything else. templ's URL check refuses every
// data: URL, so one that passes here is marked safe.
func qrImageSrc(s string) templ.SafeURL {
	payload, ok := strings.CutPrefix(s, "data:image/png;base64,")
	if !ok || payload == "" || strings.Trim(payload, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != "" {
		return ""
	}
	return templ.SafeURL(s)
}

// recoveryCodesHref is a data: URL of a text file with one code a line.
// templ.URL refuses data: URLs, so it is marked safe here; that is sound
// because the content is only the codes, cut down to [0-9A-Za-z-] (what
// codes are made of) and then percent-escaped.
func recoveryCodesHref(codes []string) templ.SafeURL {
	clean := make([]string, 0, len(codes))
	for _, c := range codes {
		clean = append(clean, strings.Map(func(r rune) rune {
			if r == '-' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') {
				return r
			}
			return -1
		}, c))
	}
	return templ.SafeURL("data:text/plain;charset=utf-8," + url.PathEscape(strings.Join(clean, "\n")))
}

// recoveryCodesLeft is "1 recovery code left", "5 recovery codes left".
func recoveryCodesLeft(ctx context.Context, n int) string {
	return tn(ctx, "mfa.codes_left", n)
}

// recoveryCodesClass warns when few recovery codes are left.
func recoveryCodesClass(n int) string {
	if n <= lowRecoveryCodes {
		return "status status-warn"
	}
	return "status status-ok"
}

// adminMFALabel is the admin user page's one-line summary of second factors.
func adminMFALabel(ctx context.Context, m MFASection) string {
	var parts []string
	if m.TOTP {
		parts = append(parts, t(ctx, "mfa.summary_app"), recoveryCodesLeft(ctx, m.RecoveryCodesLeft))
	}
	if m.Passkeys > 0 {
		parts = append(parts, tn(ctx, "confirm.reset_mfa.passkeys", m.Passkeys))
	}
	if len(parts) == 0 {
		return t(ctx, "mfa.summary_off")
	}
	return t(ctx, "mfa.summary_on", i18n.Data{"Parts": strings.Join(parts, ", ")})
}

// recoveryCodesText is the codes one per line, as the copy button copies them.
func recoveryCodesText(codes []string) string { return strings.Join(codes, "\n") }
