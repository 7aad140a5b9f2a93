-- What the profile's "Check connection" last found, and the last problem a
-- provider reported about a connection's access (a refused token, a failed
-- check), so the connection card can show both. Neither moves updated_at,
-- which dates the stored token.
ALTER TABLE connections
    ADD COLUMN checked_at    timestamptz,
    ADD COLUMN last_error    text NOT NULL DEFAULT '',
    ADD COLUMN last_error_at timestamptz;
