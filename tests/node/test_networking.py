"""Service networking on the node: CoreDNS, kube-proxy, NodePort, port-forward, and the guard
that keeps pod and Service traffic on this machine."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from node.kube import Kube, pod, port_forward, wait_for
from tier0.cluster import layout
from tier0.cluster.node import Cluster

pytestmark = pytest.mark.node

PORT = 8080


@pytest.fixture
def web(kube: Kube, tier0_image: str) -> str:
    """An HTTP server pod (Debian's python3) behind a NodePort Service named ``web``; yields the
    page it serves."""
    page = f"served-by-{kube.namespace}"
    script = f"mkdir -p /srv && echo {page} > /srv/index.html && exec python3 -m http.server "
    script += f"{PORT} --directory /srv"
    readiness = {"tcpSocket": {"port": PORT}, "periodSeconds": 1}
    kube.apply(
        pod("web", tier0_image, ["sh", "-c", script], container={"readinessProbe": readiness}),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": PORT}]},
        },
    )
    kube.wait("condition=Ready", "pod/web")
    return page


# A client pod's view, with Debian's python3: resolve a name, then fetch a URL (or report why not).
RESOLVE_AND_FETCH = """
import socket, sys, urllib.request
host, url = sys.argv[1], sys.argv[2]
try:
    print("address", socket.gethostbyname(host))
except OSError as exc:
    print("unresolved", exc)
    sys.exit(0)
print("body", urllib.request.urlopen(url, timeout=10).read().decode().strip())
"""


def _from_pod(kube: Kube, host: str, url: str) -> str:
    return kube.exec("client", "python3", "-c", RESOLVE_AND_FETCH, host, url).stdout


def test_a_pod_resolves_a_service_through_coredns_and_connects(
    kube: Kube, tier0_image: str, web: str
) -> None:
    kube.apply(pod("client", tier0_image, ["sleep", "infinity"]))
    kube.wait("condition=Ready", "pod/client")
    cluster_ip = kube.get("service", "web")["spec"]["clusterIP"]
    fqdn = f"web.{kube.namespace}.svc.{layout.CLUSTER_DOMAIN}"
    out = _from_pod(kube, fqdn, f"http://{fqdn}:{PORT}/")
    assert f"address {cluster_ip}" in out
    assert f"body {web}" in out
    # The short name works through the pod's search path, as in any cluster.
    assert f"body {web}" in _from_pod(kube, "web", f"http://web:{PORT}/")
    resolv = kube.exec("client", "cat", "/etc/resolv.conf").stdout
    assert f"nameserver {layout.DNS_SERVICE_IP}" in resolv


def test_coredns_answers_nothing_outside_the_cluster(kube: Kube, tier0_image: str) -> None:
    kube.apply(pod("client", tier0_image, ["sleep", "infinity"]))
    kube.wait("condition=Ready", "pod/client")
    out = _from_pod(kube, "debian.org", "http://debian.org/")
    # NXDOMAIN from CoreDNS itself ("Name or service not known"), not a failed upstream
    # ("Temporary failure in name resolution").
    assert out.startswith("unresolved"), out
    assert "Name or service not known" in out, out


def test_a_nodeport_answers_on_loopback(kube: Kube, web: str) -> None:
    node_port = kube.get("service", "web")["spec"]["ports"][0]["nodePort"]
    body = wait_for(
        "the NodePort rule",
        lambda: _fetch(f"http://127.0.0.1:{node_port}/"),
    )
    assert body == web


def _fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return str(response.read().decode().strip())
    except OSError:
        return None


def test_kubectl_port_forward_to_a_service(kube: Kube, web: str) -> None:
    with port_forward(kube, "service/web", PORT) as url:
        assert _fetch(f"{url}/") == web


def test_service_addresses_without_a_rule_stay_on_the_bridge(cluster: Cluster) -> None:
    route = subprocess.run(
        ["ip", "route", "get", "10.111.222.233"], capture_output=True, text=True, check=True
    ).stdout
    assert f"dev {layout.BRIDGE}" in route


# connect_ex with a 3 s timeout: 0 connected, ECONNREFUSED refused at once, EAGAIN timed out.
CONNECT = (
    "import socket, sys; s = socket.socket(); s.settimeout(3); "
    "print(s.connect_ex((sys.argv[1], int(sys.argv[2]))))"
)


def test_a_service_address_kube_proxy_does_not_forward_is_refused_at_once(
    kube: Kube, tier0_image: str, web: str
) -> None:
    """From the node and from a pod, a Service address on a port the Service lacks is refused,
    not left to time out on the bridge; so is an address no Service has. A client that
    reconnects while kube-proxy rewrites its rules then retries at once (the -rw Service in a
    switchover)."""
    kube.apply(pod("client", tier0_image, ["sleep", "infinity"]))
    kube.wait("condition=Ready", "pod/client")
    cluster_ip = kube.get("service", "web")["spec"]["clusterIP"]
    refused = str(errno.ECONNREFUSED)
    for address, port in ((cluster_ip, PORT), (cluster_ip, 9), ("10.111.222.233", PORT)):
        expected = "0" if port == PORT and address == cluster_ip else refused
        from_node = subprocess.run(
            [sys.executable, "-c", CONNECT, address, str(port)],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        from_pod = kube.exec("client", "python3", "-c", CONNECT, address, str(port)).stdout
        assert (from_node, from_pod.strip()) == (expected, expected), (address, port)


def test_forwarded_pod_traffic_reaches_pods_only(kube: Kube, tier0_image: str) -> None:
    """A test host of our own (a network namespace behind a veth) is reachable from the node
    but not from a pod: the guard drops forwarded pod traffic to anything but pods."""
    kube.apply(pod("client", tier0_image, ["sleep", "infinity"]))
    kube.wait("condition=Ready", "pod/client")
    with outside_host() as address:
        assert _fetch(f"http://{address}:{PORT}/") == "outside", "the test host must serve"
        dropped_before = _guard_drops()
        out = kube.exec(
            "client", "python3", "-c",
            "import socket; s = socket.socket(); s.settimeout(3); "
            f"print(s.connect_ex(('{address}', {PORT})))",
            check=False,
        )  # fmt: skip
        assert out.stdout.strip() not in ("", "0"), out
        assert _guard_drops() > dropped_before


def _guard_drops() -> int:
    rules = subprocess.run(
        ["iptables", "-w", "-n", "-v", "-x", "-L", layout.FORWARD_CHAIN],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    return sum(int(line.split()[0]) for line in rules if " DROP " in f" {line} ")


OUTSIDE_HOST_LINK, OUTSIDE_PEER_LINK = "t0out0", "t0out1"
# RFC 2544's benchmarking range, on a veth into a namespace this test makes and removes.
OUTSIDE_HOST_ADDRESS, OUTSIDE_ADDRESS = "198.18.0.1", "198.18.0.2"
OUTSIDE_SERVER = f"""
import http.server as h
class H(h.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"outside")
    def log_message(self, *a): pass
h.HTTPServer(("{OUTSIDE_ADDRESS}", {PORT}), H).serve_forever()
"""


@contextmanager
def outside_host() -> Iterator[str]:
    """A network namespace of our own, routed from the host, serving "outside" over HTTP.

    Held by a process (``unshare --net``) rather than made with ``ip netns add``: that command
    bind-mounts /run/netns onto itself, which hides containerd's pod netns mounts beneath it and
    leaves every later pod unable to terminate ("remove netns: device or resource busy").
    """

    def ip(*args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True)

    holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"])
    inside = ["nsenter", f"--target={holder.pid}", "--net", "--"]
    server = None
    try:
        wait_for("the namespace", lambda: _netns(holder.pid) != _netns(os.getpid()), 10)
        ip("link", "add", OUTSIDE_HOST_LINK, "type", "veth", "peer", "name", OUTSIDE_PEER_LINK)
        ip("link", "set", OUTSIDE_PEER_LINK, "netns", str(holder.pid))
        ip("addr", "add", f"{OUTSIDE_HOST_ADDRESS}/30", "dev", OUTSIDE_HOST_LINK)
        ip("link", "set", OUTSIDE_HOST_LINK, "up")
        for args in (
            ("addr", "add", f"{OUTSIDE_ADDRESS}/30", "dev", OUTSIDE_PEER_LINK),
            ("link", "set", OUTSIDE_PEER_LINK, "up"),
            ("route", "add", "default", "via", OUTSIDE_HOST_ADDRESS),
        ):
            subprocess.run([*inside, "ip", *args], check=True, capture_output=True)
        server = subprocess.Popen([*inside, sys.executable, "-c", OUTSIDE_SERVER])
        wait_for("the outside host", lambda: _fetch(f"http://{OUTSIDE_ADDRESS}:{PORT}/"), 20)
        yield OUTSIDE_ADDRESS
    finally:
        for process in (server, holder):
            if process is not None:
                process.kill()
                process.wait()
        # The veth pair goes with the namespace; this only covers a failure before the move.
        subprocess.run(["ip", "link", "del", OUTSIDE_HOST_LINK], capture_output=True, check=False)


def _netns(pid: int) -> str:
    return os.readlink(f"/proc/{pid}/ns/net")
