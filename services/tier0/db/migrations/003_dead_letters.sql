-- Messages a consumer could not accept, kept with their raw bytes and the reason, so they can
-- be inspected and replayed instead of silently dropped.
CREATE TABLE dead_letters (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      text        NOT NULL CHECK (source IN ('mqtt', 'rabbitmq', 'logs')),
    raw         bytea       NOT NULL,
    reason      text        NOT NULL,
    topic       text,
    received_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN dead_letters.topic IS 'where it came from: MQTT topic, AMQP queue or routing key, file:line';
CREATE INDEX dead_letters_source_time ON dead_letters (source, received_at DESC);
