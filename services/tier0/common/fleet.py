"""The field fleet every component talks about: sites and device types."""

from __future__ import annotations

from typing import Literal

SITES = (
    "WY-ALPHA",
    "TX-EAGLE",
    "ND-RAVEN",
    "CA-DELTA",
    "OK-BRAVO",
    "CO-SIERRA",
    "LA-GULF",
    "NM-MESA",
    "AK-NORTH",
    "MT-PEAK",
)
DeviceType = Literal["turbine", "thermal_engine", "electrical_rotor", "oil_gas"]
DEVICE_TYPES: tuple[DeviceType, ...] = ("turbine", "thermal_engine", "electrical_rotor", "oil_gas")
