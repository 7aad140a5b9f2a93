DROP TRIGGER events_fan_out ON events;
DROP FUNCTION fan_out_event();
DROP INDEX events_created_at_idx;
DROP TABLE event_deliveries;
DROP TABLE event_subscribers;
