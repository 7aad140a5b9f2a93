-- When this session's user last proved who they are (log-in or
-- re-authentication). Sensitive actions need it to be recent, however long
-- the session itself has lived.
ALTER TABLE sessions ADD COLUMN authenticated_at timestamptz NOT NULL DEFAULT now();
