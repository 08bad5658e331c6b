"""The tier0 image's two big layers: a Debian base and the project's virtualenv.

The base is ``mmdebstrap`` of Debian bookworm from the archive the host's apt uses, kept
unpacked in the cache because the app layer is built on top of it. The app layer is
``install-project.sh`` run in a chroot of that base through an overlay mount: everything it
writes lands in the overlay's upper directory, and ``/opt/tier0`` from there is the layer. Its
packages come from a wheelhouse that the host's pip fills, so the chroot needs no network.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tarfile
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tier0.cluster import oci
from tier0.cluster.oci import digest_of, file_digest
from tier0.setup.steps import SetupError, run_command

IMAGE_FILES = Path(__file__).parent / "image"
INSTALL_SCRIPT = IMAGE_FILES / "install-project.sh"
PACKAGES_FILE = IMAGE_FILES / "packages.txt"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
APT_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
SUITE = "bookworm"
TIER0_ID = 10001
# Wheels are resolved by Debian's own python3 and pip, not the project's virtualenv: on a bookworm
# host that is the image's interpreter, so markers such as python_full_version < "3.11.3"
# resolve as they will inside the image.
HOST_PYTHON = "/usr/bin/python3"
VENV = "opt/tier0"

# Documentation, man pages and translations are never read in a container; copyright files stay.
DPKG_OPTIONS = (
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
    "path-exclude=/usr/share/lintian/*",
    # PostgreSQL's JIT is a plugin it skips when absent (as on distributions that package it
    # apart); it and the LLVM and Z3 libraries only it links are a third of the Debian tree.
    "path-exclude=/usr/lib/postgresql/*/lib/llvmjit*",
    "path-exclude=/usr/lib/postgresql/*/lib/bitcode/*",
    "path-exclude=/usr/lib/*/libLLVM-*",
    "path-exclude=/usr/lib/*/libz3.so*",
)
# The charts initialise PostgreSQL data directories themselves; Debian's default cluster would
# only add a data directory and configuration nobody uses.
ESSENTIAL_HOOKS = (
    'mkdir -p "$1/etc/postgresql-common/createcluster.d"',
    'echo "create_main_cluster = false" > "$1/etc/postgresql-common/createcluster.d/tier0.conf"',
)
CUSTOMIZE_HOOKS = (
    f'chroot "$1" groupadd --gid {TIER0_ID} tier0',
    f'chroot "$1" useradd --uid {TIER0_ID} --gid {TIER0_ID} --create-home --home-dir /home/tier0'
    " --shell /usr/sbin/nologin tier0",
    # The runtime mounts its own; the build host's would leak into the image and its hash.
    'rm -f "$1/etc/resolv.conf" "$1/etc/hostname"',
    'rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/tmp/*',
    'find "$1/var/log" -type f -delete',
)


def packages() -> list[str]:
    lines = PACKAGES_FILE.read_text().splitlines()
    return sorted(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def mmdebstrap_argv(target: Path) -> list[str]:
    argv = ["mmdebstrap", "--mode=root", "--variant=minbase", "--format=directory"]
    argv += ["--include=" + ",".join(packages()), '--aptopt=APT::Install-Recommends "false"']
    argv += [f"--dpkgopt={option}" for option in DPKG_OPTIONS]
    argv += [f"--essential-hook={hook}" for hook in ESSENTIAL_HOOKS]
    argv += [f"--customize-hook={hook}" for hook in CUSTOMIZE_HOOKS]
    argv += [SUITE, str(target)]
    # The host's own deb822 sources (deb.debian.org); mmdebstrap's defaults name the same.
    return [*argv, str(APT_SOURCES)] if APT_SOURCES.is_file() else argv


@dataclass(frozen=True)
class DebianBase:
    """The Debian layer, keyed by the package list, the sources and the mmdebstrap options."""

    key: str
    cache: Path

    @property
    def rootfs(self) -> Path:
        return self.cache / "rootfs" / self.key

    def ensure_rootfs(self) -> Path:
        if (self.rootfs / "etc" / "passwd").is_file():
            return self.rootfs
        partial = self.rootfs.with_name(self.key + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.parent.mkdir(parents=True, exist_ok=True)
        # A fixed SOURCE_DATE_EPOCH makes mmdebstrap's output depend only on the archive's content.
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(oci.FIXED_MTIME)}
        run_command("image tier0: debian base", mmdebstrap_argv(partial), env=env)
        partial.rename(self.rootfs)
        return self.rootfs

    def build_layer(self, blobs: Path) -> oci.Layer:
        root = self.ensure_rootfs()
        return oci.write_layer(blobs, lambda tar: oci.add_tree(tar, root))


def debian_base(cache: Path) -> DebianBase:
    sources = APT_SOURCES.read_bytes() if APT_SOURCES.is_file() else b""
    argv = mmdebstrap_argv(Path("TARGET"))
    return DebianBase(digest_of("debian", sources, *argv), cache)


def project_sources(root: Path = PROJECT_ROOT) -> list[str]:
    """Paths (from ``root``) of every file the project's wheel is built from."""
    found = [name for name in ("pyproject.toml", "README.md") if (root / name).is_file()]
    for tree in ("services", "operator", "simulators"):
        for directory, subdirs, files in os.walk(root / tree):
            subdirs[:] = [d for d in subdirs if not _ignored(d)]
            relative = Path(directory).relative_to(root)
            found += [str(relative / f) for f in files if not _ignored(f)]
    return sorted(found)


def _ignored(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__" or name.endswith((".pyc", ".egg-info"))


def requirements(root: Path = PROJECT_ROOT) -> tuple[list[str], list[str]]:
    """The project's runtime dependencies, and what building its wheel requires."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    return list(pyproject["project"]["dependencies"]), list(pyproject["build-system"]["requires"])


@dataclass(frozen=True)
class AppLayers:
    """/opt/tier0 in two layers: its dependencies (keyed by the requirements) and the project
    itself (keyed by its sources), so that a code change rebuilds and ships only the second."""

    deps_key: str
    project_key: str
    base: DebianBase
    root: Path
    sources: tuple[str, ...]
    wheelhouse_key: str

    @property
    def deps_tree(self) -> Path:
        """The dependencies' virtualenv unpacked (``opt/tier0`` inside), an overlay lower dir."""
        return self.base.cache / "venv" / self.deps_key

    def build_deps(self, blobs: Path) -> oci.Layer:
        return oci.write_layer(blobs, functools.partial(_add_venv, self.ensure_deps_tree()))

    def build_project(self, blobs: Path) -> oci.Layer:
        lowers = [self.ensure_deps_tree(), self.base.ensure_rootfs()]
        with tempfile.TemporaryDirectory(prefix="tier0-app-", dir=self.base.cache) as tmp:
            work = Path(tmp)
            wheelhouse = self._ensure_wheelhouse()
            wheel = self._project_wheel(work, wheelhouse)
            upper = _install_in_chroot(lowers, work, wheelhouse, wheel, "--project-only")
            return oci.write_layer(blobs, functools.partial(_add_venv, upper))

    def ensure_deps_tree(self) -> Path:
        tree = self.deps_tree
        if (tree / VENV / "pyvenv.cfg").is_file():
            return tree
        rootfs = self.base.ensure_rootfs()
        _check_same_python(rootfs)
        wheelhouse = self._ensure_wheelhouse()
        with tempfile.TemporaryDirectory(prefix="tier0-app-", dir=self.base.cache) as tmp:
            work = Path(tmp)
            wheel = self._project_wheel(work, wheelhouse)
            upper = _install_in_chroot([rootfs], work, wheelhouse, wheel, "--deps-only")
            partial = work / "tree"
            # A fresh /opt: the upper's copy carries the overlay's own bookkeeping attributes.
            (partial / VENV).parent.mkdir(parents=True)
            (upper / VENV).rename(partial / VENV)
            tree.parent.mkdir(parents=True, exist_ok=True)
            partial.rename(tree)
        return tree

    def _ensure_wheelhouse(self) -> Path:
        """Wheels of every dependency for CPython 3.11 on Linux, from the host's pip."""
        wheelhouse = self.base.cache / "wheelhouse" / self.wheelhouse_key
        if wheelhouse.is_dir():
            return wheelhouse
        step = "image tier0: wheelhouse"
        partial = wheelhouse.with_name(self.wheelhouse_key + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        runtime, build = requirements(self.root)
        pip = [HOST_PYTHON, "-m", "pip", "wheel", "-q", "--wheel-dir", str(partial)]
        run_command(step, [*pip, *runtime, *build])
        for stale in wheelhouse.parent.iterdir():
            if stale != partial:
                shutil.rmtree(stale, ignore_errors=True)
        partial.rename(wheelhouse)
        return wheelhouse

    def _project_wheel(self, work: Path, wheelhouse: Path) -> Path:
        """The project's wheel, built offline from a copy of exactly the hashed sources."""
        source = work / "source"
        for relative in self.sources:
            (source / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.root / relative, source / relative)
        out = work / "project-wheel"
        argv = [HOST_PYTHON, "-m", "pip", "wheel", "-q", "--no-deps", "--no-index"]
        argv += ["--find-links", str(wheelhouse), "--wheel-dir", str(out), str(source)]
        run_command("image tier0: project wheel", argv)
        (wheel,) = out.glob("*.whl")
        return wheel


def _add_venv(tree: Path, tar: tarfile.TarFile) -> None:
    oci.add_dir(tar, "opt")
    oci.add_dir(tar, VENV)
    oci.add_tree(tar, tree / VENV, VENV, mtime=oci.FIXED_MTIME)


def app_layers(base: DebianBase, root: Path = PROJECT_ROOT) -> AppLayers:
    sources = project_sources(root)
    runtime, build = requirements(root)
    python = host_python_version()
    wheelhouse_key = digest_of("wheelhouse", python, *runtime, *build)
    deps_key = digest_of("deps", base.key, wheelhouse_key, file_digest(INSTALL_SCRIPT))
    contents = [name + file_digest(root / name) for name in sources]
    project_key = digest_of("project", deps_key, *contents)
    return AppLayers(deps_key, project_key, base, root, tuple(sources), wheelhouse_key)


_VERSION_ARGS = ("-c", "import platform; print(platform.python_version())")


@cache
def host_python_version() -> str:
    return run_command("image tier0: python", [HOST_PYTHON, *_VERSION_ARGS]).strip()


def _check_same_python(rootfs: Path) -> None:
    image = run_command("image tier0: python", ["chroot", str(rootfs), "python3", *_VERSION_ARGS])
    if image.strip() != host_python_version():
        raise SetupError(
            "image tier0: python",
            f"the image has Python {image.strip()} but {HOST_PYTHON} is "
            f"{host_python_version()}: wheels must be resolved for the image's interpreter",
        )


def _install_in_chroot(
    lowers: list[Path], work: Path, wheelhouse: Path, wheel: Path, mode: str
) -> Path:
    """Run ``install-project.sh MODE`` in a chroot of ``lowers`` (top first); returns the
    overlay's upper dir, which holds everything the script wrote."""
    upper = work / "upper"
    staged = upper / "tier0-build"
    (staged / "wheels").mkdir(parents=True)
    # Hard links cost nothing, and the overlay shows them inside the chroot without a bind mount.
    for item in [*wheelhouse.iterdir(), wheel]:
        os.link(item, staged / "wheels" / item.name)
    shutil.copy2(INSTALL_SCRIPT, staged / "install-project.sh")
    env = [
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/root",
        "LANG=C.UTF-8",
        "PIP_NO_INDEX=1",
        "PIP_FIND_LINKS=/tier0-build/wheels",
    ]
    script = ["/bin/sh", "/tier0-build/install-project.sh", mode]
    script.append(f"/tier0-build/wheels/{wheel.name}")
    with _overlay(lowers, upper, work) as merged:
        argv = ["chroot", str(merged), "/usr/bin/env", "-i", *env, *script, f"/{VENV}"]
        run_command("image tier0: install in chroot", argv)
    return upper


@contextmanager
def _overlay(lowers: list[Path], upper: Path, work: Path) -> Iterator[Path]:
    """``lowers`` mounted read-only under a writable ``upper``; always unmounted afterwards."""
    merged, scratch = work / "merged", work / "overlay-work"
    merged.mkdir()
    scratch.mkdir()
    options = f"lowerdir={':'.join(map(str, lowers))},upperdir={upper},workdir={scratch}"
    run_command(
        "image tier0: overlay", ["mount", "-t", "overlay", "overlay", "-o", options, str(merged)]
    )
    try:
        yield merged
    finally:
        if subprocess.run(["umount", str(merged)], check=False).returncode != 0:
            subprocess.run(["umount", "--lazy", str(merged)], check=False)


def prune(cache: Path, *, keep: set[str]) -> None:
    """Remove unpacked Debian trees and virtualenvs whose key is not in ``keep``."""
    for tree in [*(cache / "rootfs").glob("*"), *(cache / "venv").glob("*")]:
        if tree.name not in keep:
            shutil.rmtree(tree, ignore_errors=True)
