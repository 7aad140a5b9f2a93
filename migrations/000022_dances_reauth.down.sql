DELETE FROM dances WHERE intent = 'reauth';
ALTER TABLE dances DROP CONSTRAINT dances_intent_check;
ALTER TABLE dances ADD CONSTRAINT dances_intent_check CHECK (intent IN ('login', 'connect'));
