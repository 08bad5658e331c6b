-- Device telemetry from MQTT. The primary key (device_id, timestamp_utc) is what makes a
-- redelivered message harmless (INSERT ... ON CONFLICT DO NOTHING), and its index also serves
-- "latest reading of a device" (a backward scan). No foreign key to device_registry: the
-- consumer validates the device type and id shape, and a registry lookup per row would cost
-- more than the whole insert.
CREATE TABLE device_telemetry (
    device_id     text        NOT NULL,
    device_type   text        NOT NULL
        CHECK (device_type IN ('turbine', 'thermal_engine', 'electrical_rotor', 'oil_gas')),
    site_id       text        NOT NULL,
    timestamp_utc timestamptz NOT NULL,
    metrics       jsonb       NOT NULL,
    state         text        NOT NULL,
    status_code   text        NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT device_telemetry_pkey PRIMARY KEY (device_id, timestamp_utc)
);

-- Dashboards and cache fills read one site and type over a time window.
CREATE INDEX device_telemetry_site_type_time
    ON device_telemetry (site_id, device_type, timestamp_utc DESC);

-- Fleet-wide time-range scans: rows arrive roughly in time order, so a BRIN index stays tiny
-- and costs almost nothing per insert.
CREATE INDEX device_telemetry_time_brin ON device_telemetry USING brin (timestamp_utc);
