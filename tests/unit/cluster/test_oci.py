"""OCI image layouts: digests, diff_ids and the JSON documents `ctr images import` reads."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from tier0.cluster import oci


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _tree(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "tool").write_bytes(b"#!/bin/sh\necho hi\n")
    (root / "bin" / "tool").chmod(0o755)
    os.link(root / "bin" / "tool", root / "bin" / "tool-alias")
    (root / "etc").mkdir()
    (root / "etc" / "motd").write_text("hello\n")
    (root / "etc" / "motd-link").symlink_to("motd")
    return root


def _members(layer: oci.Layer) -> list[tarfile.TarInfo]:
    with tarfile.open(layer.path, mode="r:gz") as tar:
        return tar.getmembers()


def test_layer_digest_diff_id_and_size_describe_the_blob(tmp_path: Path) -> None:
    source = _tree(tmp_path / "root")
    layer = oci.write_layer(tmp_path / "blobs", lambda tar: oci.add_tree(tar, source))
    blob = layer.path.read_bytes()
    assert layer.digest == _sha256(blob)
    assert layer.path == tmp_path / "blobs" / "sha256" / layer.digest.removeprefix("sha256:")
    assert layer.size == len(blob)
    assert layer.diff_id == _sha256(gzip.decompress(blob))
    assert not [p for p in layer.path.parent.iterdir() if p.name.startswith(".")]


def test_tree_entries_are_sorted_relative_numeric_and_keep_links(tmp_path: Path) -> None:
    source = _tree(tmp_path / "root")
    layer = oci.write_layer(tmp_path / "blobs", lambda tar: oci.add_tree(tar, source, "opt/x"))
    members = {m.name: m for m in _members(layer)}
    names = list(members)
    assert names == sorted(names)
    assert names[0] == "opt/x/bin"
    assert members["opt/x/bin/tool"].mode == 0o755
    assert members["opt/x/bin/tool-alias"].islnk()
    assert members["opt/x/bin/tool-alias"].linkname == "opt/x/bin/tool"
    assert members["opt/x/etc/motd-link"].issym()
    assert all(m.uname == "" and m.gname == "" for m in members.values())


def test_fixed_mtime_makes_layers_reproducible(tmp_path: Path) -> None:
    first = _tree(tmp_path / "first")
    second = _tree(tmp_path / "second")
    os.utime(second / "etc" / "motd", (1, 1))
    layers = [
        oci.write_layer(tmp_path / "blobs", lambda tar, r=root: oci.add_tree(tar, r, mtime=7))
        for root in (first, second)
    ]
    assert layers[0].digest == layers[1].digest
    assert {m.mtime for m in _members(layers[0])} == {7}


def test_layer_digest_changes_with_content(tmp_path: Path) -> None:
    root = _tree(tmp_path / "root")
    before = oci.write_layer(tmp_path / "blobs", lambda tar: oci.add_tree(tar, root, mtime=7))
    (root / "etc" / "motd").write_text("changed\n")
    after = oci.write_layer(tmp_path / "blobs", lambda tar: oci.add_tree(tar, root, mtime=7))
    assert before.digest != after.digest
    assert before.diff_id != after.diff_id


def _read_archive(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def test_archive_is_a_consistent_image_layout(tmp_path: Path) -> None:
    binary = tmp_path / "tool"
    binary.write_bytes(b"\x7fELF not really")
    layer = oci.write_layer(tmp_path / "blobs", lambda tar: oci.add_file(tar, binary, "tool"))
    config = oci.ImageConfig(entrypoint=("/tool",), cmd=("--help",), labels=(("a", "b"),))
    ref = "localhost/tier0/tool:0123456789ab"
    archive = tmp_path / "tool.oci.tar"
    manifest_digest = oci.write_archive(archive, ref=ref, layers=[layer], config=config)

    files = _read_archive(archive)
    for name, data in files.items():
        if name.startswith("blobs/sha256/"):
            assert _sha256(data) == "sha256:" + name.rsplit("/", 1)[1]
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(files["index.json"])
    (entry,) = index["manifests"]
    assert entry["digest"] == manifest_digest
    assert entry["annotations"] == {
        oci.ANNOTATION_CONTAINERD_NAME: ref,
        oci.ANNOTATION_REF_NAME: "0123456789ab",
    }
    manifest = json.loads(files["blobs/" + manifest_digest.replace(":", "/")])
    assert manifest["mediaType"] == oci.MEDIA_MANIFEST
    assert [d["digest"] for d in manifest["layers"]] == [layer.digest]
    assert manifest["layers"][0]["size"] == layer.size
    image_config = json.loads(files["blobs/" + manifest["config"]["digest"].replace(":", "/")])
    assert image_config["rootfs"] == {"type": "layers", "diff_ids": [layer.diff_id]}
    assert image_config["config"]["Entrypoint"] == ["/tool"]
    assert image_config["config"]["Cmd"] == ["--help"]
    assert image_config["os"] == "linux"
    assert oci.archive_target(archive) == (ref, manifest_digest)


def test_archive_is_byte_identical_for_identical_inputs(tmp_path: Path) -> None:
    binary = tmp_path / "tool"
    binary.write_bytes(b"payload")
    digests = []
    for name in ("a.tar", "b.tar"):
        layer = oci.write_layer(tmp_path / "blobs", lambda tar: oci.add_file(tar, binary, "tool"))
        config = oci.ImageConfig(entrypoint=("/tool",))
        oci.write_archive(tmp_path / name, ref="localhost/x:1", layers=[layer], config=config)
        digests.append(_sha256((tmp_path / name).read_bytes()))
    assert digests[0] == digests[1]


def test_failed_write_leaves_no_partial_archive(tmp_path: Path) -> None:
    dest = tmp_path / "out.tar"

    def interrupted_write() -> None:
        with oci.atomic_output(dest) as out:
            out.write(b"half")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        interrupted_write()
    assert list(tmp_path.iterdir()) == []


def test_digest_of_separates_parts() -> None:
    assert oci.digest_of("ab", "c") != oci.digest_of("a", "bc")
    assert oci.digest_of("ab", "c") == oci.digest_of(b"ab", b"c")


def test_gzip_header_carries_no_build_time(tmp_path: Path) -> None:
    layer = oci.write_layer(tmp_path / "blobs", lambda tar: oci.add_dir(tar, "tmp"))
    header = layer.path.read_bytes()[:10]
    assert header[4:8] == b"\0\0\0\0"  # MTIME field
    assert gzip.GzipFile(fileobj=io.BytesIO(layer.path.read_bytes())).read()
