CREATE INDEX sessions_user_id_idx ON sessions (user_id);
DROP INDEX sessions_user_recent_idx;
