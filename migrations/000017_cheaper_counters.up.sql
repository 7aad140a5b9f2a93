-- The dance's log-in transaction paid for the dashboard's counters on every
-- statement: the statement-level triggers of migration 000014 build
-- transition tables and run a query even when nothing counted changed (a
-- log-in rewrites its connection's tokens but rarely its status). Updates and
-- log-ins now use row-level triggers whose WHEN clause PostgreSQL checks
-- without calling a function, so only a change of a counted column (or a
-- log-in event) costs an upsert. Inserts and deletes keep their statement
-- triggers: they are rarer, and one statement may touch many rows.

-- Counter rows are also where concurrent log-ins met: each added 1 to one of
-- eight shards picked at random and held that row's lock until its commit, so
-- at a few hundred log-ins a second half the log-in transaction's time went to
-- waiting for a shard. The shard is now the backend's own (its process id
-- modulo 64): a connection runs one transaction at a time, so two concurrent
-- transactions share a counter row only when their process ids collide.
CREATE FUNCTION admin_count_shard() RETURNS smallint LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (pg_backend_pid() % 64)::smallint
$$;

CREATE OR REPLACE FUNCTION admin_count_connections_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO connection_counts AS c (provider, status, shard, n)
    SELECT provider, status, admin_count_shard(), count(*) FROM new_rows GROUP BY provider, status
    ON CONFLICT (provider, status, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION admin_count_connections_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO connection_counts AS c (provider, status, shard, n)
    SELECT provider, status, admin_count_shard(), -count(*) FROM old_rows GROUP BY provider, status
    ON CONFLICT (provider, status, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION admin_count_users_apply(d bigint, admins bigint, disabled bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO user_counts AS c (shard, users, admins, disabled)
    SELECT admin_count_shard(), d, admins, disabled WHERE d <> 0 OR admins <> 0 OR disabled <> 0
    ON CONFLICT (shard) DO UPDATE SET users = c.users + excluded.users,
        admins = c.admins + excluded.admins, disabled = c.disabled + excluded.disabled;
$$;

DROP TRIGGER connections_count_upd ON connections;
DROP FUNCTION admin_count_connections_upd();
CREATE FUNCTION admin_count_connection_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s smallint := admin_count_shard();
BEGIN
    INSERT INTO connection_counts AS c (provider, status, shard, n)
    VALUES (OLD.provider, OLD.status, s, -1), (NEW.provider, NEW.status, s, 1)
    ON CONFLICT (provider, status, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;
CREATE TRIGGER connections_count_upd AFTER UPDATE OF provider, status ON connections
    FOR EACH ROW WHEN (OLD.provider IS DISTINCT FROM NEW.provider OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION admin_count_connection_moved();

DROP TRIGGER users_count_upd ON users;
DROP FUNCTION admin_count_users_upd();
CREATE FUNCTION admin_count_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM admin_count_users_apply(0,
        NEW.is_admin::int - OLD.is_admin::int,
        (NEW.disabled_at IS NOT NULL)::int - (OLD.disabled_at IS NOT NULL)::int);
    RETURN NULL;
END $$;
CREATE TRIGGER users_count_upd AFTER UPDATE OF is_admin, disabled_at ON users
    FOR EACH ROW WHEN (OLD.is_admin IS DISTINCT FROM NEW.is_admin
                       OR (OLD.disabled_at IS NULL) IS DISTINCT FROM (NEW.disabled_at IS NULL))
    EXECUTE FUNCTION admin_count_user_changed();

DROP TRIGGER events_count_logins ON events;
DROP FUNCTION admin_count_logins();
CREATE FUNCTION admin_count_login() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO login_counts AS c (day, kind, shard, n)
    VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.kind, admin_count_shard(), 1)
    ON CONFLICT (day, kind, shard) DO UPDATE SET n = c.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER events_count_logins AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.kind IN ('login_completed', 'login_failed'))
    EXECUTE FUNCTION admin_count_login();

-- Every event paid for three indexes that newer ones (migration 000014) cover:
-- (created_at) is the prefix of (created_at, id), and nothing reads events by
-- (user_id, id) or (kind, id) any more; the admin lists and the foreign key
-- use (user_id, created_at, id) and (kind, created_at, id).
DROP INDEX events_created_at_idx;
DROP INDEX events_user_id_idx;
DROP INDEX events_kind_idx;

-- A log-in rewrites its connection's row (new tokens). With full pages that
-- new version goes to another page and every one of the table's indexes gets
-- an entry; room in the page lets PostgreSQL keep it there (a HOT update)
-- when no indexed column changed. It applies to pages written from now on.
ALTER TABLE connections SET (fillfactor = 80);
