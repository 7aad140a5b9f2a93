ALTER TABLE mail_outbox DROP COLUMN lang;
ALTER TABLE users DROP COLUMN language;
