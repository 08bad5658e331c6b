"""100,000 simulated field devices held in a few numpy arrays (a few MB, not 100K objects).

Device ``i`` has type ``i // per_type`` and number ``i % per_type``; its site follows from the
number, so ids, topics and sites are computed, never stored. Per device the fleet keeps a fixed
calibration offset and a slowly wandering drift for every metric, plus a health state (OK,
WARNING, FAULT) and which fault it has. A reading is nominal * (1 + offset + drift + noise),
pushed towards the fault's signature while unhealthy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from pydantic_core import to_json

from tier0.common.fleet import DEVICE_TYPES, SITES
from tier0.common.schemas.telemetry import topic_for

DEVICES_PER_TYPE = 25_000
MAX_METRICS = 6

# Per reading: chance an OK device develops a fault (as a WARNING), that a WARNING becomes a
# FAULT, that it clears by itself, and that a FAULT is repaired.
P_DEVELOP = 0.002
P_ESCALATE = 0.10
P_CLEAR = 0.05
P_REPAIR = 0.08
DRIFT_RETENTION = 0.995
DRIFT_STEP = 0.002
OFFSET_SD = 0.03
OK, WARNING, FAULT = 0, 1, 2
STATE_NAMES = ("OK", "WARNING", "FAULT")
SEVERITY = np.array([0.0, 0.5, 1.0], dtype=np.float32)


@dataclass(frozen=True)
class MetricSpec:
    name: str
    nominal: float
    noise: float  # standard deviation as a fraction of nominal
    decimals: int
    upper: float | None = None  # physical ceiling (a percentage, a power factor)


@dataclass(frozen=True)
class FaultSpec:
    code: str
    metric: str
    factor: float  # the metric's multiplier at full severity


@dataclass(frozen=True)
class TypeSpec:
    prefix: str
    metrics: tuple[MetricSpec, ...]
    faults: tuple[FaultSpec, ...]

    def index(self, metric: str) -> int:
        return [m.name for m in self.metrics].index(metric)


M, F = MetricSpec, FaultSpec
TYPE_SPECS: dict[str, TypeSpec] = {
    "turbine": TypeSpec(
        "TURB",
        (
            M("rpm", 3600, 0.01, 0),
            M("inlet_temp_c", 410, 0.015, 1),
            M("outlet_temp_c", 390, 0.015, 1),
            M("power_kw", 12800, 0.03, 1),
            M("vibration_mm", 0.08, 0.08, 3),
        ),
        (F("OVERTEMP", "inlet_temp_c", 1.18), F("VIBRATION", "vibration_mm", 4.0)),
    ),
    "thermal_engine": TypeSpec(
        "THRM",
        (
            M("rpm", 1500, 0.01, 0),
            M("coolant_temp_c", 88, 0.02, 1),
            M("oil_pressure_bar", 4.5, 0.03, 2),
            M("exhaust_temp_c", 450, 0.02, 1),
            M("load_pct", 72, 0.05, 1, upper=100),
            M("fuel_rate_lph", 210, 0.04, 1),
        ),
        (F("OVERHEAT", "coolant_temp_c", 1.25), F("LOW-OIL-PRESSURE", "oil_pressure_bar", 0.45)),
    ),
    "electrical_rotor": TypeSpec(
        "EROT",
        (
            M("rpm", 1800, 0.005, 0),
            M("voltage_v", 4160, 0.01, 1),
            M("current_a", 350, 0.04, 1),
            M("winding_temp_c", 95, 0.02, 1),
            M("power_factor", 0.92, 0.01, 3, upper=1.0),
            M("vibration_mm", 0.05, 0.08, 3),
        ),
        (F("WINDING-HOT", "winding_temp_c", 1.3), F("OVERCURRENT", "current_a", 1.5)),
    ),
    "oil_gas": TypeSpec(
        "OGAS",
        (
            M("flow_rate_bpd", 1200, 0.04, 1),
            M("wellhead_pressure_psi", 1500, 0.02, 1),
            M("temperature_c", 65, 0.02, 1),
            M("gas_oil_ratio", 800, 0.03, 1),
            M("h2s_ppm", 2.5, 0.1, 2),
            M("pump_speed_rpm", 1750, 0.01, 0),
        ),
        (F("HIGH-H2S", "h2s_ppm", 8.0), F("PRESSURE-DROP", "wellhead_pressure_psi", 0.6)),
    ),
}


def device_id(device_type: str, number: int) -> str:
    return f"{TYPE_SPECS[device_type].prefix}-{number:05d}"


def site_of(number: int, per_type: int) -> str:
    return SITES[number * len(SITES) // per_type]


class Fleet:
    """The simulated devices; ``readings`` advances the chosen devices by one reading each."""

    def __init__(self, per_type: int = DEVICES_PER_TYPE, seed: int = 0) -> None:
        self.per_type = per_type
        self.size = per_type * len(DEVICE_TYPES)
        self.rng = np.random.default_rng(seed)
        self.offset = self.rng.normal(0, OFFSET_SD, (self.size, MAX_METRICS)).astype(np.float32)
        self.drift = np.zeros((self.size, MAX_METRICS), dtype=np.float32)
        self.health = np.zeros(self.size, dtype=np.int8)
        self.fault = np.zeros(self.size, dtype=np.int8)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.offset, self.drift, self.health, self.fault))

    def readings(self, devices: np.ndarray, timestamp: str) -> Iterator[tuple[str, bytes]]:
        """(topic, JSON payload) for each device index in ``devices``, all at ``timestamp``."""
        types = devices // self.per_type
        for type_index in np.unique(types):
            chosen = devices[types == type_index]
            yield from self._type_readings(DEVICE_TYPES[type_index], chosen, timestamp)

    def _type_readings(
        self, device_type: str, chosen: np.ndarray, timestamp: str
    ) -> Iterator[tuple[str, bytes]]:
        spec = TYPE_SPECS[device_type]
        self._advance(chosen, len(spec.faults))
        values = self._values(spec, chosen)
        names = [m.name for m in spec.metrics]
        rounded = [np.round(values[:, j], m.decimals) for j, m in enumerate(spec.metrics)]
        columns = [
            c.astype(np.int64) if m.decimals == 0 else c
            for c, m in zip(rounded, spec.metrics, strict=True)
        ]
        rows = zip(*(c.tolist() for c in columns), strict=True)
        numbers = (chosen % self.per_type).tolist()
        health = self.health[chosen].tolist()
        fault = self.fault[chosen].tolist()
        for number, row, state, kind in zip(numbers, rows, health, fault, strict=True):
            ident = device_id(device_type, number)
            site = site_of(number, self.per_type)
            message = {
                "device_id": ident,
                "device_type": device_type,
                "site_id": site,
                "timestamp_utc": timestamp,
                "metrics": dict(zip(names, row, strict=True)),
                "status": {"state": STATE_NAMES[state], "code": _code(spec, state, kind)},
            }
            yield topic_for(site, device_type, ident), to_json(message)

    def _advance(self, chosen: np.ndarray, fault_kinds: int) -> None:
        """One step of drift and of the health state machine for ``chosen``."""
        step = self.rng.normal(0, DRIFT_STEP, (len(chosen), MAX_METRICS)).astype(np.float32)
        self.drift[chosen] = self.drift[chosen] * DRIFT_RETENTION + step
        health = self.health[chosen]
        roll = self.rng.random(len(chosen))
        develop = (health == OK) & (roll < P_DEVELOP)
        escalate = (health == WARNING) & (roll < P_ESCALATE)
        clear = (health == WARNING) & (roll > 1 - P_CLEAR)
        repair = (health == FAULT) & (roll < P_REPAIR)
        health[develop] = WARNING
        health[escalate] = FAULT
        health[clear | repair] = OK
        self.health[chosen] = health
        if develop.any():
            kinds = self.rng.integers(0, fault_kinds, int(develop.sum()), dtype=np.int8)
            self.fault[chosen[develop]] = kinds

    def _values(self, spec: TypeSpec, chosen: np.ndarray) -> np.ndarray:
        count = len(spec.metrics)
        nominal = np.array([m.nominal for m in spec.metrics], dtype=np.float32)
        noise_sd = np.array([m.noise for m in spec.metrics], dtype=np.float32)
        noise = self.rng.standard_normal((len(chosen), count)).astype(np.float32) * noise_sd
        scale = 1 + self.offset[chosen, :count] + self.drift[chosen, :count] + noise
        severity = SEVERITY[self.health[chosen]]
        kinds = self.fault[chosen]
        for kind, fault in enumerate(spec.faults):
            rows = kinds == kind
            scale[rows, spec.index(fault.metric)] *= 1 + (fault.factor - 1) * severity[rows]
        values = np.maximum(scale.astype(np.float64) * nominal, 0)
        for j, metric in enumerate(spec.metrics):
            if metric.upper is not None:
                values[:, j] = np.minimum(values[:, j], metric.upper)
        return values


def _code(spec: TypeSpec, state: int, kind: int) -> str:
    if state == OK:
        return f"{spec.prefix}-OK"
    level = "WARN" if state == WARNING else "FAULT"
    return f"{spec.prefix}-{level}-{spec.faults[kind].code}"
