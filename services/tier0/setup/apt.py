"""Debian packages the data stores and browser tests need."""

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
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    if subprocess.run(install, capture_output=True, env=env, check=False).returncode != 0:
        run_command(STEP, ["apt-get", "update", "-q"], env=env)
        run_command(STEP, install, env=env)
    return f"installed {' '.join(missing)}"
