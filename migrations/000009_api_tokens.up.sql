-- Personal access tokens for the JSON API. Like sessions, only the SHA-256
-- of the token is stored; prefix is its first characters, shown in lists so
-- a person can tell tokens apart. Revoking deletes the row, so a revoked
-- token is refused by the same lookup that refuses an unknown one.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    scope        text        NOT NULL CHECK (scope IN ('read', 'proxy', 'admin')),
    token_hash   bytea       NOT NULL UNIQUE,
    prefix       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz
);

CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id, id);
