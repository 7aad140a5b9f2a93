-- Local accounts. email is nullable because an account created by logging in
-- with a provider that shares no email (Twitter, say) has none; every email
-- is stored trimmed and lower-cased, and one email is one account.
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text,
    password_hash text,
    is_admin      boolean     NOT NULL DEFAULT false,
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_lower CHECK (email = lower(email))
);

CREATE UNIQUE INDEX users_email_key ON users (email) WHERE email IS NOT NULL;
