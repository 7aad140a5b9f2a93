-- A display name for each account, so administrators can find people by
-- name. Local accounts have none of their own: it comes from the first
-- provider account linked that has one (links sets it when a connection is
-- created and the user's name is still empty). A trigram index serves the
-- admin users search, which matches email or name.
ALTER TABLE users ADD COLUMN name text NOT NULL DEFAULT '';

UPDATE users u SET name = c.name
FROM (SELECT DISTINCT ON (user_id) user_id, name FROM connections WHERE name <> ''
      ORDER BY user_id, id) c
WHERE c.user_id = u.id;

CREATE INDEX users_name_trgm_idx ON users USING gin (name gin_trgm_ops);
