DROP INDEX events_provider_created_idx;
DROP INDEX events_user_created_idx;
DROP INDEX events_kind_created_idx;
DROP INDEX events_created_idx;
DROP INDEX connections_search_trgm_idx;
DROP INDEX connections_provider_status_used_idx;
DROP INDEX connections_status_used_idx;
DROP INDEX connections_provider_used_idx;
DROP INDEX connections_used_idx;
DROP INDEX connections_provider_status_created_idx;
DROP INDEX connections_status_created_idx;
DROP INDEX connections_provider_created_idx;
DROP INDEX connections_created_idx;
DROP INDEX users_email_trgm_idx;
DROP INDEX users_email_sort_idx;
DROP INDEX users_created_idx;
-- pg_trgm stays: other objects may have come to depend on it.
