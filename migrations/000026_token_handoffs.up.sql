-- token_handoffs: the secret of a personal access token just made on the
-- profile page, kept for the one page view that shows it (post/redirect/
-- get), so the secret never travels in a URL, a cookie or a log line. The
-- secret is sealed with the server's token keys, bound to the user and the
-- browser; the browser binding is stored only as SHA-256. Reading deletes
-- it, and it lives five minutes at most. UNLOGGED like login_holds: it is
-- kept out of the WAL, replicas and base backups, and a crash loses only
-- hand-offs in flight (the token stays listed, to revoke and make anew).
CREATE UNLOGGED TABLE token_handoffs (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_id     bigint      NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    browser_hash bytea       NOT NULL,
    sealed       bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

CREATE INDEX token_handoffs_user_browser_idx ON token_handoffs (user_id, browser_hash);
CREATE INDEX token_handoffs_token_id_idx ON token_handoffs (token_id);
CREATE INDEX token_handoffs_expires_at_idx ON token_handoffs (expires_at);
