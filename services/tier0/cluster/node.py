"""``tier0 cluster up | down | status``: one real Kubernetes node on this machine.

``up`` starts, in order: containerd (and imports our images into it) and etcd, kube-apiserver,
kube-controller-manager and kube-scheduler, the kubelet and kube-proxy; then it applies the
add-ons (CoreDNS, the local-path StorageClass) and waits until the node and both add-ons are
Ready. Every process is detached and tracked by a PID file, so the node outlives the command.
``down`` removes every pod sandbox through the CRI (which tears down each pod's network), stops
the processes newest first, removes kube-proxy's rules, our own network pieces, mounts and
cgroups, and the state directory; ``leftovers`` says what, if anything, is still there.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

from tier0.cluster import addons, components, configs, images, layout, network
from tier0.cluster.certs import NodePki
from tier0.cluster.components import NodeBinaries, Ports
from tier0.cluster.daemon import Daemon
from tier0.cluster.health import (
    create_cgroups,
    http_ok,
    https_ok,
    mounts_under,
    processes_mentioning,
    remove_cgroups,
    unmount_all,
)
from tier0.cluster.layout import ClusterPaths
from tier0.stack.base import LOOPBACK, StartupError, free_port

log = logging.getLogger(__name__)

READY_TIMEOUT = 120.0
# Processes in start order; ``down`` stops them in reverse.
ORDER = (
    "containerd",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
)

Progress = Callable[[str, float], None]
T = TypeVar("T")


def _quiet(step: str, seconds: float) -> None:
    log.info("%s (%.1f s)", step, seconds)


@dataclass
class Cluster:
    """The node at ``paths``; ``up`` and ``down`` are idempotent."""

    paths: ClusterPaths = field(default_factory=ClusterPaths.default)
    progress: Progress = _quiet
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def kubeconfig(self) -> Path:
        return self.paths.admin_kubeconfig

    @property
    def pki(self) -> NodePki:
        return NodePki(self.paths.pki)

    def ports(self) -> Ports:
        return Ports(**json.loads(self.paths.state_file.read_text())["ports"])

    def image(self, name: str) -> str:
        """The ref of image ``name`` as imported into this node's containerd."""
        refs: dict[str, str] = json.loads(self.paths.state_file.read_text())["images"]
        return refs[name]

    @property
    def server(self) -> str:
        return f"https://{LOOPBACK}:{self.ports().apiserver}"

    def daemons(self, bins: NodeBinaries | None = None) -> dict[str, Daemon]:
        """Every component's Daemon (argv included when the state file and binaries exist)."""
        bins = bins or NodeBinaries.find()
        paths, pki = self.paths, self.pki
        ports = self.ports() if paths.state_file.exists() else Ports(0, 0, 0, 0, 0)
        return {
            "containerd": components.containerd(paths, bins),
            "etcd": components.etcd(paths, bins, ports),
            "kube-apiserver": components.kube_apiserver(paths, bins, pki, ports),
            "kube-controller-manager": components.kube_controller_manager(paths, bins, pki, ports),
            "kube-scheduler": components.kube_scheduler(paths, bins, pki, ports),
            "kubelet": components.kubelet(paths, bins, pki),
            "kube-proxy": components.kube_proxy(paths, bins),
        }

    def running(self) -> dict[str, bool]:
        return {name: d.running() for name, d in self.daemons().items()}

    def is_up(self) -> bool:
        return self.paths.state_file.exists() and all(self.running().values())

    # ---- up ---------------------------------------------------------------------------------

    def up(self) -> Cluster:
        """Start the node (after clearing what a killed earlier node left); idempotent."""
        if self.is_up():
            self.progress("node already running", 0.0)
            self._step("images current", self.refresh_images)
            return self
        started = time.monotonic()
        bins = NodeBinaries.find()
        archives = self._step("images built", images.ensure_images)
        if self.paths.root.exists():
            self._step("stale node state removed", self.down)
        try:
            self._start(bins, archives)
        except BaseException:
            log.error("node failed to start; logs in %s", self.paths.logs)
            raise
        self.timings["up"] = time.monotonic() - started
        return self

    def _step(self, name: str, action: Callable[[], T]) -> T:
        started = time.monotonic()
        result = action()
        self.timings[name] = elapsed = time.monotonic() - started
        self.progress(name, elapsed)
        return result

    def _start(self, bins: NodeBinaries, archives: dict[str, Path]) -> None:
        paths = self.paths
        # The refs the archives were built with, even if sources changed since (a rebuild).
        refs = {name: images.archive_ref(archive) for name, archive in archives.items()}
        for directory in (paths.logs, paths.run, paths.volumes, paths.pod_logs):
            directory.mkdir(parents=True, exist_ok=True)
        ports = Ports(*(free_port() for _ in range(5)))
        paths.state_file.write_text(json.dumps({"ports": asdict(ports), "images": refs}) + "\n")
        self._step("host network", network.setup_host_network)
        network.write_cni_config(paths.cni_config, paths.cni_state)
        pki = NodePki.create(paths.pki, apiserver_url=f"https://{LOOPBACK}:{ports.apiserver}")
        pki.kubeconfig("admin").replace(paths.admin_kubeconfig)
        configs.write_configs(paths, pki, sandbox_image=refs["pause"])
        daemons = self.daemons(bins)
        # The runtime (with its image import) and the API server start side by side.
        with ThreadPoolExecutor(2) as pool:
            runtime = pool.submit(self._start_runtime, daemons["containerd"], bins, archives)
            self._step("control plane", lambda: self._start_control_plane(daemons))
            runtime.result()
        self._step("kubelet and kube-proxy", lambda: self._start_node(daemons))
        self._step("node Ready", self._wait_node_ready)
        self._step("add-ons Ready", lambda: self._apply_addons(refs))

    def _start_runtime(
        self, containerd: Daemon, bins: NodeBinaries, archives: dict[str, Path]
    ) -> None:
        started = time.monotonic()
        containerd.start()
        socket = self.paths.containerd_socket
        containerd.wait_ready(
            lambda: _succeeds([str(bins.ctr), "--address", str(socket), "version"]),
            timeout=READY_TIMEOUT,
            what="its socket answers",
        )
        self.progress("containerd", time.monotonic() - started)
        # Sandboxes an earlier node left in containerd's (kept) metadata, if it was killed.
        self._remove_sandboxes(bins)
        self._step(
            "images imported",
            lambda: images.import_images(archives, ctr=str(bins.ctr), address=socket),
        )
        self._remove_stale_images(bins, {images.archive_ref(a) for a in archives.values()})

    def refresh_images(self) -> dict[str, str]:
        """On a running node: build what changed since ``up`` (a code change), import it, and
        record the new refs, so the next deploy runs the checkout's code."""
        archives = images.ensure_images()
        refs = {name: images.archive_ref(archive) for name, archive in archives.items()}
        state = json.loads(self.paths.state_file.read_text())
        if state["images"] != refs:
            bins = NodeBinaries.find()
            socket = self.paths.containerd_socket
            # Earlier builds stay until the next `up`: running pods (and a rollback) may still
            # use them, and a pod whose image is gone never starts again (ErrImageNeverPull).
            images.import_images(archives, ctr=str(bins.ctr), address=socket)
            state["images"] = refs
            self.paths.state_file.write_text(json.dumps(state) + "\n")
        return refs

    def _remove_stale_images(self, bins: NodeBinaries, current: set[str]) -> None:
        """Earlier builds of our images (every code change makes one): containerd's garbage
        collector frees their layers once no image refers to them."""
        ctr = [str(bins.ctr), "--address", str(self.paths.containerd_socket), "-n", "k8s.io"]
        listed = subprocess.run([*ctr, "images", "ls", "-q"], capture_output=True, text=True)
        stale = [
            ref
            for ref in listed.stdout.split()
            if ref.startswith(f"{images.REGISTRY}/") and ref not in current
        ]
        if stale:
            subprocess.run([*ctr, "images", "rm", *stale], capture_output=True, check=False)

    def _start_control_plane(self, daemons: dict[str, Daemon]) -> None:
        ports, pki = self.ports(), self.pki
        daemons["etcd"].start()
        daemons["etcd"].wait_ready(
            lambda: http_ok(f"http://{LOOPBACK}:{ports.etcd_client}/health"),
            timeout=READY_TIMEOUT,
            what="/health",
        )
        daemons["kube-apiserver"].start()
        daemons["kube-apiserver"].wait_ready(
            lambda: https_ok(f"{self.server}/readyz", pki), timeout=READY_TIMEOUT, what="/readyz"
        )
        for name, port in (
            ("kube-controller-manager", ports.controller_manager),
            ("kube-scheduler", ports.scheduler),
        ):
            daemons[name].start()
            url = f"https://{LOOPBACK}:{port}/healthz"
            daemons[name].wait_ready(
                functools.partial(https_ok, url, None), timeout=READY_TIMEOUT, what="/healthz"
            )

    def _start_node(self, daemons: dict[str, Daemon]) -> None:
        create_cgroups(configs.CGROUP_ROOT)
        for name, port in (
            ("kubelet", layout.KUBELET_HEALTHZ_PORT),
            ("kube-proxy", layout.PROXY_HEALTHZ_PORT),
        ):
            daemons[name].start()
            url = f"http://{LOOPBACK}:{port}/healthz"
            daemons[name].wait_ready(
                functools.partial(http_ok, url), timeout=READY_TIMEOUT, what="/healthz"
            )

    def kubectl(self, *args: str, timeout: float = 120.0) -> str:
        """Run the pinned kubectl as admin; raises ``StartupError`` with its output on failure."""
        argv = [str(NodeBinaries.find().kubectl), f"--kubeconfig={self.kubeconfig}", *args]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            raise StartupError(f"`kubectl {' '.join(args)}` failed: {proc.stderr.strip()}")
        return proc.stdout

    def _wait_node_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            try:
                self.kubectl(
                    "wait", "--for=condition=Ready", f"node/{layout.NODE_NAME}", "--timeout=10s"
                )
                return
            except StartupError:  # not registered yet: `wait` fails at once on a missing node
                time.sleep(0.5)
        raise StartupError(f"node not Ready; kubelet log {self.paths.log('kubelet')}")

    def _apply_addons(self, refs: dict[str, str]) -> None:
        manifests = [
            *addons.coredns(refs["coredns"]),
            *addons.local_path_provisioner(
                refs["local-path-provisioner"], refs["tier0"], self.paths.volumes
            ),
        ]
        listing = {"apiVersion": "v1", "kind": "List", "items": manifests}
        path = self.paths.config / "addons.json"
        path.write_text(json.dumps(listing, indent=2))
        self.kubectl("apply", "--server-side", "-f", str(path))
        for namespace, name in (
            (addons.COREDNS_NAMESPACE, "coredns"),
            (addons.LOCAL_PATH_NAMESPACE, "local-path-provisioner"),
        ):
            self.kubectl(
                "-n", namespace, "rollout", "status", f"deployment/{name}",
                f"--timeout={READY_TIMEOUT:.0f}s", timeout=READY_TIMEOUT + 10,
            )  # fmt: skip

    # ---- down -------------------------------------------------------------------------------

    def down(self) -> None:
        """Stop everything and remove all the node made; safe on a half-started or dead node."""
        bins = NodeBinaries.find()
        paths = self.paths
        if not paths.root.exists():
            self._kill_orphan_shims()
            network.teardown_host_network()
            return
        daemons = self.daemons(bins)
        # The kubelet goes first: while it runs it recreates the sandboxes of its pods.
        for name in ("kubelet", "kube-proxy"):
            daemons[name].stop()
        self._remove_pods(daemons["containerd"], bins)
        for name in reversed(ORDER):
            daemons[name].stop()
        self._kill_orphan_shims()
        # kube-proxy's chains outlive it by design; it removes them itself when asked.
        subprocess.run(
            [str(bins.kube_proxy), "--cleanup", f"--config={paths.config / 'kube-proxy.yaml'}"],
            capture_output=True,
            check=False,
        )
        network.teardown_host_network()
        unmount_all(paths.root)
        remove_cgroups(configs.CGROUP_ROOT)
        subprocess.run(["rm", "-rf", "--one-file-system", str(paths.root)], check=False)

    def _kill_orphan_shims(self) -> None:
        """Shims outlive a containerd that lost its state (a killed node): nothing else ends
        them, and each holds its container's mounts."""
        for pid in processes_mentioning(str(self.paths.containerd_socket)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _remove_pods(self, containerd: Daemon, bins: NodeBinaries) -> None:
        """Every pod sandbox removed through the CRI, which also runs each one's CNI DEL."""
        if not (self.paths.config / "containerd.toml").exists():
            return
        if not containerd.running():
            containerd.start()
        socket = self.paths.containerd_socket
        try:
            containerd.wait_ready(
                lambda: _succeeds([str(bins.ctr), "--address", str(socket), "version"]),
                timeout=60,
                what="its socket answers",
            )
        except StartupError:
            log.exception("containerd did not start; pods are removed by unmounting only")
            return
        self._remove_sandboxes(bins)

    def _remove_sandboxes(self, bins: NodeBinaries) -> None:
        """``crictl rmp --all`` until none is left: stops each pod, runs its CNI DEL (veth and
        address released), removes its network namespace and containers."""
        socket = self.paths.containerd_socket
        crictl = [str(bins.crictl), f"--runtime-endpoint=unix://{socket}", "--timeout=60s"]
        listed = subprocess.CompletedProcess[str]([], 1, "", "")
        for _ in range(3):
            subprocess.run([*crictl, "rmp", "--all", "--force"], capture_output=True, check=False)
            listed = subprocess.run([*crictl, "pods", "-q"], capture_output=True, text=True)
            if listed.returncode == 0 and not listed.stdout.strip():
                return
        log.warning("pod sandboxes left after crictl rmp: %s", listed.stdout.split())

    # ---- status -----------------------------------------------------------------------------

    def leftovers(self) -> list[str]:
        """Processes, mounts and network pieces of a node that should be gone after ``down``."""
        found = [f"process {name}" for name, up in self.running().items() if up]
        shims = processes_mentioning(str(self.paths.containerd_socket))
        found += [f"process {pid} (containerd shim)" for pid in shims]
        found += [f"mount {m}" for m in mounts_under(self.paths.root)]
        found += network.leftovers()
        if self.paths.root.exists():
            found.append(f"directory {self.paths.root}")
        return found


def _succeeds(argv: list[str]) -> bool:
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0
