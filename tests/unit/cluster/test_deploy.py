"""``make up``'s port-forwards: what it forwards, and a taken local port refused up front."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tier0.cluster import deploy
from tier0.cluster.daemon import Daemon
from tier0.cluster.layout import ClusterPaths
from tier0.cluster.node import Cluster
from tier0.stack.base import LOOPBACK, StartupError, free_port


@pytest.fixture
def listener() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((LOOPBACK, free_port()))
        taken.listen()
        yield taken.getsockname()[1]


def test_make_up_forwards_the_dashboard_the_api_and_prometheus() -> None:
    published = {f.name: (f.service, f.port, f.url + f.health) for f in deploy.FORWARDS}
    assert published == {
        "dashboard": ("tier0-dashboard", 8080, "http://127.0.0.1:8080/healthz"),
        "api": ("tier0-api", 8000, "http://127.0.0.1:8000/health"),
        "prometheus": ("tier0-prometheus", 9090, "http://127.0.0.1:9090/-/ready"),
    }


def test_a_listening_port_is_not_free(listener: int) -> None:
    assert not deploy.local_port_free(listener)


def test_a_closed_port_is_free() -> None:
    assert deploy.local_port_free(free_port())


def test_a_taken_local_port_stops_every_forward_before_any_starts(
    listener: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forwards = (
        deploy.Forward("dashboard", "tier0-dashboard", 8080, free_port(), "/healthz"),
        deploy.Forward("api", "tier0-api", 8000, listener, "/health"),
    )
    daemons = {
        f: Daemon(f.name, ["sleep", "60"], tmp_path / f"{f.name}.log", tmp_path / f"{f.name}.pid")
        for f in forwards
    }
    monkeypatch.setattr(deploy, "FORWARDS", forwards)
    monkeypatch.setattr(deploy, "_forward_daemon", lambda _cluster, f: daemons[f])

    with pytest.raises(StartupError) as refused:
        deploy.start_forwards(Cluster(paths=ClusterPaths(tmp_path)))

    assert f"127.0.0.1:{listener} is taken, so service/tier0-api" in str(refused.value)
    assert "tier0-dashboard" not in str(refused.value)
    assert not any(daemon.running() for daemon in daemons.values())
    assert not list(tmp_path.glob("*.pid"))


def test_the_printed_key_commands_read_each_scope_from_the_secret() -> None:
    assert deploy.api_key_command("operate") == (
        "kubectl -n tier0 get secret tier0-credentials "
        "-o jsonpath='{.data.operate-api-key}' | base64 -d"
    )
    assert "{.data.api-key}" in deploy.api_key_command("write")
