-- The audit trail (hash-chained: each row's hash covers the previous row's hash and its own content,
-- so a modified or deleted row breaks the chain) and the versioned runtime configuration.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,
    action     text NOT NULL,
    target     text NOT NULL,
    details    jsonb NOT NULL DEFAULT '{}'::jsonb,
    prev_hash  text NOT NULL,
    hash       text NOT NULL UNIQUE
);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE TABLE runtime_config (
    version     bigserial PRIMARY KEY,
    settings    jsonb NOT NULL,
    actor       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON audit_log TO citadel_app;
GRANT SELECT, INSERT ON runtime_config TO citadel_app;
GRANT USAGE, SELECT ON SEQUENCE audit_log_id_seq, runtime_config_version_seq TO citadel_app;
