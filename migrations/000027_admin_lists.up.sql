-- The admin users list shows each account's last log-in and filters by role,
-- state and verified address, at a million connections as fast as without.

-- The last log-in cannot be read from the event log: events are pruned after
-- events.retention (30 days by default), and a log-in 40 days ago is still a
-- log-in. A row-level trigger keeps the newest login_completed per user in
-- the log-in's own transaction, whichever way the log-in went (password,
-- provider, second step, passkey), since every one records that event. It is
-- a table of its own so a log-in never rewrites the users row and its many
-- indexes (two of them trigram GIN indexes).
CREATE TABLE last_logins (
    user_id bigint      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    at      timestamptz NOT NULL
);

CREATE FUNCTION admin_last_login() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Events carry no foreign key (the audit trail outlives its users), so
    -- an event naming no account changes nothing here.
    INSERT INTO last_logins AS l (user_id, at)
    SELECT NEW.user_id, NEW.created_at WHERE EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id)
    ON CONFLICT (user_id) DO UPDATE SET at = excluded.at WHERE l.at < excluded.at;
    RETURN NULL;
END $$;

CREATE TRIGGER events_last_login AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.kind = 'login_completed' AND NEW.user_id IS NOT NULL)
    EXECUTE FUNCTION admin_last_login();

INSERT INTO last_logins (user_id, at)
SELECT e.user_id, max(e.created_at) FROM events e JOIN users u ON u.id = e.user_id
WHERE e.kind = 'login_completed' GROUP BY e.user_id;

-- Role, state and verified filters. Administrators and disabled accounts
-- are few, so a partial index lists them in order without walking every
-- account; the other side of each (most accounts) is served by the sort's
-- own index with a filter. Verified addresses may be most accounts or
-- almost none, depending on the verification setting, so both sides get an
-- ordered range.
CREATE INDEX users_admins_created_idx ON users (created_at, id) WHERE is_admin;
CREATE INDEX users_disabled_created_idx ON users (created_at, id) WHERE disabled_at IS NOT NULL;
CREATE INDEX users_verified_created_idx ON users ((email_verified_at IS NOT NULL), created_at, id);

-- Statistics for the new expression index, so the planner knows how few
-- (or many) addresses are verified before autovacuum gets to it.
ANALYZE users;
