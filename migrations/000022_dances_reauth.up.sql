-- A dance can re-authenticate: a user proves who they are again with one of
-- their own linked provider accounts before a sensitive action.
ALTER TABLE dances DROP CONSTRAINT dances_intent_check;
ALTER TABLE dances ADD CONSTRAINT dances_intent_check CHECK (intent IN ('login', 'connect', 'reauth'));
