"""OCI image layouts written with tarfile, gzip and hashlib: no registry, no Docker.

A layer is a gzip-compressed tar whose blob is named by the sha256 of the compressed bytes
(``digest``) while the image config lists the sha256 of the uncompressed tar (``diff_id``); both
are hashed while the layer streams to disk. Entries are sorted, owned by numeric ids and, where
the caller asks, stamped with one fixed mtime, so equal inputs give equal digests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import platform
import stat
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, cast

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
# containerd's `ctr images import` names the image after this annotation of the index entry;
# the OCI ref name (the tag alone, as `docker save` writes it) serves other readers.
ANNOTATION_CONTAINERD_NAME = "io.containerd.image.name"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
# 2000-01-01T00:00:00Z: a fixed, plausible mtime for entries whose real mtime carries no meaning.
FIXED_MTIME = 946684800
_GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


@dataclass(frozen=True)
class Layer:
    """One layer blob: where it is and the three figures the manifest and config need."""

    path: Path
    digest: str
    diff_id: str
    size: int


@dataclass(frozen=True)
class ImageConfig:
    """The runtime part of an image config (``config`` in the OCI config JSON)."""

    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
    working_dir: str = "/"
    user: str = ""
    labels: tuple[tuple[str, str], ...] = ()


class _HashingWriter(io.RawIOBase):
    """A write-only stream that counts and hashes what passes through to ``sink``."""

    def __init__(self, sink: IO[bytes]) -> None:
        super().__init__()
        self.sink = sink
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.sha256.update(data)
        self.size += len(data)
        self.sink.write(data)
        return len(data)

    @property
    def digest(self) -> str:
        return "sha256:" + self.sha256.hexdigest()


def digest_of(*parts: str | bytes) -> str:
    """sha256 hex of ``parts``, each length-prefixed so that no two part lists collide."""
    sha = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        sha.update(len(data).to_bytes(8, "big"))
        sha.update(data)
    return sha.hexdigest()


@cache
def _file_digest(path: Path, size: int, mtime_ns: int) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def file_digest(path: Path) -> str:
    """sha256 hex of a file's content, remembered per (path, size, mtime) within a process."""
    info = path.stat()
    return _file_digest(path, info.st_size, info.st_mtime_ns)


def canonical_json(value: object) -> bytes:
    """JSON with sorted keys and no spaces: the same object always gives the same digest."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob_path(blobs: Path, digest: str) -> Path:
    algorithm, hexdigest = digest.split(":", 1)
    return blobs / algorithm / hexdigest


def go_arch() -> str:
    """This machine's architecture as OCI spells it (Go's GOARCH names)."""
    machine = platform.machine()
    return _GO_ARCH.get(machine, machine)


@contextmanager
def atomic_output(dest: Path) -> Iterator[IO[bytes]]:
    """A temp file next to ``dest``, renamed onto it only if the block succeeds."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_layer(blobs: Path, fill: Callable[[tarfile.TarFile], None], *, level: int = 6) -> Layer:
    """Write the tar that ``fill`` adds entries to as a gzip blob under ``blobs/sha256``."""
    directory = blobs / "sha256"
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".layer.")
    try:
        with os.fdopen(fd, "wb") as out:
            compressed = _HashingWriter(out)
            # mtime=0 and no file name keep the gzip header free of build-time facts.
            with gzip.GzipFile(
                filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=level
            ) as gz:
                plain = _HashingWriter(cast(IO[bytes], gz))
                stream = cast(IO[bytes], plain)
                with tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                    fill(tar)
        dest = blob_path(blobs, compressed.digest)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Layer(path=dest, digest=compressed.digest, diff_id=plain.digest, size=compressed.size)


def _normalised(info: tarfile.TarInfo, mtime: int | None) -> tarfile.TarInfo:
    # Numeric ids only: names would be looked up in the build host's /etc/passwd.
    info.uname = info.gname = ""
    info.mtime = int(info.mtime) if mtime is None else mtime
    return info


def add_dir(
    tar: tarfile.TarFile, arcname: str, *, mode: int = 0o755, mtime: int = FIXED_MTIME
) -> None:
    info = tarfile.TarInfo(arcname)
    info.type, info.mode = tarfile.DIRTYPE, mode
    tar.addfile(_normalised(info, mtime))


def add_file(
    tar: tarfile.TarFile, source: Path, arcname: str, *, mode: int = 0o755, mtime: int = FIXED_MTIME
) -> None:
    """Add the regular file ``source`` as ``arcname``, owned by root, with ``mode``."""
    info = tarfile.TarInfo(arcname)
    info.size, info.mode = source.stat().st_size, mode
    with source.open("rb") as data:
        tar.addfile(_normalised(info, mtime), data)


def _sorted_walk(root: Path, arcname: str) -> Iterator[tuple[Path, str]]:
    """``root``'s descendants (not ``root``) with their names in the archive, sorted by name."""
    with os.scandir(root) as entries:
        children = sorted(entries, key=lambda entry: entry.name)
    for entry in children:
        name = f"{arcname}/{entry.name}" if arcname else entry.name
        yield Path(entry.path), name
        if entry.is_dir(follow_symlinks=False):
            yield from _sorted_walk(Path(entry.path), name)


def add_tree(
    tar: tarfile.TarFile,
    root: Path,
    arcname: str = "",
    *,
    mtime: int | None = None,
    skip: Callable[[str], bool] = lambda _name: False,
) -> None:
    """Add everything under ``root`` as ``arcname/...``, keeping modes, ids and hard links.

    Device nodes and sockets are left out: the runtime mounts its own /dev, and unpacking a
    device node needs privileges a snapshotter may not have.
    """
    for path, name in _sorted_walk(root, arcname):
        mode = path.lstat().st_mode
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode) or skip(name):
            continue
        info = _normalised(tar.gettarinfo(str(path), name), mtime)
        if info.isreg():
            with path.open("rb") as data:
                tar.addfile(info, data)
        else:
            tar.addfile(info)


def config_json(config: ImageConfig, layers: Sequence[Layer]) -> bytes:
    runtime: dict[str, object] = {
        "Entrypoint": list(config.entrypoint),
        "Env": list(config.env),
        "WorkingDir": config.working_dir,
        "User": config.user,
        "Labels": dict(config.labels),
    }
    if config.cmd:
        runtime["Cmd"] = list(config.cmd)
    return canonical_json(
        {
            "architecture": go_arch(),
            "os": "linux",
            "config": runtime,
            "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        }
    )


def manifest_json(config: bytes, layers: Sequence[Layer]) -> bytes:
    return canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": {
                "mediaType": MEDIA_CONFIG,
                "digest": sha256_digest(config),
                "size": len(config),
            },
            "layers": [
                {"mediaType": MEDIA_LAYER, "digest": layer.digest, "size": layer.size}
                for layer in layers
            ],
        }
    )


def index_json(manifest: bytes, ref: str) -> bytes:
    """The layout's index: one manifest, named ``ref`` (``registry/path:tag``)."""
    tag = ref.rsplit(":", 1)[1]
    descriptor = {
        "mediaType": MEDIA_MANIFEST,
        "digest": sha256_digest(manifest),
        "size": len(manifest),
        "platform": {"architecture": go_arch(), "os": "linux"},
        "annotations": {ANNOTATION_CONTAINERD_NAME: ref, ANNOTATION_REF_NAME: tag},
    }
    return canonical_json({"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": [descriptor]})


def _add_bytes(tar: tarfile.TarFile, arcname: str, data: bytes) -> None:
    info = tarfile.TarInfo(arcname)
    info.size, info.mode = len(data), 0o644
    tar.addfile(_normalised(info, FIXED_MTIME), io.BytesIO(data))


def write_archive(dest: Path, *, ref: str, layers: Sequence[Layer], config: ImageConfig) -> str:
    """Write an OCI image-layout tar of one image to ``dest``; returns the manifest digest."""
    config_bytes = config_json(config, layers)
    manifest = manifest_json(config_bytes, layers)
    small_blobs = {sha256_digest(data): data for data in (config_bytes, manifest)}
    names = sorted({*small_blobs, *(layer.digest for layer in layers)})
    paths = {layer.digest: layer.path for layer in layers}
    with atomic_output(dest) as out, tarfile.open(fileobj=out, mode="w|") as tar:
        _add_bytes(tar, "oci-layout", canonical_json({"imageLayoutVersion": "1.0.0"}))
        _add_bytes(tar, "index.json", index_json(manifest, ref))
        add_dir(tar, "blobs")
        add_dir(tar, "blobs/sha256")
        for digest in names:
            arcname = "blobs/" + digest.replace(":", "/")
            if digest in small_blobs:
                _add_bytes(tar, arcname, small_blobs[digest])
            else:
                add_file(tar, paths[digest], arcname, mode=0o644)
    return sha256_digest(manifest)


def archive_target(archive: Path) -> tuple[str, str]:
    """The image name and manifest digest an OCI archive's index.json declares."""
    with tarfile.open(archive, mode="r|") as tar:
        for member in tar:
            if member.name == "index.json":
                data = tar.extractfile(member)
                assert data is not None
                index = json.loads(data.read())
                break
        else:
            raise ValueError(f"{archive} has no index.json")
    descriptor = index["manifests"][0]
    return str(descriptor["annotations"][ANNOTATION_CONTAINERD_NAME]), str(descriptor["digest"])
