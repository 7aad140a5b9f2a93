-- Dances in flight. A row is found by the hash of the value the provider
-- echoes back (OAuth 2 state, OAuth 1 request token), is bound to the
-- browser that started it, is deleted when used, and expires after minutes.
-- secrets holds the sealed PKCE verifier, nonce and OAuth 1 request secret.
CREATE TABLE dances (
    lookup_hash  bytea       PRIMARY KEY,
    provider     text        NOT NULL,
    intent       text        NOT NULL CHECK (intent IN ('login', 'connect')),
    user_id      bigint      REFERENCES users (id) ON DELETE CASCADE,
    browser_hash bytea       NOT NULL,
    secrets      bytea       NOT NULL,
    next         text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

CREATE INDEX dances_expires_at_idx ON dances (expires_at);
