-- Dances live for minutes and are single-use. Writing them to the WAL made
-- every dance start and callback wait for a disk flush; as an UNLOGGED
-- table they cost no WAL. The price is explicit: a crash (or a failover to
-- a standby, which does not receive unlogged tables) loses the dances in
-- flight, and those people click "Log in with ..." again. Connections,
-- sessions and events stay fully durable.
ALTER TABLE dances SET UNLOGGED;
