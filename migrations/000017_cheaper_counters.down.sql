ALTER TABLE connections RESET (fillfactor);

CREATE INDEX events_kind_idx ON events (kind, id);
CREATE INDEX events_user_id_idx ON events (user_id, id);
CREATE INDEX events_created_at_idx ON events (created_at);

DROP TRIGGER events_count_logins ON events;
DROP FUNCTION admin_count_login();
CREATE FUNCTION admin_count_logins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO login_counts AS c (day, kind, shard, n)
    SELECT (created_at AT TIME ZONE 'UTC')::date, kind, floor(random() * 8)::smallint, count(*)
    FROM new_rows WHERE kind IN ('login_completed', 'login_failed') GROUP BY 1, 2
    ON CONFLICT (day, kind, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;
CREATE TRIGGER events_count_logins AFTER INSERT ON events REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION admin_count_logins();

DROP TRIGGER users_count_upd ON users;
DROP FUNCTION admin_count_user_changed();
CREATE FUNCTION admin_count_users_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM admin_count_users_apply(0,
        (SELECT count(*) FILTER (WHERE is_admin) FROM new_rows) - (SELECT count(*) FILTER (WHERE is_admin) FROM old_rows),
        (SELECT count(*) FILTER (WHERE disabled_at IS NOT NULL) FROM new_rows)
          - (SELECT count(*) FILTER (WHERE disabled_at IS NOT NULL) FROM old_rows));
    RETURN NULL;
END $$;
CREATE TRIGGER users_count_upd AFTER UPDATE ON users REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION admin_count_users_upd();

DROP TRIGGER connections_count_upd ON connections;
DROP FUNCTION admin_count_connection_moved();
CREATE FUNCTION admin_count_connections_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO connection_counts AS c (provider, status, shard, n)
    SELECT provider, status, floor(random() * 8)::smallint, sum(d) FROM (
        SELECT provider, status, 1 AS d FROM new_rows
        UNION ALL SELECT provider, status, -1 FROM old_rows) x
    GROUP BY provider, status HAVING sum(d) <> 0
    ON CONFLICT (provider, status, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;
CREATE TRIGGER connections_count_upd AFTER UPDATE ON connections REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION admin_count_connections_upd();

CREATE OR REPLACE FUNCTION admin_count_users_apply(d bigint, admins bigint, disabled bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO user_counts AS c (shard, users, admins, disabled)
    SELECT floor(random() * 8)::smallint, d, admins, disabled WHERE d <> 0 OR admins <> 0 OR disabled <> 0
    ON CONFLICT (shard) DO UPDATE SET users = c.users + excluded.users,
        admins = c.admins + excluded.admins, disabled = c.disabled + excluded.disabled;
$$;

CREATE OR REPLACE FUNCTION admin_count_connections_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO connection_counts AS c (provider, status, shard, n)
    SELECT provider, status, floor(random() * 8)::smallint, -count(*) FROM old_rows GROUP BY provider, status
    ON CONFLICT (provider, status, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION admin_count_connections_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO connection_counts AS c (provider, status, shard, n)
    SELECT provider, status, floor(random() * 8)::smallint, count(*) FROM new_rows GROUP BY provider, status
    ON CONFLICT (provider, status, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

DROP FUNCTION admin_count_shard();
