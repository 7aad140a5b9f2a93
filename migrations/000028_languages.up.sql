-- The language a user chose for pages and mail ("en", "de"); NULL means no
-- choice, so the browser's Accept-Language decides. The application checks
-- the code against the languages it has catalogues for.
ALTER TABLE users ADD COLUMN language text CHECK (language <> '');

-- The language a queued mail is written in, decided when it is enqueued:
-- the recipient's choice, else the language of the request that caused the
-- mail; '' renders in English (mail queued before this migration).
ALTER TABLE mail_outbox ADD COLUMN lang text NOT NULL DEFAULT '';
