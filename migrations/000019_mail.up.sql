-- Outgoing mail and the one-time links it carries.
--
-- mail_links: one row per link a mail offers (verify an address, reset a
-- password, ...). token_hash is NULL until the sender mints the secret just
-- before sending, so the secret exists only in the mail that went out; a
-- retry mints again and overwrites it, so only the newest send works. Only
-- the SHA-256 is stored, like sessions and API tokens. email is the address
-- the link was sent to (lower-cased, as users.email is), so following it
-- proves that address even if the account's address changed meanwhile.
-- used_at is set when the link is consumed and also when a newer link of the
-- same user and purpose replaces it: a voided link and a used one are refused
-- alike, and a queued mail whose link was voided is not sent.
CREATE TABLE mail_links (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL,
    email      text        NOT NULL CHECK (email = lower(email)),
    token_hash bytea       UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

-- Voiding a user's earlier links of a purpose, and checking that no newer
-- one exists, look links up by (user_id, purpose).
CREATE INDEX mail_links_user_purpose_idx ON mail_links (user_id, purpose, id);

-- mail_outbox: mail written in the transaction that decided to send it, so
-- no mail goes out for a change that rolled back and none is lost for one
-- that committed. It carries no secret: the link's token is minted at send
-- time. user_id and link_id outlive their rows as NULL so the record of what
-- was sent (and the dead list) survives an account's deletion; a link mail
-- whose link is gone is not sent. attempts counts claims; locked_until is a
-- claim's lease, so two replicas never send one mail at once and a sender
-- that dies mid-send only delays the mail until the lease runs out. dead_at
-- parks a mail that failed too often until an administrator retries it.
CREATE TABLE mail_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint      REFERENCES users (id) ON DELETE SET NULL,
    to_addr         text        NOT NULL,
    kind            text        NOT NULL,
    data            jsonb       NOT NULL DEFAULT '{}',
    link_id         bigint      REFERENCES mail_links (id) ON DELETE SET NULL,
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    sent_at         timestamptz,
    dead_at         timestamptz,
    last_error      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- The claim query and the sender's "when is the next mail due" look only at
-- pending mail, a handful of rows however large the sent history grows.
CREATE INDEX mail_outbox_pending_idx ON mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND dead_at IS NULL;
-- The administrators' dead list, newest first, and its count.
CREATE INDEX mail_outbox_dead_idx ON mail_outbox (dead_at DESC, id DESC)
    WHERE dead_at IS NOT NULL;
-- Deleting a user or a link sets these to NULL; without an index each
-- deletion would scan the whole outbox.
CREATE INDEX mail_outbox_user_id_idx ON mail_outbox (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX mail_outbox_link_id_idx ON mail_outbox (link_id) WHERE link_id IS NOT NULL;

-- dev_mail: the development mailbox. Without an SMTP server configured, dev
-- mode stores mail here and shows it in the browser, so running the service
-- locally needs no mail server. Production never writes to it.
CREATE TABLE dev_mail (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    to_addr    text        NOT NULL,
    from_addr  text        NOT NULL,
    subject    text        NOT NULL,
    text_body  text        NOT NULL,
    html_body  text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
