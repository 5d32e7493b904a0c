-- Owners for keys (a user's documents are scoped to the owner of the key that stored them),
-- the documents table, and the indexes behind the gateway's critical queries.
ALTER TABLE api_keys ADD COLUMN owner text;
UPDATE api_keys SET owner = name WHERE owner IS NULL;
ALTER TABLE api_keys ALTER COLUMN owner SET NOT NULL;
CREATE INDEX api_keys_run_id_idx ON api_keys (run_id) WHERE run_id IS NOT NULL;

CREATE TABLE documents (
    id          uuid PRIMARY KEY,
    owner       text NOT NULL,
    title       text NOT NULL DEFAULT '',
    content     text NOT NULL CHECK (length(content) BETWEEN 1 AND 100000),
    metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
    run_id      text NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_owner_created_at_idx ON documents (owner, created_at DESC);
CREATE INDEX documents_run_id_idx ON documents (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX request_log_api_key_id_idx ON request_log (api_key_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON documents TO citadel_app;
