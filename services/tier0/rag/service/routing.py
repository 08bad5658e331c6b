"""Which sources a question needs, and the site, device type and gear it names.

Routing reads the question's vocabulary (log, image, live-metric terms, and the known site and
device-type names); it only decides where to look. Nothing here claims to see what is in an
image: safety fields come from detector annotations (see ``tier0.images``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tier0.common.fleet import DEVICE_TYPES, SITES
from tier0.images.model import Gear
from tier0.rag.service.models import Source

_WORD = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_LOG_CUES = "log logs ip ips address addresses request requests endpoint endpoints status"
_LOG_CUES_MORE = "http 404 500 502 503 4xx 5xx error errors latency slow slowest traffic access"
_IMAGE_CUES = "image images camera cameras photo photos ppe hat hats helmet helmets vest vests"
_IMAGE_CUES_MORE = "compliance compliant tablet tablets gear"
_DEVICE_WORDS = "live current currently now latest telemetry reading readings metric metrics"
_DOCUMENT_WORDS = "manual manuals runbook runbooks procedure procedures report reports incident"
_DOCUMENT_MORE = "incidents policy document documents why how cause interval rated"
_CUES: dict[Source, frozenset[str]] = {
    Source.DOCUMENTS: frozenset(f"{_DOCUMENT_WORDS} {_DOCUMENT_MORE}".split()),
    Source.LOGS: frozenset(f"{_LOG_CUES} {_LOG_CUES_MORE}".split()),
    Source.IMAGES: frozenset(f"{_IMAGE_CUES} {_IMAGE_CUES_MORE}".split()),
    Source.DEVICES: frozenset(f"{_DEVICE_WORDS} online offline state".split()),
}
_GEAR_CUES: dict[str, Gear] = {
    "hat": Gear.HARD_HAT,
    "hats": Gear.HARD_HAT,
    "helmet": Gear.HARD_HAT,
    "helmets": Gear.HARD_HAT,
    "vest": Gear.SAFETY_VEST,
    "vests": Gear.SAFETY_VEST,
    "tablet": Gear.INSPECTION_EQUIPMENT,
    "tablets": Gear.INSPECTION_EQUIPMENT,
    "inspection": Gear.INSPECTION_EQUIPMENT,
}
_DEVICE_CUES = {
    "turbine": "turbine",
    "turbines": "turbine",
    "thermal": "thermal_engine",
    "engine": "thermal_engine",
    "engines": "thermal_engine",
    "rotor": "electrical_rotor",
    "rotors": "electrical_rotor",
    "oil": "oil_gas",
    "well": "oil_gas",
    "wells": "oil_gas",
}


@dataclass(frozen=True, slots=True)
class Route:
    """Sources to ask, best first, and the entities the question names."""

    sources: list[Source]
    site_id: str | None = None
    device_type: str | None = None
    gear: Gear | None = None


def words(question: str) -> list[str]:
    """Lower-case word tokens (site ids like ``wy-alpha`` stay whole)."""
    return _WORD.findall(question.lower())


def route(question: str, requested: list[Source] | None = None) -> Route:
    """Sources for ``question`` (``requested`` wins), most cues first; documents when no
    source has a cue, since the document index covers the open-ended questions."""
    tokens = words(question)
    site = next((s for s in SITES if s.lower() in tokens), None)
    device_type: str | None = next((t for t in DEVICE_TYPES if t in tokens), None) or next(
        (_DEVICE_CUES[t] for t in tokens if t in _DEVICE_CUES), None
    )
    gear = next((_GEAR_CUES[t] for t in tokens if t in _GEAR_CUES), None)
    if requested:
        chosen = list(dict.fromkeys(requested))
    else:
        scores = {s: sum(t in cues for t in tokens) for s, cues in _CUES.items()}
        chosen = [s for s, n in sorted(scores.items(), key=lambda p: -p[1]) if n > 0]
        if not chosen:
            chosen = [Source.DOCUMENTS]
    return Route(chosen, site, device_type, gear)
