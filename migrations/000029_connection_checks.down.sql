ALTER TABLE connections
    DROP COLUMN checked_at,
    DROP COLUMN last_error,
    DROP COLUMN last_error_at;
