"""The simulated fleet: layout, plausible per-type metrics, faults, drift, and a small footprint."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from tier0.common.fleet import DEVICE_TYPES, SITES
from tier0.consumers.telemetry import Accepted, validate
from tier0_simulators.devices import TimestampClock
from tier0_simulators.fleet import DEVICES_PER_TYPE, FAULT, TYPE_SPECS, Fleet, device_id, site_of

STAMP = "2026-01-01T00:00:00.000Z"


def decode(readings: list[tuple[str, bytes]]) -> list[dict[str, object]]:
    return [json.loads(payload) for _topic, payload in readings]


def test_the_full_fleet_is_100k_devices_in_a_few_megabytes() -> None:
    fleet = Fleet()
    assert fleet.size == 100_000
    assert fleet.nbytes < 8 * 1024 * 1024


def test_layout_is_25k_per_type_and_10k_per_site() -> None:
    sites = Counter(site_of(n, DEVICES_PER_TYPE) for n in range(DEVICES_PER_TYPE))
    assert set(sites) == set(SITES)
    assert set(sites.values()) == {DEVICES_PER_TYPE // len(SITES)}
    assert device_id("turbine", 912) == "TURB-00912"
    assert {spec.prefix for spec in TYPE_SPECS.values()} == {"TURB", "THRM", "EROT", "OGAS"}


def test_every_reading_is_valid_and_on_its_own_topic() -> None:
    fleet = Fleet(seed=7)
    readings = list(fleet.readings(np.arange(0, fleet.size, 37), STAMP))
    assert len(readings) == len(range(0, fleet.size, 37))
    for topic, payload in readings:
        assert isinstance(validate(topic, payload), Accepted), payload
    kinds = Counter(message["device_type"] for message in decode(readings))
    assert set(kinds) == set(DEVICE_TYPES)


@pytest.mark.parametrize("device_type", DEVICE_TYPES)
def test_healthy_metrics_stay_near_nominal(device_type: str) -> None:
    fleet = Fleet(seed=1)
    start = DEVICE_TYPES.index(device_type) * DEVICES_PER_TYPE
    messages = decode(list(fleet.readings(np.arange(start, start + 2000), STAMP)))
    spec = TYPE_SPECS[device_type]
    for metric in spec.metrics:
        values = np.array(
            [m["metrics"][metric.name] for m in messages if m["status"]["state"] == "OK"]
        )  # type: ignore[index]
        assert abs(np.median(values) / metric.nominal - 1) < 0.05, metric.name
        assert values.min() >= 0
        if metric.upper is not None:
            assert values.max() <= metric.upper
        if metric.decimals == 0:
            assert all(isinstance(v, int) for v in values.tolist())


def test_a_fault_moves_its_metric_and_sets_the_status_code() -> None:
    fleet = Fleet(seed=2)
    devices = np.arange(0, 500)  # turbines
    fleet.health[devices] = FAULT
    fleet.fault[devices] = 1  # VIBRATION: vibration_mm x4
    fleet.rng = np.random.default_rng(99)
    messages = decode(list(fleet.readings(devices, STAMP)))
    faulted = [m for m in messages if m["status"]["state"] == "FAULT"]
    assert len(faulted) > 400  # a few were repaired on this very step
    assert {m["status"]["code"] for m in faulted} == {"TURB-FAULT-VIBRATION"}
    vibration = np.median([m["metrics"]["vibration_mm"] for m in faulted])  # type: ignore[index]
    assert vibration > 3 * TYPE_SPECS["turbine"].metrics[4].nominal


def test_faults_develop_and_clear_over_time() -> None:
    fleet = Fleet(per_type=250, seed=3)
    seen = Counter()
    for _ in range(200):
        for message in decode(list(fleet.readings(np.arange(fleet.size), STAMP))):
            seen[message["status"]["state"]] += 1  # type: ignore[index]
    assert seen["OK"] > 0.9 * sum(seen.values())
    assert seen["WARNING"] > 0
    assert seen["FAULT"] > 0


def test_drift_wanders_but_stays_bounded() -> None:
    fleet = Fleet(per_type=100, seed=4)
    for _ in range(600):
        list(fleet.readings(np.arange(fleet.size), STAMP))
    assert 0 < float(np.abs(fleet.drift).mean()) < 0.05


def test_timestamps_strictly_increase() -> None:
    clock = TimestampClock()
    stamps = [clock.next() for _ in range(500)]
    assert stamps == sorted(set(stamps))
    assert all(s.endswith("Z") and len(s) == len("2026-01-01T00:00:00.000Z") for s in stamps)
