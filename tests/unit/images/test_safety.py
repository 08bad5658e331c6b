"""Safety fields and the 40/30/30 compliance score come from detector annotations only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tier0.images.metadata import ImageReadError, read_metadata
from tier0.images.model import Detection, Gear, safety_fields
from tier0.images.process import find_images, read_image
from tier0.images.samples import HEIGHT, WIDTH, write_sample_images
from tier0.images.sidecar import SidecarError, read_sidecar, sidecar_path


def _det(label: str, confidence: float = 0.9) -> Detection:
    return Detection(label, confidence, (0, 0, 10, 10))


def test_score_weights_hard_hat_40_vest_30_equipment_30() -> None:
    full = safety_fields([_det("person"), _det("helmet"), _det("hi-vis vest"), _det("tablet")])
    assert full.compliance_score == 100.0
    assert full.missing == []
    no_hat = safety_fields([_det("person"), _det("vest"), _det("tablet")])
    assert no_hat.compliance_score == 60.0
    assert no_hat.missing == [Gear.HARD_HAT.value]
    only_hat = safety_fields([_det("person"), _det("hard_hat")])
    assert only_hat.compliance_score == 40.0


def test_personal_gear_must_cover_every_worker() -> None:
    fields = safety_fields([_det("person"), _det("person"), _det("hard_hat"), _det("vest")])
    assert fields.workers == 2
    assert not fields.hard_hat
    assert fields.missing == ["hard_hat", "safety_vest", "inspection_equipment"]


def test_low_confidence_and_unknown_labels_are_ignored() -> None:
    fields = safety_fields([_det("person"), _det("hard_hat", 0.3), _det("dog"), _det("vest")])
    assert not fields.hard_hat
    assert fields.safety_vest
    assert fields.counts["hard_hat"] == 0


def test_no_worker_means_no_score() -> None:
    fields = safety_fields([_det("hard_hat")])
    assert fields.compliance_score is None
    assert fields.missing == []


def test_sample_images_are_real_images_with_matching_sidecars(tmp_path: Path) -> None:
    paths = write_sample_images(tmp_path, count=9)
    assert find_images(tmp_path) == sorted(paths)
    assert {p.suffix for p in paths} == {".png", ".jpg"}
    for path in paths:
        with Image.open(path) as image:
            assert image.size == (WIDTH, HEIGHT)
        for detection in read_sidecar(path).detections:
            x, y, w, h = detection.box
            assert x >= 0
            assert x + w <= WIDTH
            assert y >= 0
            assert y + h <= HEIGHT
    assert len({read_metadata(p).sha256 for p in paths}) == len(paths)
    assert write_sample_images(tmp_path / "again", count=9)[0].read_bytes() == paths[0].read_bytes()


def test_file_names_say_nothing_about_gear(tmp_path: Path) -> None:
    source = write_sample_images(tmp_path / "src", count=1)[0]
    named = tmp_path / "all_workers_wear_hard_hats_and_vests.png"
    with Image.open(source) as image:
        image.save(named)
    annotations = {
        "camera_id": "cam-1",
        "site_id": "WY-ALPHA",
        "device_type": "turbine",
        "captured_at": "2026-11-20T10:00:00Z",
        "detections": [{"label": "person", "confidence": 0.9, "box": [1, 1, 5, 5]}],
    }
    sidecar_path(named).write_text(json.dumps(annotations))
    document = read_image(named)
    assert document["compliance_score"] == 0.0
    assert document["missing"] == ["hard_hat", "safety_vest", "inspection_equipment"]


def test_missing_or_broken_sidecars_and_images_are_refused(tmp_path: Path) -> None:
    image = write_sample_images(tmp_path, count=1)[0]
    sidecar = sidecar_path(image)
    shutil.copy(sidecar, tmp_path / "keep.json")
    sidecar.unlink()
    with pytest.raises(SidecarError, match="no detector sidecar"):
        read_sidecar(image)
    sidecar.write_text("{not json")
    with pytest.raises(SidecarError, match="not valid JSON"):
        read_sidecar(image)
    raw = json.loads((tmp_path / "keep.json").read_text())
    raw["detections"][0:0] = [{"label": "person", "confidence": 7, "box": [0, 0, 1, 1]}]
    sidecar.write_text(json.dumps(raw))
    with pytest.raises(SidecarError, match="confidence"):
        read_sidecar(image)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(ImageReadError):
        read_metadata(broken)
