package config

import (
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// checkAccounts checks the keys of the account life cycle: how sign-up treats
// unverified addresses, where mail goes, and how long proofs last.
func (l *loader) checkAccounts() error {
	v := strings.ToLower(l.cfg.Signup.EmailVerification)
	switch v {
	case "optional", "required", "off":
		l.cfg.Signup.EmailVerification = v
	default:
		return l.errorf("signup.email_verification", "must be optional, required or off, got %q", l.cfg.Signup.EmailVerification)
	}
	switch p := strings.ToLower(l.cfg.MFA.ProviderLogins); p {
	case "require", "trust":
		l.cfg.MFA.ProviderLogins = p
	default:
		return l.errorf("mfa.provider_logins", "must be require or trust, got %q", l.cfg.MFA.ProviderLogins)
	}
	if s := l.cfg.Mail.SMTPURL; s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			return l.errorf("mail.smtp_url", "must be smtp://[user:pass@]host[:port] or smtps://host[:port]")
		}
	}
	if a, err := mail.ParseAddress(l.cfg.Mail.From); err != nil || !strings.Contains(a.Address, "@") {
		return l.errorf("mail.from", "must be an address such as \"Dancecard <no-reply@example.com>\", got %q", l.cfg.Mail.From)
	}
	durations := []struct {
		key      string
		d        time.Duration
		min, max time.Duration
	}{
		{"security.reauth_window", l.cfg.Security.ReauthWindow, time.Minute, 24 * time.Hour},
		{"security.reset_link_ttl", l.cfg.Security.ResetLinkTTL, 5 * time.Minute, 24 * time.Hour},
		{"security.verify_link_ttl", l.cfg.Security.VerifyLinkTTL, 5 * time.Minute, 30 * 24 * time.Hour},
	}
	for _, d := range durations {
		if d.d < d.min || d.d > d.max {
			return l.errorf(d.key, "must be between %s and %s, got %s", d.min, d.max, d.d)
		}
	}
	return nil
}
