CREATE OR REPLACE FUNCTION admin_count_users_apply(d bigint, admins bigint, disabled bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO user_counts AS c (shard, users, admins, disabled)
    SELECT admin_count_shard(), d, admins, disabled WHERE d <> 0 OR admins <> 0 OR disabled <> 0
    ON CONFLICT (shard) DO UPDATE SET users = c.users + excluded.users,
        admins = c.admins + excluded.admins, disabled = c.disabled + excluded.disabled;
$$;
