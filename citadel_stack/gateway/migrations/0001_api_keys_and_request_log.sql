-- API keys (stored only as sha256 hex) and the per-request log.
CREATE TABLE api_keys (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    key_sha256  text NOT NULL UNIQUE CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
    role        text NOT NULL CHECK (role IN ('admin', 'user', 'readonly')),
    run_id      text NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz NULL
);

CREATE TABLE request_log (
    id           bigserial PRIMARY KEY,
    request_id   text NOT NULL,
    api_key_id   bigint NULL REFERENCES api_keys (id) ON DELETE SET NULL,
    method       text,
    path         text,
    model        text NULL,
    status_code  int,
    duration_ms  double precision,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX request_log_created_at_idx ON request_log (created_at);
CREATE INDEX request_log_request_id_idx ON request_log (request_id);

-- The gateway runs as citadel_app: data access only, no DDL.
GRANT SELECT, INSERT, UPDATE, DELETE ON api_keys, request_log TO citadel_app;
GRANT USAGE, SELECT ON SEQUENCE api_keys_id_seq, request_log_id_seq TO citadel_app;
