"""Per-image file metadata read with Pillow."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError


class ImageReadError(ValueError):
    """A file Pillow cannot read as an image."""


@dataclass(frozen=True, slots=True)
class ImageMetadata:
    """What the file itself says; ``sha256`` of its bytes is the image's identity."""

    file_name: str
    sha256: str
    size_bytes: int
    format: str
    width: int
    height: int
    mode: str


def read_metadata(path: Path) -> ImageMetadata:
    """Hash the bytes and read format and dimensions; raises ``ImageReadError``."""
    data = path.read_bytes()
    try:
        with Image.open(path) as image:
            image.verify()  # catches truncated and corrupt files without decoding every pixel
        with Image.open(path) as image:
            fmt, (width, height), mode = image.format or "unknown", image.size, image.mode
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ImageReadError(f"{path.name}: not a readable image: {exc}") from exc
    return ImageMetadata(
        path.name, hashlib.sha256(data).hexdigest(), len(data), fmt, width, height, mode
    )
