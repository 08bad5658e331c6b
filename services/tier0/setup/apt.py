"""Debian packages the data stores, the single-node cluster and the image builds need."""

from __future__ import annotations

import os
import shutil
import subprocess

from tier0.setup.steps import SetupError, run_command

STEP = "apt packages"

# The project starts its own instances of these servers; installing them starts nothing we use.
APT_PACKAGES: tuple[str, ...] = (
    "postgresql",
    "redis-server",
    "redis-sentinel",
    "mosquitto",
    "rabbitmq-server",
    "util-linux",  # setpriv: run PostgreSQL as an unprivileged user without a wrapper process
    "ca-certificates",
    "curl",
    "git",
    # The single-node cluster (tier0 cluster): container runtime, CNI plugins, the host tools
    # kubelet and kube-proxy call, and mmdebstrap for the offline images.
    "containerd",
    "runc",
    "containernetworking-plugins",
    "iptables",
    "iproute2",
    "conntrack",
    "ethtool",
    "mmdebstrap",
    # promtool unit-tests the Prometheus rules; headless Chromium runs the dashboard's browser
    # tests (Playwright drives it by path, so no browser is ever downloaded).
    "prometheus",
    "chromium",
)


def missing_packages(packages: tuple[str, ...] = APT_PACKAGES) -> list[str]:
    """Packages from ``packages`` that dpkg does not report as installed."""
    missing = []
    for name in packages:
        proc = subprocess.run(
            ["dpkg-query", "-W", "-f=${db:Status-Status}", name],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.stdout.strip() != "installed":
            missing.append(name)
    return missing


def ensure_packages(packages: tuple[str, ...] = APT_PACKAGES) -> str:
    """Install the missing packages with apt-get; idempotent."""
    if shutil.which("dpkg-query") is None:
        raise SetupError(STEP, "this is not a Debian-family system (no dpkg-query)")
    missing = missing_packages(packages)
    if not missing:
        return f"{len(packages)} packages present"
    if os.geteuid() != 0:
        raise SetupError(
            STEP, f"missing {' '.join(missing)}; run as root or `sudo apt-get install`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Wait for another apt/dpkg run (a second checkout's setup) instead of failing at once.
    lock_wait = ["-o", "DPkg::Lock::Timeout=600"]
    install = ["apt-get", *lock_wait, "install", "-y", "-q", "--no-install-recommends", *missing]
    if subprocess.run(install, capture_output=True, env=env, check=False).returncode != 0:
        run_command(STEP, ["apt-get", *lock_wait, "update", "-q"], env=env)
        run_command(STEP, install, env=env)
    return f"installed {' '.join(missing)}"
