package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dancecard/dancecard/internal/i18n"
)

// mailContentFor says, for each kind of mail, what it says, in the
// language of l.
func mailContentFor(l *i18n.Localizer, m MailData) (mailContent, error) {
	base := strings.TrimRight(strings.TrimSpace(m.BaseURL), "/")
	if !absoluteURL(base) {
		return mailContent{}, fmt.Errorf("web: %s mail: base URL %q is not an absolute http(s) URL", m.Kind, m.BaseURL)
	}
	if strings.TrimSpace(m.To) == "" {
		return mailContent{}, fmt.Errorf("web: %s mail has no recipient", m.Kind)
	}
	d := i18n.Data{"To": m.To, "Base": base}
	var c mailContent
	switch m.Kind {
	case "verify_email":
		c = verifyEmailMail(l, d)
	case "email_change":
		c = emailChangeMail(l, m, d)
	case "password_reset":
		c = passwordResetMail(l, d)
	case "login_unlock":
		c = loginUnlockMail(l, d, base)
	case "signup_exists":
		c = signupExistsMail(l, d, base)
	case "notice":
		var err error
		if c, err = noticeMail(l, m, d, base); err != nil {
			return mailContent{}, err
		}
	default:
		return mailContent{}, fmt.Errorf("web: unknown mail kind %q", m.Kind)
	}
	if c.Action != "" {
		if !absoluteURL(m.LinkURL) {
			return mailContent{}, fmt.Errorf("web: %s mail needs an absolute http(s) link", m.Kind)
		}
		c.Link = strings.TrimSpace(m.LinkURL)
		if !m.LinkExpiresAt.IsZero() {
			c.Expires = l.T("mail.link_expires", i18n.Data{"Time": mailTime(l, m.LinkExpiresAt)})
		}
	}
	if c.Heading == "" {
		c.Heading = c.Subject
	}
	c.Subject = oneLine(c.Subject)
	c.BaseURL = base
	return c, nil
}

func verifyEmailMail(l *i18n.Localizer, d i18n.Data) mailContent {
	return mailContent{
		Subject: l.T("mail.verify.subject"),
		Intro:   []mailPara{{Text: l.T("mail.verify.intro", d)}},
		Action:  l.T("mail.verify.action"),
		Outro:   []mailPara{{Text: l.T("mail.verify.outro")}},
		Reason:  l.T("mail.verify.reason", d),
	}
}

// emailChangeMail goes to the new address; Data["old_email"] is the current
// one, or "" when the account is adding its first address.
func emailChangeMail(l *i18n.Localizer, m MailData, d i18n.Data) mailContent {
	c := mailContent{
		Subject: l.T("mail.email_change.subject"),
		Action:  l.T("mail.email_change.action"),
		Reason:  l.T("mail.email_change.reason", d),
	}
	if old := m.Data["old_email"]; old != "" {
		d["Old"] = old
		c.Intro = []mailPara{{Text: l.T("mail.email_change.intro", d)}}
		c.Outro = []mailPara{{Text: l.T("mail.email_change.outro", d)}}
	} else {
		c.Intro = []mailPara{{Text: l.T("mail.email_change.intro_first", d)}}
		c.Outro = []mailPara{{Text: l.T("mail.email_change.outro_first")}}
	}
	return c
}

func passwordResetMail(l *i18n.Localizer, d i18n.Data) mailContent {
	return mailContent{
		Subject: l.T("mail.password_reset.subject"),
		Intro:   []mailPara{{Text: l.T("mail.password_reset.intro", d)}},
		Action:  l.T("mail.password_reset.action"),
		Outro:   []mailPara{{Text: l.T("mail.password_reset.outro")}},
		Reason:  l.T("mail.password_reset.reason", d),
	}
}

func loginUnlockMail(l *i18n.Localizer, d i18n.Data, base string) mailContent {
	return mailContent{
		Subject: l.T("mail.unlock.subject"),
		Intro:   []mailPara{{Text: l.T("mail.unlock.intro", d)}},
		Action:  l.T("mail.unlock.action"),
		Outro:   []mailPara{{Text: l.T("mail.unlock.outro"), URL: base + "/password/forgot"}},
		Reason:  l.T("mail.unlock.reason", d),
	}
}

// signupExistsMail tells the owner of an address that someone tried to sign
// up with it, without telling the one who tried: the sign-up page looks the
// same either way.
func signupExistsMail(l *i18n.Localizer, d i18n.Data, base string) mailContent {
	return mailContent{
		Subject: l.T("mail.signup_exists.subject"),
		Intro:   []mailPara{{Text: l.T("mail.signup_exists.intro", d)}},
		Outro: []mailPara{
			{Text: l.T("mail.signup_exists.log_in"), URL: base + "/login"},
			{Text: l.T("mail.signup_exists.forgot"), URL: base + "/password/forgot"},
			{Text: l.T("mail.signup_exists.not_you")},
		},
		Reason: l.T("mail.signup_exists.reason", d),
	}
}

// noticeSpec is one kind of notice: the Data keys it needs besides "at",
// and the ids of its subject and of what it says happened ("The password of
// your Dancecard account was changed on {{.At}}."). The messages get the
// notice's Data under capitalised keys (Provider, NewEmail, ...).
type noticeSpec struct {
	need    []string
	subject string
	what    string
	// notYou overrides the usual advice to reset the password, where a reset
	// would not help: the account is gone, or reset links now go elsewhere.
	notYou  string
	profile bool // point to the profile, where the change can be seen and undone
}

var noticeSpecs = map[string]noticeSpec{
	"password_changed": {
		subject: i18n.ID("mail.notice.password_changed.subject"),
		what:    i18n.ID("mail.notice.password_changed.what"),
	},
	"password_reset": {
		subject: i18n.ID("mail.notice.password_reset.subject"),
		what:    i18n.ID("mail.notice.password_reset.what"),
	},
	"email_changed": {
		need:    []string{"new_email"},
		subject: i18n.ID("mail.notice.email_changed.subject"),
		what:    i18n.ID("mail.notice.email_changed.what"),
		notYou:  i18n.ID("mail.notice.email_changed.not_you"),
	},
	"connection_added": {
		need:    []string{"provider"},
		subject: i18n.ID("mail.notice.connection_added.subject"),
		what:    i18n.ID("mail.notice.connection_added.what"),
		profile: true,
	},
	"connection_removed": {
		need:    []string{"provider"},
		subject: i18n.ID("mail.notice.connection_removed.subject"),
		what:    i18n.ID("mail.notice.connection_removed.what"),
		profile: true,
	},
	"token_created": {
		need:    []string{"token_name", "scope"},
		subject: i18n.ID("mail.notice.token_created.subject"),
		what:    i18n.ID("mail.notice.token_created.what"),
		profile: true,
	},
	"account_deleted": {
		subject: i18n.ID("mail.notice.account_deleted.subject"),
		what:    i18n.ID("mail.notice.account_deleted.what"),
		notYou:  i18n.ID("mail.notice.account_deleted.not_you"),
	},
	"mfa_changed": {
		subject: i18n.ID("mail.notice.mfa_changed.subject"),
		what:    i18n.ID("mail.notice.mfa_changed.what"),
	},
}

// noticeData is a notice's Data for its messages: each key capitalised
// ("new_email" becomes NewEmail), the account at the provider named, and
// the two-step change described in the reader's language.
func noticeData(l *i18n.Localizer, data map[string]string, d i18n.Data) i18n.Data {
	for k, v := range data {
		var b strings.Builder
		for _, part := range strings.Split(k, "_") {
			if part != "" {
				b.WriteString(strings.ToUpper(part[:1]) + part[1:])
			}
		}
		d[b.String()] = v
	}
	if data["provider"] != "" {
		d["Account"] = l.T("mail.notice.account", d)
		if data["username"] != "" {
			d["Account"] = l.T("mail.notice.account_named", d)
		}
	}
	if detail := mfaChange(l, data); detail != "" {
		d["Detail"] = detail
	}
	return d
}

// noticeMail tells the owner of an account that something happened to it, when,
// and what to do if it was not them.
func noticeMail(l *i18n.Localizer, m MailData, d i18n.Data, base string) (mailContent, error) {
	name := m.Data["notice"]
	spec, ok := noticeSpecs[name]
	if !ok {
		return mailContent{}, fmt.Errorf("web: unknown notice %q", name)
	}
	for _, k := range spec.need {
		if m.Data[k] == "" {
			return mailContent{}, fmt.Errorf("web: %s notice needs Data[%q]", name, k)
		}
	}
	at, err := time.Parse(time.RFC3339, m.Data["at"])
	if err != nil {
		return mailContent{}, fmt.Errorf("web: %s notice needs Data[\"at\"] as an RFC 3339 time: %w", name, err)
	}
	d = noticeData(l, m.Data, d)
	d["At"] = mailTime(l, at)
	c := mailContent{
		Subject: l.T(spec.subject, d),
		Intro:   []mailPara{{Text: l.T(spec.what, d)}},
		Reason:  l.T("mail.notice.reason", d),
	}
	if spec.profile {
		c.Intro = append(c.Intro, mailPara{Text: l.T("mail.notice.review"), URL: base + "/profile"})
	}
	if spec.notYou != "" {
		c.Outro = []mailPara{{Text: l.T(spec.notYou)}}
	} else {
		c.Outro = []mailPara{
			{Text: l.T("mail.notice.not_you"), URL: base + "/password/forgot"},
			{Text: l.T("mail.notice.tell_admin")},
		}
	}
	return c, nil
}

// mfaChange describes a two-step verification change in the reader's
// language, from the code the accounts package records beside its English
// "detail"; a notice without a known code shows the detail as it is.
func mfaChange(l *i18n.Localizer, data map[string]string) string {
	left, _ := strconv.Atoi(data["left"])
	name := i18n.Data{"Name": data["name"]}
	switch data["change"] {
	case "totp_added":
		return l.T("mail.mfa.totp_added")
	case "totp_replaced":
		return l.T("mail.mfa.totp_replaced")
	case "totp_removed":
		return l.T("mail.mfa.totp_removed")
	case "codes_new":
		return l.T("mail.mfa.codes_new")
	case "code_used":
		return l.N("mail.mfa.code_used", left)
	case "code_used_few":
		return l.N("mail.mfa.code_used_few", left)
	case "admin_reset":
		return l.T("mail.mfa.admin_reset")
	case "passkey_added":
		return l.T("mail.mfa.passkey_added", name)
	case "passkey_removed":
		return l.T("mail.mfa.passkey_removed", name)
	}
	return data["detail"]
}
