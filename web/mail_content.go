package web

import (
	"fmt"
	"strings"
	"time"
)

// mailContentFor says, for each kind of mail, what it says.
func mailContentFor(m MailData) (mailContent, error) {
	base := strings.TrimRight(strings.TrimSpace(m.BaseURL), "/")
	if !absoluteURL(base) {
		return mailContent{}, fmt.Errorf("web: %s mail: base URL %q is not an absolute http(s) URL", m.Kind, m.BaseURL)
	}
	if strings.TrimSpace(m.To) == "" {
		return mailContent{}, fmt.Errorf("web: %s mail has no recipient", m.Kind)
	}
	var c mailContent
	switch m.Kind {
	case "verify_email":
		c = verifyEmailMail(m, base)
	case "email_change":
		c = emailChangeMail(m, base)
	case "password_reset":
		c = passwordResetMail(m, base)
	case "login_unlock":
		c = loginUnlockMail(m, base)
	case "signup_exists":
		c = signupExistsMail(m, base)
	case "notice":
		var err error
		if c, err = noticeMail(m, base); err != nil {
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
			c.Expires = "This link works once, until " + mailTime(m.LinkExpiresAt) + "."
		}
	}
	if c.Heading == "" {
		c.Heading = c.Subject
	}
	c.Subject = oneLine(c.Subject)
	c.BaseURL = base
	return c, nil
}

func verifyEmailMail(m MailData, base string) mailContent {
	return mailContent{
		Subject: "Confirm your email address",
		Intro:   []mailPara{{Text: "Thanks for signing up for Dancecard. To finish, confirm that " + m.To + " is your email address."}},
		Action:  "Confirm email address",
		Outro:   []mailPara{{Text: "If you did not sign up for Dancecard, ignore this mail: the address stays unconfirmed."}},
		Reason:  "You got this mail because someone signed up for Dancecard at " + base + " with this address.",
	}
}

// emailChangeMail goes to the new address; Data["old_email"] is the current
// one, or "" when the account is adding its first address.
func emailChangeMail(m MailData, base string) mailContent {
	c := mailContent{
		Subject: "Confirm your new email address",
		Action:  "Confirm new address",
		Reason:  "You got this mail because someone asked to use this address for a Dancecard account at " + base + ".",
	}
	if old := m.Data["old_email"]; old != "" {
		c.Intro = []mailPara{{Text: "You asked to change the email address of your Dancecard account from " + old + " to " + m.To + ". Confirm that this new address is yours."}}
		c.Outro = []mailPara{{Text: "Until you confirm, your account keeps using " + old + ". If you did not ask for this, ignore this mail: nothing changes."}}
	} else {
		c.Intro = []mailPara{{Text: "You asked to add " + m.To + " to your Dancecard account. Confirm that this address is yours."}}
		c.Outro = []mailPara{{Text: "If you did not ask for this, ignore this mail: nothing changes."}}
	}
	return c
}

func passwordResetMail(m MailData, base string) mailContent {
	return mailContent{
		Subject: "Reset your Dancecard password",
		Intro:   []mailPara{{Text: "Someone, hopefully you, asked to reset the password of the Dancecard account for " + m.To + ". Choose a new password with this link."}},
		Action:  "Choose a new password",
		Outro:   []mailPara{{Text: "If you did not ask for this, ignore this mail: your password stays the same."}},
		Reason:  "You got this mail because a password reset was asked for this address at " + base + ".",
	}
}

func loginUnlockMail(m MailData, base string) mailContent {
	return mailContent{
		Subject: "Unlock log-in to your account",
		Intro: []mailPara{{Text: "There were many failed attempts to log in to the Dancecard account for " + m.To +
			", so logging in with its password is paused for a while. If that was you, this link lets you log in from your browser despite the pause."}},
		Action: "Unlock log-in",
		Outro: []mailPara{{
			Text: "If it was not you, someone may be guessing your password. The pause protects you, but to be safe, choose a new password:",
			URL:  base + "/password/forgot",
		}},
		Reason: "You got this mail because of failed log-ins to the Dancecard account for this address at " + base + ".",
	}
}

// signupExistsMail tells the owner of an address that someone tried to sign
// up with it, without telling the one who tried: the sign-up page looks the
// same either way.
func signupExistsMail(m MailData, base string) mailContent {
	return mailContent{
		Subject: "Someone tried to sign up with your address",
		Intro:   []mailPara{{Text: "Someone tried to create a Dancecard account with " + m.To + ", but you already have one. Nothing was changed."}},
		Outro: []mailPara{
			{Text: "If it was you, log in instead:", URL: base + "/login"},
			{Text: "Forgot your password? Choose a new one:", URL: base + "/password/forgot"},
			{Text: "If it was not you, ignore this mail. Your account is safe."},
		},
		Reason: "You got this mail because someone used this address on the sign-up form at " + base + ".",
	}
}

// noticeSpec is one kind of notice: the Data keys it needs besides "at", and
// what it says happened ("The password of your Dancecard account was changed").
type noticeSpec struct {
	need    []string
	subject func(d map[string]string) string
	what    func(d map[string]string) string
	// notYou overrides the usual advice to reset the password, where a reset
	// would not help: the account is gone, or reset links now go elsewhere.
	notYou  string
	profile bool // point to the profile, where the change can be seen and undone
}

var noticeSpecs = map[string]noticeSpec{
	"password_changed": {
		subject: fixed("Your Dancecard password was changed"),
		what:    fixed("The password of your Dancecard account was changed"),
	},
	"password_reset": {
		subject: fixed("Your Dancecard password was reset"),
		what:    fixed("The password of your Dancecard account was reset with a link sent to this address"),
	},
	"email_changed": {
		need:    []string{"new_email"},
		subject: fixed("Your Dancecard email address was changed"),
		what: func(d map[string]string) string {
			return "The email address of your Dancecard account was changed from this address to " + d["new_email"]
		},
		notYou: "If this was not you, contact an administrator of this Dancecard server at once: password reset links now go to the new address.",
	},
	"connection_added": {
		need: []string{"provider"},
		subject: func(d map[string]string) string {
			return d["provider"] + " account linked to your Dancecard account"
		},
		what: func(d map[string]string) string {
			return "The " + accountAt(d) + " was linked to your Dancecard account"
		},
		profile: true,
	},
	"connection_removed": {
		need: []string{"provider"},
		subject: func(d map[string]string) string {
			return d["provider"] + " account unlinked from your Dancecard account"
		},
		what: func(d map[string]string) string {
			return "The " + accountAt(d) + " was unlinked from your Dancecard account"
		},
		profile: true,
	},
	"token_created": {
		need:    []string{"token_name", "scope"},
		subject: fixed("A new API token was created for your Dancecard account"),
		what: func(d map[string]string) string {
			return "An API token named “" + d["token_name"] + "” with the scope " + d["scope"] +
				" was created for your Dancecard account. Programs holding it can use the Dancecard API as you. It was created"
		},
		profile: true,
	},
	"account_deleted": {
		subject: fixed("Your Dancecard account was deleted"),
		what:    fixed("Your Dancecard account, its sessions, API tokens and linked accounts were deleted"),
		notYou:  "If this was not you, contact an administrator of this Dancecard server at once.",
	},
	"mfa_changed": {
		subject: fixed("Your Dancecard two-step verification changed"),
		what: func(d map[string]string) string {
			if d["detail"] == "" {
				return "The two-step verification settings of your Dancecard account were changed"
			}
			return "The two-step verification settings of your Dancecard account were changed (" + d["detail"] + ")"
		},
	},
}

func fixed(s string) func(map[string]string) string {
	return func(map[string]string) string { return s }
}

// accountAt names a linked account in a notice: "GitHub account octo".
func accountAt(d map[string]string) string {
	if d["username"] == "" {
		return d["provider"] + " account"
	}
	return d["provider"] + " account " + d["username"]
}

// noticeMail tells the owner of an account that something happened to it, when,
// and what to do if it was not them.
func noticeMail(m MailData, base string) (mailContent, error) {
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
	c := mailContent{
		Subject: spec.subject(m.Data),
		Intro:   []mailPara{{Text: spec.what(m.Data) + " on " + mailTime(at) + "."}},
		Reason: "You got this mail because it is about the Dancecard account that uses or used this address at " + base +
			". Dancecard tells you of changes like this one so that you can act if they were not yours.",
	}
	if spec.profile {
		c.Intro = append(c.Intro, mailPara{Text: "Review it on your profile:", URL: base + "/profile"})
	}
	if spec.notYou != "" {
		c.Outro = []mailPara{{Text: spec.notYou}}
	} else {
		c.Outro = []mailPara{
			{Text: "If this was not you, someone else may have access to your account. Reset your password now:", URL: base + "/password/forgot"},
			{Text: "Then tell an administrator of this Dancecard server."},
		}
	}
	return c, nil
}
