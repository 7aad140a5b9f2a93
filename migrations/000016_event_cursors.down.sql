-- Back to one delivery row per (event, subscriber). Events past a cursor
-- get no rows here: the old dispatcher does not deliver them.
CREATE OR REPLACE FUNCTION fan_out_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_deliveries (event_id, subscriber, user_id)
    SELECT NEW.id, s.name, NEW.user_id
    FROM event_subscribers s
    WHERE s.kinds = '{}' OR NEW.kind = ANY (s.kinds);
    IF FOUND AND EXISTS (
        SELECT 1 FROM event_subscribers s
        WHERE (s.kinds = '{}' OR NEW.kind = ANY (s.kinds))
          AND (s.awake_until IS NULL OR s.awake_until < clock_timestamp())) THEN
        PERFORM pg_notify('dancecard_events', '');
    END IF;
    RETURN NULL;
END;
$$;

ALTER TABLE event_deliveries ADD COLUMN claimed_until timestamptz;
ALTER TABLE event_subscribers
    DROP COLUMN cursor_tx, DROP COLUMN cursor_id, DROP COLUMN ahead, DROP COLUMN owner, DROP COLUMN lease_until;
DROP INDEX events_tx_idx;
ALTER TABLE events DROP COLUMN tx;
