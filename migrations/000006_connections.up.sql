-- A connection links one local user to one provider account. Token columns
-- hold AES-256-GCM ciphertexts (internal/links/seal.go), never plaintext.
CREATE TABLE connections (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider         text        NOT NULL,
    provider_user_id text        NOT NULL,
    username         text        NOT NULL DEFAULT '',
    name             text        NOT NULL DEFAULT '',
    profile_url      text        NOT NULL DEFAULT '',
    avatar_url       text        NOT NULL DEFAULT '',
    email            text        NOT NULL DEFAULT '',
    email_verified   boolean     NOT NULL DEFAULT false,
    scopes           text[]      NOT NULL DEFAULT '{}',
    access_token     bytea       NOT NULL,
    token_secret     bytea,
    refresh_token    bytea,
    token_type       text        NOT NULL DEFAULT '',
    expires_at       timestamptz,
    status           text        NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'expiring', 'needs_reauth', 'revoked')),
    rank             integer     NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    last_used_at     timestamptz,
    CONSTRAINT connections_provider_account_key UNIQUE (provider, provider_user_id)
);

CREATE INDEX connections_user_id_idx ON connections (user_id, provider, rank);
