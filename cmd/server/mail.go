package main

import (
	"context"
	"log/slog"
	"net/url"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dancecard/dancecard/internal/config"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/web"
)

// newMailer picks where mail goes: SMTP when mail.smtp_url is set, the dev
// mailbox in dev mode without it, and otherwise nowhere: mail then waits
// in the outbox (with a warning at start) until an SMTP server is set.
// The returned mailbox is non-nil only in the dev-mailbox case.
func newMailer(cfg *config.Config, db *pgxpool.Pool, log *slog.Logger, reg *prometheus.Registry,
	resolver mail.Resolver) (*mail.Sender, *mail.DevMailbox, error) {
	var transport mail.Transport
	var box *mail.DevMailbox
	switch {
	case cfg.Mail.SMTPURL != "":
		t, err := mail.NewSMTP(cfg.Mail.SMTPURL)
		if err != nil {
			return nil, nil, err
		}
		transport = t
	case cfg.Dev:
		box = mail.NewDevMailbox(db)
		transport = box
	default:
		log.Warn("mail: mail.smtp_url is empty, so no mail is sent: verification, recovery and notices wait in the outbox until it is set")
		return nil, nil, nil
	}
	sent := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dancecard_mail_total",
		Help: "Mail send attempts by kind and outcome: sent, retry (failed, tried again later), dead (parked for an administrator), skipped (its link was no longer valid).",
	}, []string{"kind", "outcome"})
	reg.MustRegister(sent)
	s := mail.NewSender(mail.Options{
		DB: db, Transport: transport, Renderer: mailRenderer(cfg.BaseURL), BaseURL: cfg.BaseURL,
		From: cfg.Mail.From, Logger: log, Resolver: resolver,
		OnResult: func(kind mail.Kind, outcome string) { sent.WithLabelValues(string(kind), outcome).Inc() },
	})
	return s, box, nil
}

// mailRenderer renders each mail with the web package's templates.
func mailRenderer(base *url.URL) mail.Renderer {
	return mail.RendererFunc(func(o mail.Outgoing) (mail.Rendered, error) {
		subject, text, html, err := web.RenderMail(web.MailData{Kind: string(o.Kind), To: o.To, Data: o.Data,
			LinkURL: o.LinkURL, LinkExpiresAt: o.LinkExpiresAt, BaseURL: base.String(), Lang: o.Lang})
		return mail.Rendered{Subject: subject, Text: text, HTML: html}, err
	})
}

// startMail sends mail in the background until ctx ends; the returned
// function waits for it to stop.
func startMail(ctx context.Context, s *mail.Sender) func() {
	if s == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	return func() { cancel(); <-done }
}
