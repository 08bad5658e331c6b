"""Failover benchmark: what a writing client sees during (a) a planned switchover by the operator,
(b) kill -9 of the primary with the operator failing over, and (floor) a bare
``pg_ctl stop -m fast`` + immediate ``pg_promote`` with no operator, all in one run.

    .venv/bin/python -m benchmarks.failover        (or: make bench BENCH=failover)

Real control plane, real PostgreSQL/Redis/Sentinel processes, `tier0 operator` as a process.
"""

from __future__ import annotations

import asyncio
import json
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

from tier0.stack.base import LOOPBACK, generate_password
from tier0.stack.controlplane import ControlPlane
from tier0.stack.postgres import PostgresCluster, PostgresNode, bindir
from tier0.stack.redis import RedisGroup
from tier0.stack.writer import Writer

ROOT = Path(__file__).resolve().parents[2]
GROUP, VERSION, PLURAL, NAME, NS = "tier0.io", "v1alpha1", "tier0regions", "tier0", "tier0"


def crash(node: PostgresNode) -> None:
    """SIGKILL the node's process group, reaping it if we started it (a zombie looks alive)."""
    if node.process is not None and node.process.running():
        node.process.kill(signal.SIGKILL)
        return
    os.killpg(int((node.datadir / "postmaster.pid").read_text().split()[0]), signal.SIGKILL)


class Bench:
    def __init__(self, root: Path, plane: ControlPlane) -> None:
        self.root, self.plane = root, plane
        self.cluster = PostgresCluster(root / "pg")
        self.redis = RedisGroup(root / "redis")
        self.password = generate_password()
        self.operator: subprocess.Popen[bytes] | None = None
        config = client.Configuration(host=plane.server)
        config.ssl_ca_cert = str(plane.ca_cert)
        config.cert_file, config.key_file = str(plane.pki.admin_cert), str(plane.pki.admin_key)
        api = client.ApiClient(config)
        self.core, self.custom = client.CoreV1Api(api), client.CustomObjectsApi(api)

    @property
    def nodes(self) -> dict[str, PostgresNode]:
        return {"region1": self.cluster.primary, "region2": self.cluster.replica}

    def start(self) -> None:
        self.cluster.start()
        self.cluster.primary.psql(f"ALTER ROLE postgres PASSWORD '{self.password}'")
        self.redis.start()
        kubectl = str(self.plane.binaries.kubectl)
        env = {**os.environ, "KUBECONFIG": str(self.plane.kubeconfig)}
        subprocess.run([kubectl, "apply", "-f", str(ROOT / "crds" / "tier0region.yaml")],
                       check=True, env=env, capture_output=True)  # fmt: skip
        wait = [kubectl, "wait", "--for=condition=Established", "crd/tier0regions.tier0.io"]
        subprocess.run(wait, check=True, env=env, capture_output=True)
        self.core.create_namespace({"metadata": {"name": NS}})
        secret = {"superuser-password": self.password,
                  "replication-password": self.cluster.replication_password,
                  "redis-password": self.redis.password}  # fmt: skip
        self.core.create_namespaced_secret(
            NS, {"metadata": {"name": "tier0-credentials"}, "stringData": secret}
        )
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Tier0Region",
                "metadata": {"name": NAME}, "spec": self.spec()}  # fmt: skip
        self.custom.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, body)
        self.start_operator()

    def spec(self) -> dict[str, Any]:
        redis_ports = {"region1": self.redis.master_port, "region2": self.redis.replica_port}
        regions = [{"name": n, "postgres": {"host": LOOPBACK, "port": node.port},
                    "redis": {"host": LOOPBACK, "port": redis_ports[n]}}
                   for n, node in self.nodes.items()]  # fmt: skip
        sentinels = [f"{LOOPBACK}:{p}" for p in self.redis.sentinel_ports]
        failover = {"unhealthyAfterSeconds": 2}
        return {"activeRegion": "region1", "regions": regions,
                "sentinel": {"hosts": sentinels}, "failover": failover}  # fmt: skip

    def start_operator(self) -> None:
        agent = self.root / "agent.json"
        agent.write_text(
            json.dumps({n: {"datadir": str(x.datadir)} for n, x in self.nodes.items()})
        )
        argv = [str(Path(sys.executable).parent / "tier0"), "operator", "--namespace", NS,
                "--local-agent", str(agent)]  # fmt: skip
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

    def wait_ready(self, region: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.status()
            conds = {c["type"]: c["status"] for c in s.get("conditions", [])}
            if (s.get("phase"), s.get("activeRegion"), conds.get("Replicating")) == (
                "Ready", region, "True") and not s.get("failover"):  # fmt: skip
                return s
            time.sleep(0.1)
        raise SystemExit(f"not Ready on {region} in {timeout} s: {self.status()}")

    def stop(self) -> None:
        self.stop_operator()
        for node in self.nodes.values():
            argv = [str(bindir() / "pg_ctl"), "-D", str(node.datadir), "stop", "-m", "immediate"]
            subprocess.run(self.cluster.run_as.wrap(argv), capture_output=True, check=False)
        self.redis.stop()


async def scenario(bench: Bench, name: str, act: Any, check_region: str) -> dict[str, Any]:
    """Run ``act`` under a write load; the client's view and the operator's step timings."""
    async with Writer(bench.cluster.multihost_dsn(), table="bench_acked") as writer:
        await asyncio.sleep(2.0)
        started = time.monotonic()
        status = await act()
        await asyncio.sleep(1.0)
    lost = await writer.lost(bench.cluster.dsn(bench.nodes[check_region]))
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
        crash(bench.nodes["region2"])
        return await asyncio.to_thread(bench.wait_ready, "region1")

    async def floor() -> dict[str, Any]:
        old, new = bench.nodes["region1"], bench.nodes["region2"]
        stop = [str(bindir() / "pg_ctl"), "-D", str(old.datadir), "stop", "-m", "fast"]
        await asyncio.to_thread(subprocess.run, bench.cluster.run_as.wrap(stop), check=True,
                                capture_output=True)  # fmt: skip
        await asyncio.to_thread(new.psql, "SELECT pg_promote(wait => true)")
        return {}

    results = [await scenario(bench, "planned switchover (operator)", planned, "region2")]
    results.append(await scenario(bench, "kill -9 primary (operator)", kill_primary, "region1"))
    bench.stop_operator()
    # The floor: synchronous commit off so the bare promotion is not blocked by a missing standby.
    bench.nodes["region1"].psql("ALTER SYSTEM SET synchronous_standby_names = ''")
    bench.nodes["region1"].psql("SELECT pg_reload_conf()")
    results.append(
        await scenario(bench, "floor: pg_ctl stop -m fast + pg_promote", floor, "region2")
    )
    return results


# A status RTO this much above the sum of the steps it covers means a step was retried.
RTO_SLACK_SECONDS = 1.0


def keep_logs(root: Path) -> Path:
    """Copy the operator's, Redis' and Sentinels' logs out of the temporary directory."""
    kept = Path(tempfile.mkdtemp(prefix="tier0-bench-failover-logs-"))
    for log in [root / "operator.log", *sorted((root / "redis").glob("*/*.log"))]:
        if log.exists():
            shutil.copy(log, kept / log.name)
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
