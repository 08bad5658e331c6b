-- One row per user session, upserted by the RabbitMQ consumer from user-activity events.
-- last_seq is the producer's per-session event counter: an event whose seq is not newer than
-- the stored one (a re-delivery or an out-of-order arrival) never moves the state backwards.
CREATE TABLE user_sessions (
    session_id     uuid PRIMARY KEY,
    user_id        text NOT NULL,
    region         text NOT NULL CHECK (region IN ('NA', 'EU', 'APAC')),
    state          text NOT NULL CHECK (state IN ('active', 'idle', 'disconnected')),
    login_at       timestamptz,
    logout_at      timestamptz,
    last_event_at  timestamptz NOT NULL,
    last_seq       integer NOT NULL CHECK (last_seq >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_sessions_user_id ON user_sessions (user_id);
CREATE INDEX user_sessions_state_region ON user_sessions (state, region);
