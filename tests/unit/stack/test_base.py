"""Port choice and the retry of a start that meets a taken port (real processes, no stores)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tier0.stack import base
from tier0.stack.base import (
    LOOPBACK,
    PortTaken,
    ServerProcess,
    StartupError,
    ephemeral_range,
    free_port,
    port_candidates,
    start_on_free_ports,
)


@pytest.fixture
def listener() -> Iterator[int]:
    """A port another process would be holding: bound and listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, free_port()))
        sock.listen(8)
        yield int(sock.getsockname()[1])


@pytest.fixture
def bound_only() -> Iterator[int]:
    """A port bound without listening: a connect() finds it free, the server's bind() fails."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, free_port()))
        yield int(sock.getsockname()[1])


class HttpServer:
    """A Python HTTP server as the supervised process; records every port it was built for."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir = workdir
        self.port = port
        self.built: list[int] = []

    def build(self) -> ServerProcess:
        self.built.append(self.port)
        argv = [sys.executable, "-m", "http.server", "--bind", LOOPBACK, str(self.port)]
        return ServerProcess("http", argv, self.port, self.workdir, timeout=30)

    def repick(self) -> None:
        self.port = free_port()


def test_ports_lie_outside_the_kernels_ephemeral_range() -> None:
    ephemeral = ephemeral_range()
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports), "a port was handed out twice"
    for port in ports:
        assert port not in ephemeral
        assert port in base.PORT_RANGE
        assert port not in base.HOT_PORTS


def test_ephemeral_range_is_read_from_the_kernel_setting(tmp_path: Path) -> None:
    setting = tmp_path / "ip_local_port_range"
    setting.write_text("24000\t60999\n")
    ephemeral = ephemeral_range(setting)
    assert (ephemeral.start, ephemeral.stop) == (24000, 61000)
    candidates = port_candidates(ephemeral)
    assert min(candidates) == base.PORT_RANGE.start
    assert max(candidates) == 23999


def test_an_ephemeral_range_covering_every_candidate_is_refused() -> None:
    with pytest.raises(StartupError, match="ephemeral range 1024-65535"):
        port_candidates(range(1024, 65536))


@pytest.mark.parametrize("holder", ["listener", "bound_only"])
def test_a_start_on_a_taken_port_retries_on_a_fresh_one(
    tmp_path: Path, holder: str, request: pytest.FixtureRequest
) -> None:
    taken: int = request.getfixturevalue(holder)
    server = HttpServer(tmp_path, taken)
    process = start_on_free_ports(server.build, server.repick)
    try:
        assert server.built[0] == taken
        assert len(server.built) == 2
        assert process.port == server.port != taken
        with socket.create_connection((LOOPBACK, process.port), timeout=5):
            pass
    finally:
        process.stop()


def test_a_taken_port_is_reported_as_such(tmp_path: Path, bound_only: int) -> None:
    server = HttpServer(tmp_path, bound_only)
    with pytest.raises(PortTaken, match=f"on port {bound_only}"):
        server.build().start()


def test_retries_stop_after_the_last_attempt(tmp_path: Path, listener: int) -> None:
    server = HttpServer(tmp_path, listener)
    with pytest.raises(PortTaken):
        start_on_free_ports(server.build, lambda: None, attempts=3)
    assert server.built == [listener] * 3


def test_a_failure_that_is_not_a_taken_port_is_not_retried(tmp_path: Path) -> None:
    built: list[int] = []

    def build() -> ServerProcess:
        port = free_port()
        built.append(port)
        argv = [sys.executable, "-c", "import sys; sys.exit('no config file')"]
        return ServerProcess("broken", argv, port, tmp_path, timeout=30)

    with pytest.raises(StartupError, match="no config file") as raised:
        start_on_free_ports(build, lambda: None)
    assert not isinstance(raised.value, PortTaken)
    assert len(built) == 1


def test_a_server_exiting_cleanly_before_it_listens_fails_at_once(tmp_path: Path) -> None:
    """RabbitMQ's start script exits 0 when the node dies; that must not wait for the timeout."""
    argv = [sys.executable, "-c", "print('node down')"]
    process = ServerProcess("exits", argv, free_port(), tmp_path, timeout=300)
    with pytest.raises(StartupError, match=r"ProcessExitedWithError[\s\S]*node down"):
        process.start()
