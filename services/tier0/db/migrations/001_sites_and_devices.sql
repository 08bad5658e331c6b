-- Sites and the device registry (seeded by the device simulator).
CREATE TABLE sites (
    site_id      text PRIMARY KEY,
    name         text NOT NULL,
    region       text NOT NULL,
    latitude     double precision,
    longitude    double precision,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE device_registry (
    device_id    text PRIMARY KEY,
    device_type  text NOT NULL CHECK (device_type IN ('turbine', 'thermal_engine', 'electrical_rotor', 'oil_gas')),
    site_id      text NOT NULL REFERENCES sites (site_id),
    model        text,
    installed_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_registry_site_type ON device_registry (site_id, device_type);
