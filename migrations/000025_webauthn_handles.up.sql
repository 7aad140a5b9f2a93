-- Passkeys name their account by a user handle. It was the user id (eight
-- bytes); it is now 32 random bytes per user, made when the first passkey is
-- added, so an authenticator's records say nothing about the account's place
-- in this database (WebAuthn Level 3, 14.6.1). Users who already have
-- passkeys keep the handle their authenticators hold: the old id bytes.
ALTER TABLE users ADD COLUMN webauthn_handle bytea UNIQUE;

UPDATE users SET webauthn_handle = int8send(id)
WHERE id IN (SELECT user_id FROM passkeys);

-- A re-authentication with a passkey is a third kind of ceremony: an
-- assertion for the signed-in user's own passkeys.
ALTER TABLE webauthn_ceremonies DROP CONSTRAINT webauthn_ceremonies_kind_check;
ALTER TABLE webauthn_ceremonies ADD CONSTRAINT webauthn_ceremonies_kind_check
    CHECK (kind IN ('register', 'login', 'reauth'));
