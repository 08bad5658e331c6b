"""A sample image set for offline runs: drawn site scenes plus the detector sidecars.

Each scene is a real PNG or JPEG drawn with Pillow: ground and sky, the site's equipment, and
workers, some with a hard hat, a vest or a tablet. The sidecar lists a box for every drawn
person and item, with confidences, as a detector would; a few low-confidence false positives
are added so the confidence threshold matters. File names carry no hint of the gear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from tier0.common.fleet import DEVICE_TYPES, SITES
from tier0.images.sidecar import sidecar_path

WIDTH, HEIGHT = 480, 320
_SKY, _GROUND = (150, 190, 225), (120, 110, 90)
_HAT, _VEST, _TABLET = (250, 210, 20), (255, 120, 0), (40, 40, 50)
_START = dt.datetime(2026, 11, 1, 6, 0, tzinfo=dt.UTC)


@dataclass
class _Scene:
    image: Image.Image
    detections: list[dict[str, Any]] = field(default_factory=list)

    def detect(self, label: str, box: tuple[int, int, int, int], rng: random.Random) -> None:
        confidence = round(rng.uniform(0.62, 0.99), 3)
        self.detections.append({"label": label, "confidence": confidence, "box": list(box)})


def write_sample_images(directory: Path, count: int = 40, seed: int = 7) -> list[Path]:
    """Write ``count`` images with sidecars into ``directory`` (same bytes on every run)."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for number in range(count):
        site, device_type = SITES[number % len(SITES)], DEVICE_TYPES[number % len(DEVICE_TYPES)]
        scene = _draw_scene(rng, device_type)
        sidecar = _sidecar(number, site, device_type, scene.detections, rng)
        # Cameras stamp their id and the time on the frame, which also makes every image unique.
        stamp = f"{sidecar['camera_id']} {site} {sidecar['captured_at'][:16]}"
        ImageDraw.Draw(scene.image).text((8, HEIGHT - 16), stamp, fill=(255, 255, 255))
        name = hashlib.sha256(f"{seed}-{number}".encode()).hexdigest()[:12]
        path = directory / f"cam-{name}.{'jpg' if number % 3 == 0 else 'png'}"
        scene.image.save(path, quality=90) if path.suffix == ".jpg" else scene.image.save(path)
        sidecar_path(path).write_text(json.dumps(sidecar, indent=2))
        paths.append(path)
    return paths


def _sidecar(
    number: int, site: str, device_type: str, detections: list[dict[str, Any]], rng: random.Random
) -> dict[str, Any]:
    return {
        "camera_id": f"cam-{number % 7:02d}",
        "site_id": site,
        "device_type": device_type,
        "device_id": f"{site}-{device_type}-{rng.randrange(25_000):05d}",
        "captured_at": (_START + dt.timedelta(minutes=37 * number)).isoformat(),
        "detector": {"name": "sample-scene-annotator", "version": "1"},
        "detections": detections,
    }


def _draw_scene(rng: random.Random, device_type: str) -> _Scene:
    image = Image.new("RGB", (WIDTH, HEIGHT), _SKY)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, HEIGHT * 2 // 3, WIDTH, HEIGHT), fill=_GROUND)
    _draw_equipment(draw, device_type)
    scene = _Scene(image)
    workers = 0 if rng.random() < 0.1 else rng.randint(1, 3)
    for slot in range(workers):
        _draw_worker(draw, scene, rng, left=150 + slot * 100)
    if rng.random() < 0.15:  # a detector's weak false positive, below the threshold
        scene.detections.append(
            {
                "label": "hard_hat",
                "confidence": round(rng.uniform(0.1, 0.4), 3),
                "box": [20, 20, 30, 16],
            }
        )
    return scene


def _draw_equipment(draw: ImageDraw.ImageDraw, device_type: str) -> None:
    base = HEIGHT * 2 // 3
    if device_type == "turbine":
        draw.rectangle((60, 60, 70, base), fill=(235, 235, 235))
        draw.line((65, 60, 20, 30), fill=(235, 235, 235), width=4)
        draw.line((65, 60, 110, 30), fill=(235, 235, 235), width=4)
        draw.line((65, 60, 65, 110), fill=(235, 235, 235), width=4)
    elif device_type == "oil_gas":
        draw.polygon([(30, base), (70, 80), (110, base)], outline=(60, 60, 60), width=4)
    else:
        draw.rectangle((20, base - 80, 120, base), fill=(90, 100, 110), outline=(30, 30, 30))


def _draw_worker(
    draw: ImageDraw.ImageDraw, scene: _Scene, rng: random.Random, *, left: int
) -> None:
    top = HEIGHT * 2 // 3 - 110
    draw.ellipse((left + 15, top + 10, left + 35, top + 30), fill=(225, 190, 160))
    draw.rectangle((left + 12, top + 30, left + 38, top + 80), fill=(60, 80, 140))
    draw.line((left + 18, top + 80, left + 14, top + 110), fill=(40, 40, 60), width=5)
    draw.line((left + 32, top + 80, left + 36, top + 110), fill=(40, 40, 60), width=5)
    scene.detect("person", (left + 10, top, 32, 112), rng)
    if rng.random() < 0.75:
        draw.pieslice((left + 12, top + 2, left + 38, top + 24), 180, 360, fill=_HAT)
        scene.detect("hard_hat", (left + 12, top + 2, 26, 12), rng)
    if rng.random() < 0.7:
        draw.rectangle((left + 12, top + 32, left + 38, top + 62), fill=_VEST)
        scene.detect("safety_vest", (left + 12, top + 32, 26, 30), rng)
    if rng.random() < 0.4:
        draw.rectangle((left + 38, top + 45, left + 52, top + 63), fill=_TABLET)
        scene.detect("tablet", (left + 38, top + 45, 14, 18), rng)
