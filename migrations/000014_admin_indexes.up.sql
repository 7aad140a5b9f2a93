-- The admin console lists whole tables with filters, sorts and keyset
-- pagination. Every combination it offers has an index that yields rows in
-- the requested order, so no filter a visitor can choose scans a table.
-- Searches use trigram indexes (pg_trgm) for substring matches.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Users: newest first by (created_at, id), or by email; search on email.
CREATE INDEX users_created_idx ON users (created_at, id);
CREATE INDEX users_email_sort_idx ON users ((coalesce(email, '')), id);
CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops);

-- Connections: sorted by created or last used (never used sorts as the
-- epoch), optionally filtered by provider, status or both.
CREATE INDEX connections_created_idx ON connections (created_at, id);
CREATE INDEX connections_provider_created_idx ON connections (provider, created_at, id);
CREATE INDEX connections_status_created_idx ON connections (status, created_at, id);
CREATE INDEX connections_provider_status_created_idx ON connections (provider, status, created_at, id);
CREATE INDEX connections_used_idx ON connections ((coalesce(last_used_at, 'epoch')), id);
CREATE INDEX connections_provider_used_idx ON connections (provider, (coalesce(last_used_at, 'epoch')), id);
CREATE INDEX connections_status_used_idx ON connections (status, (coalesce(last_used_at, 'epoch')), id);
CREATE INDEX connections_provider_status_used_idx ON connections (provider, status, (coalesce(last_used_at, 'epoch')), id);
-- One trigram index serves a search over username, display name, email and
-- provider user id; the admin queries use exactly this expression.
CREATE INDEX connections_search_trgm_idx ON connections USING gin
    ((username || ' ' || name || ' ' || email || ' ' || provider_user_id) gin_trgm_ops);

-- Events: newest first by (created_at, id), filtered by kind, user,
-- provider and a time range.
CREATE INDEX events_created_idx ON events (created_at, id);
CREATE INDEX events_kind_created_idx ON events (kind, created_at, id);
CREATE INDEX events_user_created_idx ON events (user_id, created_at, id);
CREATE INDEX events_provider_created_idx ON events (provider, created_at, id);
-- Kind and provider together (login_failed at github): each alone can match
-- most of the log while the pair matches nothing.
CREATE INDEX events_kind_provider_created_idx ON events (kind, provider, created_at, id);

-- The dashboard's totals come from counters kept by statement-level
-- triggers, so the page never counts a million rows. Each statement adds its
-- net change per group to one of eight shards picked at random, so
-- concurrent writers rarely wait on the same counter row, and a statement
-- that changes no counted column (last_used_at, tokens) writes nothing.
CREATE TABLE connection_counts (
    provider text     NOT NULL,
    status   text     NOT NULL,
    shard    smallint NOT NULL,
    n        bigint   NOT NULL,
    PRIMARY KEY (provider, status, shard)
);

CREATE TABLE user_counts (
    shard    smallint PRIMARY KEY,
    users    bigint NOT NULL,
    admins   bigint NOT NULL,
    disabled bigint NOT NULL
);

-- Log-ins per UTC day and kind, for the 30-day chart.
CREATE TABLE login_counts (
    day   date     NOT NULL,
    kind  text     NOT NULL,
    shard smallint NOT NULL,
    n     bigint   NOT NULL,
    PRIMARY KEY (day, kind, shard)
);

-- One function per table and event, since each reads only the transition
-- tables its event has. An UPDATE adds only the net change per group, so a
-- token refresh or a last-used touch writes nothing.
CREATE FUNCTION admin_count_connections_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO connection_counts AS c (provider, status, shard, n)
    SELECT provider, status, floor(random() * 8)::smallint, count(*) FROM new_rows GROUP BY provider, status
    ON CONFLICT (provider, status, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE FUNCTION admin_count_connections_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO connection_counts AS c (provider, status, shard, n)
    SELECT provider, status, floor(random() * 8)::smallint, -count(*) FROM old_rows GROUP BY provider, status
    ON CONFLICT (provider, status, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

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

CREATE FUNCTION admin_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DELETE FROM %I', TG_ARGV[0]);
    RETURN NULL;
END $$;

CREATE TRIGGER connections_count_ins AFTER INSERT ON connections REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION admin_count_connections_ins();
CREATE TRIGGER connections_count_del AFTER DELETE ON connections REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION admin_count_connections_del();
CREATE TRIGGER connections_count_upd AFTER UPDATE ON connections REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION admin_count_connections_upd();
CREATE TRIGGER connections_count_truncate AFTER TRUNCATE ON connections
    FOR EACH STATEMENT EXECUTE FUNCTION admin_count_truncate('connection_counts');

-- users: d is +1 for a row that now exists, -1 for one that did.
CREATE FUNCTION admin_count_users_apply(d bigint, admins bigint, disabled bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO user_counts AS c (shard, users, admins, disabled)
    SELECT floor(random() * 8)::smallint, d, admins, disabled WHERE d <> 0 OR admins <> 0 OR disabled <> 0
    ON CONFLICT (shard) DO UPDATE SET users = c.users + excluded.users,
        admins = c.admins + excluded.admins, disabled = c.disabled + excluded.disabled;
$$;

CREATE FUNCTION admin_count_users_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM admin_count_users_apply(count(*), count(*) FILTER (WHERE is_admin), count(*) FILTER (WHERE disabled_at IS NOT NULL))
    FROM new_rows;
    RETURN NULL;
END $$;

CREATE FUNCTION admin_count_users_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM admin_count_users_apply(-count(*), -count(*) FILTER (WHERE is_admin), -count(*) FILTER (WHERE disabled_at IS NOT NULL))
    FROM old_rows;
    RETURN NULL;
END $$;

CREATE FUNCTION admin_count_users_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM admin_count_users_apply(0,
        (SELECT count(*) FILTER (WHERE is_admin) FROM new_rows) - (SELECT count(*) FILTER (WHERE is_admin) FROM old_rows),
        (SELECT count(*) FILTER (WHERE disabled_at IS NOT NULL) FROM new_rows)
          - (SELECT count(*) FILTER (WHERE disabled_at IS NOT NULL) FROM old_rows));
    RETURN NULL;
END $$;

CREATE TRIGGER users_count_ins AFTER INSERT ON users REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION admin_count_users_ins();
CREATE TRIGGER users_count_del AFTER DELETE ON users REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION admin_count_users_del();
CREATE TRIGGER users_count_upd AFTER UPDATE ON users REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION admin_count_users_upd();
CREATE TRIGGER users_count_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION admin_count_truncate('user_counts');

-- Events are only ever inserted.
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
CREATE TRIGGER events_count_truncate AFTER TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION admin_count_truncate('login_counts');

-- Start the counters from what is already there.
INSERT INTO connection_counts SELECT provider, status, 0, count(*) FROM connections GROUP BY 1, 2;
INSERT INTO user_counts SELECT 0, count(*), count(*) FILTER (WHERE is_admin), count(*) FILTER (WHERE disabled_at IS NOT NULL) FROM users;
INSERT INTO login_counts SELECT (created_at AT TIME ZONE 'UTC')::date, kind, 0, count(*) FROM events
    WHERE kind IN ('login_completed', 'login_failed') GROUP BY 1, 2;
