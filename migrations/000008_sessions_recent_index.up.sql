-- The profile lists a user's most recently used sessions; this index serves
-- that query in order, so a user with many sessions costs a short scan.
CREATE INDEX sessions_user_recent_idx ON sessions (user_id, last_seen_at DESC, id DESC);
DROP INDEX sessions_user_id_idx;
