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
