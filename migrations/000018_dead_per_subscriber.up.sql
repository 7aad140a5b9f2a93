-- The deliveries page counts each subscriber's parked deliveries. The only
-- index over parked rows (dead_at DESC, for the list) says nothing of the
-- subscriber, so without statistics (a fresh database, or before the first
-- ANALYZE after a burst) the planner counted them by a sequential scan of
-- event_deliveries once per subscriber, and estimated it costly enough to
-- JIT-compile the page's query. This one is as small as the parked rows.
CREATE INDEX event_deliveries_dead_subscriber_idx ON event_deliveries (subscriber) WHERE dead_at IS NOT NULL;
