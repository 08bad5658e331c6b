"""Safety fields and the compliance score of one image, from detector annotations.

Gear is never guessed from file names or pixels here: the camera side runs an object detector
and delivers its output (labelled boxes with confidences) next to each image, and this module
turns those detections into fields. Weighting: hard hat 40, safety vest 30, inspection
equipment 30 (points out of 100).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Gear(StrEnum):
    """Protective and inspection gear the score counts."""

    HARD_HAT = "hard_hat"
    SAFETY_VEST = "safety_vest"
    INSPECTION_EQUIPMENT = "inspection_equipment"


WEIGHTS: dict[Gear, int] = {
    Gear.HARD_HAT: 40,
    Gear.SAFETY_VEST: 30,
    Gear.INSPECTION_EQUIPMENT: 30,
}
PERSON = "person"
# Detector label spellings seen from common PPE models, mapped to what the score counts.
LABEL_ALIASES: dict[str, str] = {
    "person": PERSON,
    "worker": PERSON,
    "hard_hat": Gear.HARD_HAT,
    "hardhat": Gear.HARD_HAT,
    "helmet": Gear.HARD_HAT,
    "safety_vest": Gear.SAFETY_VEST,
    "hi_vis_vest": Gear.SAFETY_VEST,
    "vest": Gear.SAFETY_VEST,
    "inspection_equipment": Gear.INSPECTION_EQUIPMENT,
    "tablet": Gear.INSPECTION_EQUIPMENT,
    "gas_detector": Gear.INSPECTION_EQUIPMENT,
    "clipboard": Gear.INSPECTION_EQUIPMENT,
}
DEFAULT_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True, slots=True)
class Detection:
    """One labelled box from the detector; ``box`` is ``(x, y, width, height)`` in pixels."""

    label: str
    confidence: float
    box: tuple[int, int, int, int]

    @property
    def kind(self) -> str | None:
        """The person/gear kind this label means, or None for labels the score ignores."""
        return LABEL_ALIASES.get(self.label.strip().lower().replace("-", "_").replace(" ", "_"))


@dataclass(frozen=True, slots=True)
class SafetyFields:
    """What the detections say: workers seen, and whether each kind of gear is covered.

    Hard hats and vests are personal: covered when there are at least as many as workers.
    Inspection equipment is shared by a crew: covered when any is seen.
    """

    workers: int
    hard_hat: bool
    safety_vest: bool
    inspection_equipment: bool
    counts: dict[str, int]

    @property
    def missing(self) -> list[str]:
        """Gear not covered, by name (empty when no worker is in the image)."""
        if self.workers == 0:
            return []
        return [gear.value for gear in Gear if not getattr(self, gear.value)]

    @property
    def compliance_score(self) -> float | None:
        """0..100 by the 40/30/30 weighting; None when no worker is in the image."""
        if self.workers == 0:
            return None
        return float(sum(weight for gear, weight in WEIGHTS.items() if getattr(self, gear.value)))


def safety_fields(
    detections: list[Detection], min_confidence: float = DEFAULT_MIN_CONFIDENCE
) -> SafetyFields:
    """Count confident detections by kind and decide which gear is covered."""
    counts = {PERSON: 0, **{gear.value: 0 for gear in Gear}}
    for detection in detections:
        kind = detection.kind
        if kind is not None and detection.confidence >= min_confidence:
            counts[kind] += 1
    workers = counts[PERSON]
    return SafetyFields(
        workers=workers,
        hard_hat=workers > 0 and counts[Gear.HARD_HAT] >= workers,
        safety_vest=workers > 0 and counts[Gear.SAFETY_VEST] >= workers,
        inspection_equipment=counts[Gear.INSPECTION_EQUIPMENT] > 0,
        counts=counts,
    )
