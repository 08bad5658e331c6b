"""Image plans: refs and cache keys change exactly when an image's inputs change."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tier0.cluster import images, images_rootfs, oci

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def pause_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    source = tmp_path / "pause"
    shutil.copytree(images.PAUSE_SOURCE, source)
    monkeypatch.setattr(images, "PAUSE_SOURCE", source)
    monkeypatch.setattr(images, "_go_version", lambda: "go1.99")
    return source


def test_pause_ref_is_a_stable_content_hash(pause_source: Path) -> None:
    ref = images.image_ref("pause")
    assert re.fullmatch(r"localhost/tier0/pause:[0-9a-f]{12}", ref)
    assert images.image_ref("pause") == ref


def test_pause_ref_changes_with_its_source(pause_source: Path) -> None:
    before = images.image_ref("pause")
    main = pause_source / "main.go"
    main.write_text(main.read_text() + "\n// changed\n")
    assert images.image_ref("pause") != before


def test_pause_ref_changes_with_the_go_toolchain(
    pause_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = images.image_ref("pause")
    monkeypatch.setattr(images, "_go_version", lambda: "go2.0")
    assert images.image_ref("pause") != before


def test_binary_layer_key_follows_content_and_place(tmp_path: Path) -> None:
    binary = tmp_path / "coredns"
    binary.write_bytes(b"v1")
    first = images._binary_layer(binary, "coredns").key
    assert images._binary_layer(binary, "coredns").key == first
    assert images._binary_layer(binary, "usr/bin/coredns").key != first
    binary.write_bytes(b"v2")
    assert images._binary_layer(binary, "coredns").key != first


def test_binary_layer_holds_the_binary_and_its_parents(tmp_path: Path) -> None:
    binary = tmp_path / "provisioner"
    binary.write_bytes(b"static binary")
    step = images._binary_layer(binary, "usr/bin/provisioner")
    layer = step.build(tmp_path / "blobs")
    with oci.tarfile.open(layer.path) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert list(members) == ["usr", "usr/bin", "usr/bin/provisioner", "tmp"]
    assert members["usr/bin/provisioner"].mode == 0o755
    assert members["tmp"].mode == 0o1777
    assert step.build(tmp_path / "blobs").digest == layer.digest


def _plan(layer_keys: tuple[str, ...], entrypoint: str = "/x") -> images.ImagePlan:
    def unused(_blobs: Path) -> oci.Layer:
        raise AssertionError("not built")

    layers = tuple(images.LayerPlan(key, key, unused) for key in layer_keys)
    return images.ImagePlan("x", "localhost/tier0/x:1", layers, images._config([entrypoint]))


def test_archive_key_changes_only_with_layers_or_config() -> None:
    key = _plan(("a", "b")).key
    assert _plan(("a", "b")).key == key
    assert _plan(("a", "c")).key != key
    assert _plan(("b", "a")).key != key
    assert _plan(("a", "b"), entrypoint="/y").key != key


def _project(root: Path) -> Path:
    (root / "services" / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "services" / "pkg" / "__init__.py").write_text("")
    (root / "services" / "pkg" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    (root / "services" / "pkg.egg-info").mkdir()
    (root / "services" / "pkg.egg-info" / "PKG-INFO").write_text("")
    (root / "README.md").write_text("readme\n")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=69"]\n'
        '[project]\nname = "pkg"\ndependencies = ["rich>=13"]\n'
    )
    return root


def test_project_sources_skip_caches_and_build_metadata(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert images_rootfs.project_sources(root) == [
        "README.md",
        "pyproject.toml",
        "services/pkg/__init__.py",
    ]


def test_code_changes_touch_only_the_project_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images_rootfs, "host_python_version", lambda: "3.11.2")
    root = _project(tmp_path / "project")
    base = images_rootfs.DebianBase("base", tmp_path / "cache")
    app = images_rootfs.app_layers(base, root)
    (root / "services" / "pkg" / "__pycache__" / "y.pyc").write_bytes(b"ignored")
    assert images_rootfs.app_layers(base, root) == app
    (root / "services" / "pkg" / "__init__.py").write_text("VERSION = 2\n")
    changed = images_rootfs.app_layers(base, root)
    assert changed.deps_key == app.deps_key
    assert changed.project_key != app.project_key


def test_dependency_python_or_base_changes_touch_both_app_layers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images_rootfs, "host_python_version", lambda: "3.11.2")
    root = _project(tmp_path / "project")
    base = images_rootfs.DebianBase("base", tmp_path / "cache")
    app = images_rootfs.app_layers(base, root)
    other_base = images_rootfs.DebianBase("other", tmp_path / "cache")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("rich>=13", "rich>=14"))
    new_requirements = images_rootfs.app_layers(base, root)
    pyproject.write_text(pyproject.read_text().replace("rich>=14", "rich>=13"))
    monkeypatch.setattr(images_rootfs, "host_python_version", lambda: "3.11.9")
    new_python = images_rootfs.app_layers(base, root)
    monkeypatch.setattr(images_rootfs, "host_python_version", lambda: "3.11.2")
    for changed in (new_requirements, new_python, images_rootfs.app_layers(other_base, root)):
        assert changed.deps_key != app.deps_key
        assert changed.project_key != app.project_key
    assert images_rootfs.app_layers(base, root) == app


def test_debian_base_key_follows_the_package_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packages = tmp_path / "packages.txt"
    packages.write_text("# comment\npython3\ncurl\n")
    monkeypatch.setattr(images_rootfs, "PACKAGES_FILE", packages)
    key = images_rootfs.debian_base(tmp_path).key
    assert images_rootfs.packages() == ["curl", "python3"]
    packages.write_text("curl\npython3\n# another comment\n")
    assert images_rootfs.debian_base(tmp_path).key == key
    packages.write_text("curl\npython3\nredis-server\n")
    assert images_rootfs.debian_base(tmp_path).key != key


def test_mmdebstrap_builds_a_lean_minbase_from_the_package_list() -> None:
    argv = images_rootfs.mmdebstrap_argv(Path("/target"))
    assert "--variant=minbase" in argv
    include = next(a for a in argv if a.startswith("--include=")).removeprefix("--include=")
    assert {"python3", "python3-venv", "postgresql-15", "redis-server"} <= set(include.split(","))
    assert "--dpkgopt=path-exclude=/usr/share/man/*" in argv
    assert argv[argv.index("bookworm") + 1] == "/target"


def test_unknown_image_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown image"):
        images.image_ref("nginx")


def test_pruning_keeps_blobs_that_a_kept_layer_shares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "images_dir", lambda: tmp_path)
    blobs = tmp_path / "blobs"

    def record(key: str, payload: str) -> oci.Layer:
        source = tmp_path / f"{key}.txt"
        source.write_text(payload)
        layer = oci.write_layer(blobs, lambda tar: oci.add_file(tar, source, "payload"))
        images._store_layer(key, layer)
        return layer

    kept = record("kept", "same")
    shared = record("revert", "same")
    stale = record("stale", "other")
    assert shared.path == kept.path
    images._prune_layers({"kept"})
    assert images._cached_layer("kept") == kept
    assert images._cached_layer("revert") is None
    assert not stale.path.exists()
