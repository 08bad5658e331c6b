"""The node's pure parts: generated configs and add-ons, and the PID-file daemon."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tier0.cluster import addons, configs, layout, network
from tier0.cluster.certs import NodePki
from tier0.cluster.daemon import Daemon
from tier0.cluster.layout import ClusterPaths


def test_the_cni_bridge_neither_masquerades_nor_leaves_the_node_range(tmp_path: Path) -> None:
    path = network.write_cni_config(tmp_path / "net.d", tmp_path / "ipam")
    conflist = json.loads(path.read_text())
    bridge = conflist["plugins"][0]
    assert bridge["type"] == "bridge"
    assert bridge["bridge"] == layout.BRIDGE
    assert bridge["ipMasq"] is False
    assert bridge["ipam"]["ranges"] == [[{"subnet": layout.NODE_POD_CIDR}]]
    assert bridge["ipam"]["dataDir"] == str(tmp_path / "ipam")


def test_coredns_has_no_upstream_and_serves_the_cluster_domain() -> None:
    manifests = addons.coredns("localhost/tier0/coredns:v0")
    corefile = next(m for m in manifests if m["kind"] == "ConfigMap")["data"]["Corefile"]
    assert "forward" not in corefile
    assert "proxy" not in corefile
    assert f"kubernetes {layout.CLUSTER_DOMAIN} in-addr.arpa ip6.arpa" in corefile
    service = next(m for m in manifests if m["kind"] == "Service")
    assert service["spec"]["clusterIP"] == layout.DNS_SERVICE_IP


def test_the_default_storage_class_is_local_path(tmp_path: Path) -> None:
    manifests = addons.local_path_provisioner("p:v0", "h:v0", tmp_path / "volumes")
    (storage_class,) = [m for m in manifests if m["kind"] == "StorageClass"]
    assert storage_class["metadata"]["name"] == addons.STORAGE_CLASS
    annotations = storage_class["metadata"]["annotations"]
    assert annotations["storageclass.kubernetes.io/is-default-class"] == "true"
    config = next(m for m in manifests if m["kind"] == "ConfigMap")["data"]
    assert str(tmp_path / "volumes") in config["config.json"]
    assert "image: h:v0" in config["helperPod.yaml"]


def test_every_image_is_used_as_imported_never_pulled(tmp_path: Path) -> None:
    manifests = [*addons.coredns("c"), *addons.local_path_provisioner("p", "h", tmp_path)]
    for manifest in manifests:
        if manifest["kind"] == "Deployment":
            for container in manifest["spec"]["template"]["spec"]["containers"]:
                assert container["imagePullPolicy"] == "Never"


def test_kubelet_config_fits_this_machine_and_never_collects_images(tmp_path: Path) -> None:
    paths = ClusterPaths(tmp_path)
    config = configs.kubelet_config(paths, NodePki(paths.pki))
    assert config["failCgroupV1"] is False
    assert config["cgroupDriver"] == "cgroupfs"
    assert config["imageGCHighThresholdPercent"] == 100
    assert config["address"] == layout.NODE_IP
    assert config["clusterDNS"] == [layout.DNS_SERVICE_IP]
    assert config["authentication"]["anonymous"] == {"enabled": False}
    toml = configs.containerd_config(paths, sandbox_image="localhost/tier0/pause:x")
    assert 'sandbox_image = "localhost/tier0/pause:x"' in toml
    assert "restrict_oom_score_adj = true" in toml


def test_nodeports_answer_on_loopback_and_the_node_address_only(tmp_path: Path) -> None:
    config = configs.kube_proxy_config(NodePki(tmp_path))
    assert config["nodePortAddresses"] == ["127.0.0.0/8", f"{layout.NODE_IP}/32"]


def _sleeper(tmp_path: Path, *, handler: str = "") -> Daemon:
    code = f"import signal, time\n{handler}\ntime.sleep(600)\n"
    return Daemon(
        name="sleeper",
        argv=[sys.executable, "-c", code],
        log_path=tmp_path / "sleeper.log",
        pid_file=tmp_path / "sleeper.pid",
    )


def test_a_daemon_is_tracked_by_its_pid_file_and_stopped(tmp_path: Path) -> None:
    daemon = _sleeper(tmp_path)
    pid = daemon.start()
    assert daemon.running()
    assert daemon.pid() == pid
    # A second object for the same files (another `tier0` command) sees the same process.
    assert _sleeper(tmp_path).pid() == pid
    daemon.stop()
    assert not daemon.running()
    assert not daemon.pid_file.exists()


def test_a_daemon_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    daemon = _sleeper(tmp_path, handler="signal.signal(signal.SIGTERM, signal.SIG_IGN)")
    daemon.start()
    daemon.stop(timeout=1.0)
    assert not daemon.running()


def test_a_recycled_pid_is_not_mistaken_for_the_daemon(tmp_path: Path) -> None:
    daemon = _sleeper(tmp_path)
    daemon.pid_file.write_text(f"{1} not-its-start-time\n")
    assert daemon.pid() is None
    assert not daemon.running()


def test_a_second_start_is_refused(tmp_path: Path) -> None:
    daemon = _sleeper(tmp_path)
    daemon.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            daemon.start()
    finally:
        daemon.stop()
    assert not daemon.running()
