"""Failover benchmark: what a writing client sees during (a) a planned switchover by the operator,
(b) kill -9 of the primary's instance manager and PostgreSQL (the pod vanishes) with the operator
failing over and the restarted manager rejoining on its own, and (floor) a fence through the
instance manager + the Lease handed over + ``pg_promote`` with no operator, all in one run.

    .venv/bin/python -m benchmarks.failover        (or: make bench BENCH=failover)

Real control plane, PostgreSQL run by `tier0 pg-instance` processes, real Redis/Sentinel,
`tier0 operator` as a process.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kubernetes import client

from tier0.stack.base import LOOPBACK, free_port, generate_password
from tier0.stack.controlplane import ControlPlane
from tier0.stack.redis import RedisGroup
from tier0.stack.writer import Writer
from tier0_operator.engine.agent import HttpNodeAgent
from tier0_operator.instance.local import LocalInstance, Secrets
from tier0_operator.leases import Leases, primary_lease_name

ROOT = Path(__file__).resolve().parents[2]
GROUP, VERSION, PLURAL, NAME, NS = "tier0.io", "v1alpha1", "tier0regions", "tier0", "tier0"
REGIONS = ("region1", "region2")


class Bench:
    def __init__(self, root: Path, plane: ControlPlane) -> None:
        self.root, self.plane = root, plane
        self.redis = RedisGroup(root / "redis")
        self.secrets = Secrets(*(generate_password() for _ in range(4)))
        self.operator: subprocess.Popen[bytes] | None = None
        config = client.Configuration(host=plane.server)
        config.ssl_ca_cert = str(plane.ca_cert)
        config.cert_file, config.key_file = str(plane.pki.admin_cert), str(plane.pki.admin_key)
        self.api = client.ApiClient(config)
        self.core, self.custom = client.CoreV1Api(self.api), client.CustomObjectsApi(self.api)
        self.nodes = {
            r: LocalInstance(
                r,
                root / r,
                free_port(),
                free_port(),
                NS,
                plane.kubeconfig,
                self.secrets,
                resource=NAME,
            )
            for r in REGIONS
        }

    def dsn(self, region: str) -> str:
        node = self.nodes[region]
        return f"postgresql://tier0:{self.secrets.app}@{LOOPBACK}:{node.port}/tier0"

    def multihost_dsn(self) -> str:
        hosts = ",".join(f"{LOOPBACK}:{n.port}" for n in self.nodes.values())
        return (
            f"postgresql://tier0:{self.secrets.app}@{hosts}/tier0?target_session_attrs=read-write"
        )

    def start(self) -> None:
        self.redis.start()
        kubectl = str(self.plane.binaries.kubectl)
        env = {**os.environ, "KUBECONFIG": str(self.plane.kubeconfig)}
        subprocess.run([kubectl, "apply", "-f", str(ROOT / "crds" / "tier0region.yaml")],
                       check=True, env=env, capture_output=True)  # fmt: skip
        wait = [kubectl, "wait", "--for=condition=Established", "crd/tier0regions.tier0.io"]
        subprocess.run(wait, check=True, env=env, capture_output=True)
        self.core.create_namespace({"metadata": {"name": NS}})
        secret = {"superuser-password": self.secrets.superuser,
                  "replication-password": self.secrets.replication,
                  "redis-password": self.redis.password,
                  "instance-token": self.secrets.token}  # fmt: skip
        self.core.create_namespaced_secret(
            NS, {"metadata": {"name": "tier0-credentials"}, "stringData": secret}
        )
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Tier0Region",
                "metadata": {"name": NAME}, "spec": self.spec()}  # fmt: skip
        self.custom.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, body)
        for node in self.nodes.values():
            node.start()
        self.nodes["region1"].wait_role("primary")
        self.nodes["region2"].wait_role("replica")
        self.start_operator()

    def spec(self) -> dict[str, Any]:
        redis_ports = {"region1": self.redis.master_port, "region2": self.redis.replica_port}
        regions = [{"name": n, "postgres": {"host": LOOPBACK, "port": node.port,
                                            "agentPort": node.http_port},
                    "redis": {"host": LOOPBACK, "port": redis_ports[n]}}
                   for n, node in self.nodes.items()]  # fmt: skip
        sentinels = [f"{LOOPBACK}:{p}" for p in self.redis.sentinel_ports]
        failover = {"unhealthyAfterSeconds": 2}
        return {"activeRegion": "region1", "regions": regions,
                "sentinel": {"hosts": sentinels}, "failover": failover}  # fmt: skip

    def start_operator(self) -> None:
        argv = [str(Path(sys.executable).parent / "tier0"), "operator", "--namespace", NS]
        env = {**os.environ, "KUBECONFIG": str(self.plane.kubeconfig)}
        with (self.root / "operator.log").open("ab") as log:
            self.operator = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)

    def stop_operator(self) -> None:
        if self.operator is not None:
            self.operator.send_signal(signal.SIGTERM)
            self.operator.wait(timeout=30)

    def status(self) -> dict[str, Any]:
        found = self.custom.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, NAME)
        return dict(found.get("status") or {})

    def wait_status(self, what: str, check: Any, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.status()
            if check(s):
                return s
            time.sleep(0.1)
        raise SystemExit(f"not {what} in {timeout} s: {self.status()}")

    def wait_ready(self, region: str, timeout: float = 60) -> dict[str, Any]:
        def ready(s: dict[str, Any]) -> bool:
            conds = {c["type"]: c["status"] for c in s.get("conditions", [])}
            return (s.get("phase"), s.get("activeRegion"), conds.get("Replicating")) == (
                "Ready", region, "True") and not s.get("failover")  # fmt: skip

        return self.wait_status(f"Ready on {region}", ready, timeout)

    def stop(self) -> None:
        self.stop_operator()
        for node in self.nodes.values():
            node.kill()
        self.redis.stop()


async def scenario(bench: Bench, name: str, act: Any, check_region: str) -> dict[str, Any]:
    """Run ``act`` under a write load; the client's view and the operator's step timings."""
    async with Writer(bench.multihost_dsn(), table="bench_acked") as writer:
        await asyncio.sleep(2.0)
        started = time.monotonic()
        status = await act()
        await asyncio.sleep(1.0)
    lost = await writer.lost(bench.dsn(check_region))
    return {
        "scenario": name,
        "rate": writer.rate_before(started),
        "outage": writer.longest_gap_after(started),
        "acked": len(writer.acked),
        "lost": lost,
        "steps": (status or {}).get("lastFailover", {}).get("steps", {}),
        "rto": (status or {}).get("lastFailover", {}).get("totalSeconds"),
    }


async def run(bench: Bench) -> list[dict[str, Any]]:
    bench.wait_ready("region1")

    async def planned() -> dict[str, Any]:
        patch = {"spec": {"activeRegion": "region2"}}
        await asyncio.to_thread(bench.custom.patch_namespaced_custom_object,
                                GROUP, VERSION, NS, PLURAL, NAME, patch)  # fmt: skip
        return await asyncio.to_thread(bench.wait_ready, "region2")

    async def kill_primary() -> dict[str, Any]:
        bench.nodes["region2"].kill()  # the pod vanishes: manager and PostgreSQL
        status = await asyncio.to_thread(
            bench.wait_status, "failed over",
            lambda s: (s.get("lastFailover") or {}).get("reason") == "primary-lost",
        )  # fmt: skip
        bench.nodes["region2"].start()  # the kubelet restarts it; it rejoins on its own
        await asyncio.to_thread(bench.wait_ready, "region1")
        return status

    async def floor() -> dict[str, Any]:
        # What no operator can beat: a fast shutdown through the manager, the Lease handed
        # over, pg_promote. The same commit settings as the operator's scenarios.
        urls = {r: f"http://{LOOPBACK}:{n.http_port}" for r, n in bench.nodes.items()}
        agent = HttpNodeAgent(urls, bench.secrets.token)
        await agent.stop("region1")
        leases = Leases(bench.api, NS)
        state = await leases.read(primary_lease_name(NAME))
        version = state.version if state else None
        await leases.acquire(primary_lease_name(NAME), "region2", 2, take_over=version)
        await asyncio.to_thread(bench.nodes["region2"].psql, "SELECT pg_promote(wait => true)")
        return {}

    results = [await scenario(bench, "planned switchover (operator)", planned, "region2")]
    results.append(await scenario(bench, "kill -9 primary pod (operator)", kill_primary, "region1"))
    bench.stop_operator()
    results.append(await scenario(bench, "floor: fence + Lease + pg_promote", floor, "region2"))
    return results


# A status RTO this much above the sum of the steps it covers means a step was retried.
RTO_SLACK_SECONDS = 1.0


def keep_logs(root: Path) -> Path:
    """Copy the operator's, Redis' and Sentinels' logs out of the temporary directory."""
    kept = Path(tempfile.mkdtemp(prefix="tier0-bench-failover-logs-"))
    logs = [root / "operator.log", *sorted((root / "redis").glob("*/*.log"))]
    logs += sorted(root.glob("region*/manager-*.log"))
    logs += sorted(root.glob("region*/tier0-instance/postgres.log"))
    for log in logs:
        if log.exists():
            name = log.name if log.parent == root else f"{log.parts[-3]}-{log.parts[-2]}-{log.name}"
            shutil.copy(log, kept / name)
    return kept


def anomalies(results: list[dict[str, Any]]) -> list[str]:
    """Scenarios whose status RTO is well above their step times (before rejoin)."""
    found = []
    for r in results:
        covered = sum(v for k, v in r["steps"].items() if v is not None and k != "rejoin")
        if r["rto"] is not None and r["rto"] > covered + RTO_SLACK_SECONDS:
            found.append(f"{r['scenario']}: RTO {r['rto']:.2f} s, steps {covered:.2f} s")
    return found


def report(results: list[dict[str, Any]]) -> None:
    floor = results[-1]["outage"] or 1e-9
    print(
        f"\n{'scenario':42} {'tx/s':>6} {'outage s':>9} {'x floor':>8} {'acked':>7} "
        f"{'lost':>5} {'RTO s':>6}"
    )
    for r in results:
        rto = "" if r["rto"] is None else f"{r['rto']:.2f}"
        print(f"{r['scenario']:42} {r['rate']:6.0f} {r['outage']:9.3f} "
              f"{r['outage'] / floor:8.1f} {r['acked']:7d} {r['lost']:5d} {rto:>6}")  # fmt: skip
    for r in results[:2]:
        steps = ", ".join(f"{k} {v:.3f}" for k, v in r["steps"].items() if v is not None)
        print(f"  steps ({r['scenario']}): {steps}")


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="tier0-bench-failover-") as tmp,
        ControlPlane() as plane,
    ):
        bench = Bench(Path(tmp), plane)
        results: list[dict[str, Any]] = []
        try:
            bench.start()
            results = asyncio.run(run(bench))
            report(results)
        finally:
            bench.stop()
            kept = keep_logs(Path(tmp))
            print(f"\noperator, Redis and Sentinel logs: {kept}")
        found = anomalies(results)
        if found:
            print("\nRTO above the step times (a retry?):", *found, sep="\n  ")
            print((kept / "operator.log").read_text(errors="replace"))


if __name__ == "__main__":
    main()
