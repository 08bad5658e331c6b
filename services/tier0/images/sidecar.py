"""Detector annotations delivered with each image as a JSON sidecar (``<image>.json``).

Shape (what the camera side writes)::

    {"camera_id": "cam-07", "site_id": "WY-ALPHA", "device_type": "turbine",
     "device_id": "WY-ALPHA-turbine-00042", "captured_at": "2026-11-20T14:03:00Z",
     "detector": {"name": "ppe-yolo", "version": "3.1"},
     "detections": [{"label": "person", "confidence": 0.97, "box": [120, 80, 60, 170]}, ...]}
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tier0.images.model import Detection

SIDECAR_SUFFIX = ".json"


class SidecarError(ValueError):
    """A sidecar that is missing, not JSON, or not in the expected shape."""


@dataclass(frozen=True, slots=True)
class Annotations:
    """Where and when an image was taken, by which detector, and what it found."""

    camera_id: str
    site_id: str
    device_type: str
    device_id: str | None
    captured_at: dt.datetime
    detector: str
    detections: list[Detection]


def sidecar_path(image: Path) -> Path:
    """``site.png`` -> ``site.json``."""
    return image.with_suffix(SIDECAR_SUFFIX)


def read_sidecar(image: Path) -> Annotations:
    """Parse the sidecar of ``image``; raises ``SidecarError`` with the reason."""
    path = sidecar_path(image)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SidecarError(f"{image.name}: no detector sidecar {path.name}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SidecarError(f"{path.name}: not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise SidecarError(f"{path.name}: expected a JSON object")
    try:
        return _annotations(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise SidecarError(f"{path.name}: {exc!r}") from exc


def _annotations(raw: dict[str, Any]) -> Annotations:
    detector = raw.get("detector") or {}
    captured = dt.datetime.fromisoformat(str(raw["captured_at"]).replace("Z", "+00:00"))
    if captured.tzinfo is None:
        captured = captured.replace(tzinfo=dt.UTC)
    return Annotations(
        camera_id=str(raw["camera_id"]),
        site_id=str(raw["site_id"]),
        device_type=str(raw["device_type"]),
        device_id=str(raw["device_id"]) if raw.get("device_id") else None,
        captured_at=captured,
        detector=f"{detector.get('name', 'unknown')}/{detector.get('version', '?')}",
        detections=[_detection(item) for item in raw.get("detections", [])],
    )


def _detection(item: dict[str, Any]) -> Detection:
    confidence = float(item["confidence"])
    if not 0.0 <= confidence <= 1.0:
        raise ValueError(f"confidence {confidence} outside 0..1")
    x, y, w, h = (int(v) for v in item["box"])
    return Detection(str(item["label"]), confidence, (x, y, w, h))
