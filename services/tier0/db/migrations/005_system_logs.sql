-- Apache-style access logs (common or combined format, optional trailing latency).
-- line_key = sha256(occurrence-in-file || raw line): loading the same file again, or the same
-- lines from a rotated/compressed copy, inserts nothing new, while identical requests logged
-- twice in one file stay two rows.
CREATE TABLE system_logs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    line_key    bytea NOT NULL UNIQUE,
    ip          inet NOT NULL,
    ts          timestamptz NOT NULL,
    method      text NOT NULL,
    path        text NOT NULL,
    protocol    text NOT NULL,
    status      smallint NOT NULL CHECK (status BETWEEN 100 AND 599),
    bytes       bigint NOT NULL CHECK (bytes >= 0),
    referrer    text,
    user_agent  text,
    latency_ms  double precision CHECK (latency_ms >= 0),
    source      text NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX system_logs_ts ON system_logs (ts);
CREATE INDEX system_logs_status_ts ON system_logs (status, ts);
