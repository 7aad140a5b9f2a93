package web

import "time"

// DevMail is one message in the dev mailbox, where dev mode keeps outgoing
// mail when no mail.smtp_url is set.
type DevMail struct {
	ID                            int64
	To, From, Subject, Text, HTML string
	CreatedAt                     time.Time
}

// DevMailbox is the dev mailbox's list page.
type DevMailbox struct {
	Messages []DevMail
}
