DROP INDEX users_verified_created_idx;
DROP INDEX users_disabled_created_idx;
DROP INDEX users_admins_created_idx;
DROP TRIGGER events_last_login ON events;
DROP FUNCTION admin_last_login();
DROP TABLE last_logins;
