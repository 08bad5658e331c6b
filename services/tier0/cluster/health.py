"""Small host probes for the node: health endpoints, mounts and cgroups left behind, and the
poll that waits for a probe to hold (the failover load and the cluster tests use it too)."""

from __future__ import annotations

import contextlib
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tier0.cluster.certs import NodePki

T = TypeVar("T")


def wait_until(
    what: str,
    probe: Callable[[], T | None],
    timeout: float,
    *,
    every: float = 0.5,
    error: type[Exception] = TimeoutError,
) -> T:
    """Poll ``probe`` every ``every`` seconds until it returns something truthy; that value.
    Raises ``error`` naming ``what`` once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(every)
    raise error(f"timed out after {timeout:.0f} s waiting for {what}")


def http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    """True when ``url`` answers 200 within two seconds."""
    try:
        with urllib.request.urlopen(url, context=context, timeout=2) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError as exc:
        exc.close()  # an unclosed error response is a ResourceWarning
        return False
    except (urllib.error.URLError, OSError):
        return False


def https_ok(url: str, pki: NodePki | None) -> bool:
    """``http_ok`` over TLS: verified and as admin with ``pki``; a component's own self-signed
    health endpoint (controller-manager, scheduler) without it."""
    if pki is None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cafile=str(pki.cert("ca")))
        context.load_cert_chain(str(pki.cert("admin")), str(pki.key("admin")))
    return http_ok(url, context)


def mounts_under(root: Path) -> list[str]:
    """Mount points at or below ``root``, deepest first (the order to unmount them in)."""
    prefix = str(root.resolve())
    points = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        # Spaces in mount points are octal-escaped in /proc/self/mounts.
        point = line.split()[1].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return sorted(set(points), key=len, reverse=True)


def unmount_all(root: Path) -> None:
    """Lazily unmount everything below ``root`` (volumes, netns and rootfs of killed pods)."""
    for point in mounts_under(root):
        subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)


def remove_cgroups(name: str) -> None:
    """Remove the (empty) cgroup tree ``name`` from every v1 hierarchy, leaves first."""
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        top = hierarchy / name
        if not top.is_dir():
            continue
        for directory in sorted(top.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if directory.is_dir():
                with contextlib.suppress(OSError):
                    directory.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()


def create_cgroups(name: str) -> None:
    """Make the cgroup ``name`` in every v1 hierarchy (the kubelet's ``cgroupRoot`` must exist).

    A new cpuset cgroup starts with no CPUs and no memory nodes, and nothing can join it until
    they are copied from the parent.
    """
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        if not (hierarchy / "cgroup.procs").exists():
            continue
        group = hierarchy / name
        group.mkdir(exist_ok=True)
        for inherited in ("cpuset.cpus", "cpuset.mems"):
            if (group / inherited).exists() and not (group / inherited).read_text().strip():
                (group / inherited).write_text((hierarchy / inherited).read_text())


def processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line contains ``text`` (a node's socket path: its runtime shims)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found
