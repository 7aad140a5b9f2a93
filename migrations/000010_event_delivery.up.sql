-- Delivery of events to the subscribers registered at start-up (the log line,
-- webhooks, the NATS publisher). The events table is the outbox; a trigger
-- fans each new event out into one delivery row per interested subscriber,
-- inside the transaction that records the event, so an event that commits
-- always has its deliveries and one that rolls back never does.

-- The subscribers some dispatcher registered. kinds is empty for "every kind".
-- awake_until is a dispatcher's promise to poll for this subscriber until
-- then; while it holds, new events need no notification.
CREATE TABLE event_subscribers (
    name          text PRIMARY KEY,
    kinds         text[]      NOT NULL DEFAULT '{}',
    registered_at timestamptz NOT NULL DEFAULT now(),
    awake_until   timestamptz
);

-- One row per (event, subscriber). claimed_until is the lease of the
-- dispatcher delivering it: a dispatcher that dies mid-delivery loses the
-- lease and another one delivers again (at least once). dead_at parks a
-- delivery after the configured number of attempts until an administrator
-- retries it.
CREATE TABLE event_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    event_id        bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    subscriber      text        NOT NULL,
    user_id         bigint,
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text        NOT NULL DEFAULT '',
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_until   timestamptz,
    delivered_at    timestamptz,
    dead_at         timestamptz,
    PRIMARY KEY (event_id, subscriber)
) WITH (fillfactor = 70); -- room for HOT updates when a delivery is claimed

-- What a dispatcher claims: pending deliveries of its subscribers, oldest first.
CREATE INDEX event_deliveries_pending_idx ON event_deliveries (subscriber, event_id)
    WHERE delivered_at IS NULL AND dead_at IS NULL;
-- Order per user: is an earlier delivery of the same user still pending?
CREATE INDEX event_deliveries_user_pending_idx ON event_deliveries (subscriber, user_id, event_id)
    WHERE delivered_at IS NULL AND dead_at IS NULL AND user_id IS NOT NULL;
-- The administrators' list of parked deliveries.
CREATE INDEX event_deliveries_dead_idx ON event_deliveries (dead_at DESC) WHERE dead_at IS NOT NULL;
-- Retention prunes by age.
CREATE INDEX events_created_at_idx ON events (created_at);

-- fan_out_event writes the deliveries of a new event and wakes the
-- dispatchers, unless every interested subscriber has a dispatcher polling
-- it anyway (awake_until): a transaction that NOTIFYs holds a global lock
-- through its commit, which serializes the commits of all notifying
-- transactions, so under load notifications are left out. PostgreSQL folds
-- identical notifications of one transaction into one.
CREATE FUNCTION fan_out_event() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER events_fan_out AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION fan_out_event();
