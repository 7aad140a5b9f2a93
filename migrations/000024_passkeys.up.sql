-- Passkeys (WebAuthn credentials) and the ceremonies that make and use them.
--
-- passkeys: one row per credential a user registered. credential_id is the
-- authenticator's id for it, unique across all users; sign_count is the
-- newest signature counter seen, so a counter that goes back (a cloned
-- authenticator) is refused. The user handle given to authenticators is the
-- user id, so no column holds it.
CREATE TABLE passkeys (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id    bytea       NOT NULL UNIQUE,
    public_key       bytea       NOT NULL,
    attestation_type text        NOT NULL DEFAULT '',
    aaguid           bytea,
    sign_count       bigint      NOT NULL DEFAULT 0,
    backup_eligible  boolean     NOT NULL DEFAULT false,
    backup_state     boolean     NOT NULL DEFAULT false,
    transports       text[]      NOT NULL DEFAULT '{}',
    name             text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_used_at     timestamptz
);

CREATE INDEX passkeys_user_id_idx ON passkeys (user_id);

-- webauthn_ceremonies: a registration or log-in begun and not yet finished,
-- held server-side so any replica can finish it. The cookie token and the
-- browser binding are stored only as SHA-256; session is the library's
-- SessionData (the challenge). A ceremony is used once: finishing deletes
-- it. UNLOGGED like login_holds: a crash loses ceremonies in flight, and the
-- person presses the button again.
CREATE UNLOGGED TABLE webauthn_ceremonies (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   bytea       NOT NULL UNIQUE,
    user_id      bigint      REFERENCES users (id) ON DELETE CASCADE,
    kind         text        NOT NULL CHECK (kind IN ('register', 'login')),
    browser_hash bytea       NOT NULL,
    session      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

CREATE INDEX webauthn_ceremonies_expires_at_idx ON webauthn_ceremonies (expires_at);
