DROP TABLE dev_mail;
DROP TABLE mail_outbox;
DROP TABLE mail_links;
