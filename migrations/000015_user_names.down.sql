DROP INDEX users_name_trgm_idx;
ALTER TABLE users DROP COLUMN name;
