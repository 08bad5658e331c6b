"""Offline container images for the single-node cluster: no registry, no Docker.

Each image is planned from its inputs first (sources, binaries, package lists), and its tag or
archive name is a hash of those inputs, so asking for a ref costs no build and an unchanged
image costs nothing. Layers are cached on their own: a code change rebuilds only the tier0
image's small project layer, never its Debian base or its Python dependencies. Archives are OCI
image-layout tars that ``ctr images import`` reads.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import json
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rich.console import Console

from tier0.cluster import images_rootfs as rootfs
from tier0.cluster import oci
from tier0.cluster.oci import digest_of, file_digest
from tier0.paths import cache_dir
from tier0.setup import gotools
from tier0.setup.steps import SetupError, run_command

REGISTRY = "localhost/tier0"
# Part of every image's hash: bump it when the packing itself changes, to rebuild everything.
PACKING_VERSION = "1"
PAUSE_SOURCE = Path(__file__).parent / "pause"
IMAGE_NAMES = ("pause", "coredns", "local-path-provisioner", "tier0")


@dataclass(frozen=True)
class LayerPlan:
    """One layer: ``key`` hashes its inputs; ``build`` writes it under the given blobs dir."""

    key: str
    label: str
    build: Callable[[Path], oci.Layer]


@dataclass(frozen=True)
class ImagePlan:
    name: str
    ref: str
    layers: tuple[LayerPlan, ...]
    config: oci.ImageConfig

    @property
    def key(self) -> str:
        """Hash of everything the archive holds; names the archive in the cache."""
        return digest_of(
            PACKING_VERSION, self.ref, repr(self.config), *(step.key for step in self.layers)
        )


def images_dir() -> Path:
    return cache_dir() / "images"


def _required_binary(tool: gotools.GoTool, binary: str) -> Path:
    path = tool.path(binary)
    if not os.access(path, os.X_OK):
        raise SetupError(f"image {binary}", f"{path} is missing: run `tier0 setup` first")
    return path


# --- single-binary images ------------------------------------------------------------------


def _binary_layer(source: Path, arcname: str) -> LayerPlan:
    """A layer of one static binary at ``arcname`` (its parent directories and /tmp too)."""

    def fill(tar: tarfile.TarFile) -> None:
        parts = arcname.split("/")
        for depth in range(1, len(parts)):
            oci.add_dir(tar, "/".join(parts[:depth]))
        oci.add_file(tar, source, arcname)
        oci.add_dir(tar, "tmp", mode=0o1777)

    key = digest_of("binary", arcname, file_digest(source))
    return LayerPlan(key, f"layer {arcname}", lambda blobs: oci.write_layer(blobs, fill))


def _content_ref(name: str, config: oci.ImageConfig, layers: Sequence[LayerPlan]) -> str:
    """``localhost/tier0/NAME:<12 hex>``, the hex hashing the config and every layer's inputs."""
    key = digest_of(PACKING_VERSION, repr(config), *(layer.key for layer in layers))
    return f"{REGISTRY}/{name}:{key[:12]}"


@cache
def _go_version() -> str:
    if shutil.which("go") is None:
        raise SetupError("image pause", "the Go toolchain (`go`) is not on PATH")
    return run_command("image pause", ["go", "env", "GOVERSION"]).strip()


def _pause_plan() -> ImagePlan:
    sources = sorted(p for p in PAUSE_SOURCE.iterdir() if p.suffix in (".go", ".mod"))
    key = digest_of("pause", _go_version(), *(p.name + file_digest(p) for p in sources))

    def build(blobs: Path) -> oci.Layer:
        with tempfile.TemporaryDirectory(prefix="tier0-pause-") as tmp:
            binary = Path(tmp) / "pause"
            env = {**os.environ, "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOFLAGS": ""}
            # -trimpath and an empty build id make the binary depend only on source and Go.
            argv = ["go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", str(binary)]
            run_command("image pause", [*argv, "."], cwd=PAUSE_SOURCE, env=env)
            layer = _binary_layer(binary, "pause")
            return layer.build(blobs)

    layers, config = (LayerPlan(key, "pause binary", build),), _config(["/pause"])
    return ImagePlan("pause", _content_ref("pause", config, layers), layers, config)


def _config(
    entrypoint: list[str], *, cmd: tuple[str, ...] = (), env: tuple[str, ...] = ()
) -> oci.ImageConfig:
    labels = (("org.opencontainers.image.vendor", "Tier-0"),)
    config = oci.ImageConfig(entrypoint=tuple(entrypoint), cmd=cmd, labels=labels)
    return dataclasses.replace(config, env=env) if env else config


def _coredns_plan() -> ImagePlan:
    layer = _binary_layer(_required_binary(gotools.COREDNS, "coredns"), "coredns")
    ref = f"{REGISTRY}/coredns:{gotools.COREDNS.version}"
    return ImagePlan("coredns", ref, (layer,), _config(["/coredns"]))


def _local_path_plan() -> ImagePlan:
    binary = _required_binary(gotools.LOCAL_PATH_PROVISIONER, "local-path-provisioner")
    # Upstream's manifests run it by name (`command: [local-path-provisioner, ...]`): on PATH.
    layer = _binary_layer(binary, "usr/bin/local-path-provisioner")
    ref = f"{REGISTRY}/local-path-provisioner:{gotools.LOCAL_PATH_PROVISIONER.version}"
    config = _config(["/usr/bin/local-path-provisioner"])
    return ImagePlan("local-path-provisioner", ref, (layer,), config)


# --- the tier0 image -----------------------------------------------------------------------

TIER0_ENV = (
    "PATH=/opt/tier0/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    # Bytecode is compiled at build time; the container may run as a user who cannot write it.
    "PYTHONDONTWRITEBYTECODE=1",
    "PYTHONUNBUFFERED=1",
    "LANG=C.UTF-8",
)


def _tier0_plan() -> ImagePlan:
    base = rootfs.debian_base(images_dir())
    ferretdb = _binary_layer(
        _required_binary(gotools.FERRETDB, "ferretdb"), "usr/local/bin/ferretdb"
    )
    app = rootfs.app_layers(base)
    layers = (
        LayerPlan(base.key, "debian base", base.build_layer),
        ferretdb,
        LayerPlan(app.deps_key, "python dependencies", app.build_deps),
        LayerPlan(app.project_key, "project", app.build_project),
    )
    # tini reaps zombies and forwards signals when a chart does not set its own command.
    entrypoint = ["/usr/bin/tini", "--", "/opt/tier0/bin/tier0"]
    config = _config(entrypoint, cmd=("--help",), env=TIER0_ENV)
    return ImagePlan("tier0", _content_ref("tier0", config, layers), layers, config)


_PLANNERS: dict[str, Callable[[], ImagePlan]] = {
    "pause": _pause_plan,
    "coredns": _coredns_plan,
    "local-path-provisioner": _local_path_plan,
    "tier0": _tier0_plan,
}


def plan(name: str) -> ImagePlan:
    try:
        planner = _PLANNERS[name]
    except KeyError:
        raise ValueError(f"unknown image {name!r}; known: {', '.join(IMAGE_NAMES)}") from None
    return planner()


def image_ref(name: str) -> str:
    """The ref ``name`` gets once imported, e.g. ``localhost/tier0/tier0:<12-hex hash>``."""
    return plan(name).ref


def archive_ref(archive: Path) -> str:
    """The ref an archive from ``ensure_images`` imports as: the one it was built with, even
    if the sources have changed since (``image_ref`` would hash them again)."""
    return oci.archive_target(archive)[0]


# --- building and caching ------------------------------------------------------------------


@contextmanager
def _locked() -> Iterator[None]:
    """One image build at a time per cache (two checkouts may share it)."""
    images_dir().mkdir(parents=True, exist_ok=True)
    with (images_dir() / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _timed(console: Console, step: str, action: Callable[[], str]) -> None:
    started = time.monotonic()
    with console.status(f"[bold]{step}[/bold] ..."):
        outcome = action()
    console.print(f"[green]ok[/green] {step}: {outcome} ({time.monotonic() - started:.1f} s)")


def _layer_record(key: str) -> Path:
    return images_dir() / "layers" / f"{key}.json"


def _cached_layer(key: str) -> oci.Layer | None:
    try:
        record = json.loads(_layer_record(key).read_text())
    except FileNotFoundError:
        return None
    layer = oci.Layer(Path(record["path"]), record["digest"], record["diff_id"], record["size"])
    return layer if layer.path.is_file() else None


def _ensure_layer(image: str, step: LayerPlan, console: Console) -> oci.Layer:
    cached = _cached_layer(step.key)
    if cached is not None:
        return cached
    built: list[oci.Layer] = []

    def build() -> str:
        built.append(step.build(images_dir() / "blobs"))
        return f"{built[0].size / 1e6:.1f} MB {built[0].digest[:19]}"

    _timed(console, f"image {image}: {step.label}", build)
    _store_layer(step.key, built[0])
    return built[0]


def _store_layer(key: str, layer: oci.Layer) -> None:
    record = {"path": str(layer.path), "digest": layer.digest, "diff_id": layer.diff_id}
    with oci.atomic_output(_layer_record(key)) as out:
        out.write(json.dumps({**record, "size": layer.size}).encode())


def archive_path(image: ImagePlan) -> Path:
    return images_dir() / "archives" / f"{image.name}-{image.key[:16]}.oci.tar"


def _ensure_archive(image: ImagePlan, console: Console) -> Path:
    archive = archive_path(image)
    if archive.is_file():
        console.print(f"[green]ok[/green] image {image.name}: cached ({image.ref})")
        return archive
    layers = [_ensure_layer(image.name, step, console) for step in image.layers]

    def write() -> str:
        oci.write_archive(archive, ref=image.ref, layers=layers, config=image.config)
        return f"{archive.stat().st_size / 1e6:.1f} MB {image.ref}"

    _timed(console, f"image {image.name}: archive", write)
    for stale in archive.parent.glob(f"{image.name}-*.oci.tar"):
        if stale != archive:
            stale.unlink()
    return archive


def ensure_images(
    *, console: Console | None = None, names: Sequence[str] = IMAGE_NAMES
) -> dict[str, Path]:
    """Build every image in ``names`` whose archive is not cached; returns name -> archive."""
    console = console or Console(stderr=True, highlight=False)
    with _locked():
        plans = [plan(name) for name in names]
        archives = {image.name: _ensure_archive(image, console) for image in plans}
        if set(names) == set(IMAGE_NAMES):
            _prune_layers({step.key for image in plans for step in image.layers})
            # The unpacked trees are named by the keys of the layers they were packed into.
            tier0 = next(image for image in plans if image.name == "tier0")
            rootfs.prune(images_dir(), keep={step.key for step in tier0.layers})
    return archives


def _prune_layers(keep: set[str]) -> None:
    """Drop the cached layers no current image uses (old project layers add up)."""
    records = list((images_dir() / "layers").glob("*.json"))
    kept = {key: _cached_layer(key) for key in keep}
    # Equal inputs under two keys (a change and its revert) may share one blob.
    kept_blobs = {layer.path for layer in kept.values() if layer is not None}
    for record in records:
        if record.stem in keep:
            continue
        layer = _cached_layer(record.stem)
        if layer is not None and layer.path not in kept_blobs:
            layer.path.unlink(missing_ok=True)
        record.unlink()


# --- importing into containerd -------------------------------------------------------------


def _containerd_images(ctr: str, address: Path, namespace: str) -> dict[str, str]:
    """ref -> manifest digest of the images containerd has in ``namespace``."""
    argv = [ctr, "--address", str(address), "-n", namespace, "images", "ls"]
    lines = run_command("import images", argv).splitlines()[1:]
    return {fields[0]: fields[2] for fields in (line.split() for line in lines) if len(fields) > 2}


def import_images(
    archives: dict[str, Path],
    *,
    ctr: str,
    address: Path,
    namespace: str = "k8s.io",
    console: Console | None = None,
) -> None:
    """``ctr images import`` each archive whose ref containerd lacks or holds at another digest."""
    console = console or Console(stderr=True, highlight=False)
    present = _containerd_images(ctr, address, namespace)
    for name, archive in archives.items():
        ref, digest = oci.archive_target(archive)
        if present.get(ref) == digest:
            console.print(f"[green]ok[/green] import {name}: present ({ref})")
            continue
        argv = [ctr, "--address", str(address), "-n", namespace, "images", "import", str(archive)]
        _timed(console, f"import {name}", functools.partial(_import, argv, ref))


def _import(argv: list[str], ref: str) -> str:
    run_command(f"import {ref}", argv)
    return ref
