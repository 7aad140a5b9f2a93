-- Delivery by cursor. Instead of one event_deliveries row per (event,
-- subscriber), written by a trigger and updated twice more, each subscriber
-- keeps a cursor over the events table and one dispatcher at a time (the
-- lease holder) reads the events past it. event_deliveries now only holds
-- deliveries that failed (retries, dead letters) and the same user's later
-- events queued behind them.

-- tx is the recording transaction's id. An event is final once tx is below
-- the xmin of a snapshot (every transaction with a smaller id has ended):
-- no event can still commit behind a cursor that only passes final events.
-- Existing events get 0, before every cursor: they are history (their
-- still-pending deliveries are delivered from event_deliveries), and a
-- constant default adds the column without rewriting the table.
ALTER TABLE events ADD COLUMN tx xid8 NOT NULL DEFAULT '0';
ALTER TABLE events ALTER COLUMN tx SET DEFAULT pg_current_xact_id();
CREATE INDEX events_tx_idx ON events (tx, id);

-- cursor: the last event (tx, id) this subscriber has passed. A new
-- subscriber starts at the oldest transaction still running, so it gets the
-- events of every transaction that ends after it registered. ahead: the
-- transactions past the cursor whose events were already delivered (they
-- committed while an older one still ran), so a dispatcher that takes over
-- does not deliver them again. owner and lease_until: which dispatcher
-- delivers for it, and until when.
ALTER TABLE event_subscribers
    ADD COLUMN cursor_tx   xid8   NOT NULL DEFAULT pg_snapshot_xmin(pg_current_snapshot()),
    ADD COLUMN cursor_id   bigint NOT NULL DEFAULT 0,
    ADD COLUMN ahead       xid8[] NOT NULL DEFAULT '{}',
    ADD COLUMN owner       text,
    ADD COLUMN lease_until timestamptz;

-- One owner per subscriber: a delivery row needs no lease of its own.
ALTER TABLE event_deliveries DROP COLUMN claimed_until;

-- The trigger no longer writes deliveries; it only wakes the dispatchers,
-- unless every interested subscriber has a dispatcher polling it anyway
-- (awake_until): a transaction that NOTIFYs holds a global lock through its
-- commit, which serializes the commits of all notifying transactions, so
-- under load notifications are left out. PostgreSQL folds identical
-- notifications of one transaction into one.
CREATE OR REPLACE FUNCTION fan_out_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM event_subscribers s
        WHERE (s.kinds = '{}' OR NEW.kind = ANY (s.kinds))
          AND (s.awake_until IS NULL OR s.awake_until < clock_timestamp())) THEN
        PERFORM pg_notify('dancecard_events', '');
    END IF;
    RETURN NULL;
END;
$$;
