-- The event log and outbox. Rows are written in the same transaction as the
-- change they report. user_id carries no foreign key: the audit trail must
-- outlive the user it describes.
CREATE TABLE events (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text        NOT NULL,
    user_id          bigint,
    provider         text,
    provider_user_id text,
    connection_id    bigint,
    reason           text        NOT NULL DEFAULT '',
    request_id       text        NOT NULL DEFAULT '',
    ip               text        NOT NULL DEFAULT '',
    user_agent       text        NOT NULL DEFAULT '',
    data             jsonb       NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX events_user_id_idx ON events (user_id, id);
CREATE INDEX events_kind_idx ON events (kind, id);
