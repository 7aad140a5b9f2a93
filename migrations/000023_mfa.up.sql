-- Second factors and the held second step of a log-in.
--
-- totp_factors: one authenticator app per user. Secrets are stored sealed
-- with the server's token keys, bound to the user, never in plaintext.
-- pending_secret is an enrolment not yet confirmed with a code; it does not
-- count as a second factor, and a new enrolment replaces it. last_step is
-- the newest 30-second time step whose code was accepted: a code is
-- accepted once, so a step at or before it is refused.
CREATE TABLE totp_factors (
    user_id        bigint      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret         bytea,
    pending_secret bytea,
    last_step      bigint      NOT NULL DEFAULT 0,
    enabled_at     timestamptz,
    last_used_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT totp_factors_has_secret CHECK (secret IS NOT NULL OR pending_secret IS NOT NULL)
);

-- recovery_codes: the set shown once when a second factor is first set up.
-- Only SHA-256 of the user id and the code is stored; used_at marks a spent
-- code, and making a new set deletes the old one.
CREATE TABLE recovery_codes (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea       NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT recovery_codes_user_code_key UNIQUE (user_id, code_hash)
);

-- login_holds: a log-in whose password (or provider) was right, waiting for
-- its second factor. The cookie token and the browser binding are stored
-- only as SHA-256; a hold lives for minutes and allows a few wrong codes.
-- UNLOGGED like dances: a crash or failover loses the holds in flight, and
-- those people log in again; no session exists until the hold is completed.
CREATE UNLOGGED TABLE login_holds (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   bytea       NOT NULL UNIQUE,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    browser_hash bytea       NOT NULL,
    method       text        NOT NULL,
    provider     text        NOT NULL DEFAULT '',
    attempts     integer     NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

CREATE INDEX login_holds_user_id_idx ON login_holds (user_id);
CREATE INDEX login_holds_expires_at_idx ON login_holds (expires_at);
