"""The dashboard and the observability the chart ships: its Prometheus (configuration, rules,
discovery, network reach), the Prometheus Operator's objects and the Grafana dashboards."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no stubs installed
from chart_helm import CHART, Helm, Manifest, Render, env_of

pytestmark = pytest.mark.charts

RULES = CHART / "files" / "prometheus" / "rules.yaml"
DASHBOARDS = sorted((CHART / "files" / "grafana").glob("*.json"))
PROMTOOL = Path("/usr/bin/promtool")  # Debian's prometheus package, as in the image


def _pod(render: Render, component: str) -> Manifest:
    (deployment,) = render.component("Deployment", component)
    spec: Manifest = deployment["spec"]["template"]["spec"]
    return spec


def _prometheus_config(render: Render) -> dict[str, Any]:
    (config,) = [
        c for c in render.component("ConfigMap", "prometheus") if "prometheus.yml" in c["data"]
    ]
    parsed: dict[str, Any] = yaml.safe_load(config["data"]["prometheus.yml"])
    return parsed


def _jobs(render: Render) -> dict[str, dict[str, Any]]:
    """The DNS-discovered scrape jobs by component."""
    return {
        job["job_name"]: job
        for job in _prometheus_config(render)["scrape_configs"]
        if "dns_sd_configs" in job
    }


def _policy(render: Render, component: str) -> Manifest:
    (policy,) = render.component("NetworkPolicy", component)
    spec: Manifest = policy["spec"]
    return spec


# ---------------------------------------------------------------- dashboard


def test_dashboard_serves_on_its_service_and_proxies_to_the_api(render: Render) -> None:
    pod = _pod(render, "dashboard")
    assert pod["automountServiceAccountToken"] is False  # it holds no credentials
    (container,) = pod["containers"]
    assert container["args"] == ["dashboard", "--host", "0.0.0.0", "--port", "8080"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    (service,) = render.component("Service", "dashboard")
    assert service["metadata"]["name"].endswith("tier0-dashboard")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    ]
    # The page's /api/* goes to the API Service, on the API's port.
    (api,) = render.component("Service", "api")
    api_url = f"http://{api['metadata']['name']}:{api['spec']['ports'][0]['port']}"
    assert env_of(container)["TIER0_DASHBOARD_API_URL"]["value"] == api_url


def test_dashboard_can_be_left_out(helm: Helm) -> None:
    off = helm.template("--set", "dashboard.enabled=false")
    assert [o["kind"] for o in off.objects if o["metadata"]["name"] == "tier0-dashboard"] == []


def test_dashboard_policy_admits_anyone_and_reaches_only_the_api(default_render: Render) -> None:
    policy = _policy(default_render, "dashboard")
    assert policy["ingress"] == [{"ports": [{"port": 8080, "protocol": "TCP"}]}]
    dns, api = policy["egress"]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert api["ports"] == [{"port": 8000, "protocol": "TCP"}]
    assert [peer["podSelector"]["matchLabels"] for peer in api["to"]] == [
        {"app.kubernetes.io/instance": "tier0", "app.kubernetes.io/component": "api"}
    ]


# ---------------------------------------------------------------- prometheus


def test_prometheus_runs_one_replica_on_its_volume_with_probes(default_render: Render) -> None:
    (deployment,) = default_render.component("Deployment", "prometheus")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}  # one process owns the TSDB
    pod = deployment["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False  # DNS discovery needs no token
    (container,) = pod["containers"]
    assert container["command"] == ["/usr/bin/prometheus"]
    flags = dict(arg.removeprefix("--").split("=", 1) for arg in container["args"])
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert flags == {
        "config.file": f"{mounts['config']}/prometheus.yml",
        "storage.tsdb.path": mounts["data"],
        "storage.tsdb.retention.time": "2d",
        "web.listen-address": ":9090",
    }
    assert container["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/-/healthy", "port": "http"}
    volumes = {v["name"]: v for v in pod["volumes"]}
    claim = volumes["data"]["persistentVolumeClaim"]["claimName"]
    assert default_render.named("PersistentVolumeClaim", claim)["spec"]["resources"] == {
        "requests": {"storage": "2Gi"}
    }
    (service,) = [
        s
        for s in default_render.component("Service", "prometheus")
        if s["spec"].get("clusterIP") != "None"
    ]
    assert service["metadata"]["name"] == "tier0-prometheus"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 9090, "targetPort": "http", "protocol": "TCP"}
    ]


def test_prometheus_without_persistence_keeps_samples_in_a_bounded_empty_dir(
    other_render: Render,
) -> None:
    assert other_render.of_kind("PersistentVolumeClaim") == []
    volumes = {v["name"]: v for v in _pod(other_render, "prometheus")["volumes"]}
    assert volumes["data"] == {"name": "data", "emptyDir": {"sizeLimit": "2Gi"}}


def test_prometheus_loads_the_rules_file_as_it_is(default_render: Render) -> None:
    (rules,) = [
        c for c in default_render.component("ConfigMap", "prometheus") if "rules.yaml" in c["data"]
    ]
    assert rules["data"]["rules.yaml"] == RULES.read_text()
    pod = _pod(default_render, "prometheus")
    (container,) = pod["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["rules"]["configMap"]["name"] == rules["metadata"]["name"]
    assert _prometheus_config(default_render)["rule_files"] == [f"{mounts['rules']}/*.yaml"]


def test_every_scrape_job_labels_its_series_with_the_component(render: Render) -> None:
    config = _prometheus_config(render)
    assert config["global"] == {"scrape_interval": "5s", "evaluation_interval": "15s"}
    jobs = _jobs(render)
    expected = {"api", "rag", "operator", "postgres", "mqtt-consumer", "ferretdb", "rabbitmq"}
    if render.release == "tier0":  # the other render leaves the RabbitMQ consumer out
        expected.add("rabbitmq-consumer")
    assert set(jobs) == expected
    for component, job in jobs.items():
        assert {"target_label": "component", "replacement": component} in job["relabel_configs"]
        assert {"target_label": "namespace", "replacement": render.namespace} in job[
            "relabel_configs"
        ]
    (self_job,) = [j for j in config["scrape_configs"] if "static_configs" in j]
    assert self_job["static_configs"][0]["labels"]["component"] == "prometheus"


def test_every_scrape_job_finds_its_pods_through_a_headless_service(render: Render) -> None:
    services = {s["metadata"]["name"]: s for s in render.of_kind("Service")}
    for component, job in _jobs(render).items():
        (sd,) = job["dns_sd_configs"]
        (name,) = sd["names"]
        service_name, namespace, _ = name.split(".", 2)
        assert namespace == render.namespace
        assert name.endswith(".svc.cluster.local")
        service = services[service_name]["spec"]
        assert service["clusterIP"] == "None"
        # Scraped while not ready: an API waiting for PostgreSQL is still up.
        assert service["publishNotReadyAddresses"] is True
        assert service["selector"]["app.kubernetes.io/component"] == component
        (port,) = service["ports"]
        assert port["port"] == sd["port"]
        workloads = [
            pod
            for obj, pod in render.workloads()
            if obj["metadata"]["labels"]["app.kubernetes.io/component"] == component
        ]
        assert workloads, component
        for pod in workloads:
            declared = {
                p["name"]: p["containerPort"] for c in pod["containers"] for p in c.get("ports", [])
            }
            assert declared[port["targetPort"]] == sd["port"], component


def test_every_annotated_pod_is_scraped_where_its_annotations_say(render: Render) -> None:
    jobs = _jobs(render)
    for obj, _ in render.workloads():
        if obj["kind"] not in ("Deployment", "StatefulSet"):
            continue
        component = obj["metadata"]["labels"]["app.kubernetes.io/component"]
        annotations = obj["spec"]["template"]["metadata"].get("annotations") or {}
        if "prometheus.io/scrape" not in annotations or component == "prometheus":
            continue
        job = jobs[component]
        assert job["dns_sd_configs"][0]["port"] == int(annotations["prometheus.io/port"])
        assert job["metrics_path"] == annotations["prometheus.io/path"]


def _admits(policy: Manifest, port: int, source: str) -> bool:
    for rule in policy["ingress"]:
        if {"port": port, "protocol": "TCP"} not in rule["ports"]:
            continue
        sources = [
            p["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
            for p in rule.get("from", [])
        ]
        if not sources or source in sources:
            return True
    return False


def test_network_policies_let_prometheus_reach_every_target(default_render: Render) -> None:
    own = _policy(default_render, "prometheus")
    assert own["ingress"] == [{"ports": [{"port": 9090, "protocol": "TCP"}]}]
    egress = {
        (
            rule["ports"][0]["port"],
            rule["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"],
        )
        for rule in own["egress"]
        if "to" in rule
    }
    reached = set()
    for component, job in _jobs(default_render).items():
        port = job["dns_sd_configs"][0]["port"]
        reached.add((port, component))
        assert _admits(_policy(default_render, component), port, "prometheus"), component
    # Nothing beyond the targets (and DNS): no API server, no other pod.
    assert egress == reached
    assert all("to" in rule or rule["ports"][0]["port"] == 53 for rule in own["egress"])


def test_prometheus_can_be_left_out(helm: Helm) -> None:
    off = helm.template("--set", "prometheus.enabled=false")
    assert [
        o["metadata"]["name"]
        for o in off.objects
        if o["metadata"]["labels"]["app.kubernetes.io/component"] == "prometheus"
    ] == []
    assert not _admits(_policy(off, "rag"), 8001, "prometheus")


def test_promtool_accepts_the_rendered_configuration(
    default_render: Render, tmp_path: Path
) -> None:
    assert PROMTOOL.exists(), "promtool is missing: apt-get install prometheus"
    config = _prometheus_config(default_render)
    (rules,) = [
        c for c in default_render.component("ConfigMap", "prometheus") if "rules.yaml" in c["data"]
    ]
    (tmp_path / "rules.yaml").write_text(rules["data"]["rules.yaml"])
    config["rule_files"] = [str(tmp_path / "*.yaml")]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    proc = subprocess.run(
        [str(PROMTOOL), "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: 1 rule files found" in proc.stdout, proc.stdout


# ---------------------------------------------------------------- kube-prometheus-stack


def test_prometheus_operator_objects_only_when_asked_for(
    default_render: Render, other_render: Render
) -> None:
    for kind in ("PodMonitor", "PrometheusRule", "ServiceMonitor"):
        assert default_render.of_kind(kind) == [], kind
    assert len(other_render.of_kind("PodMonitor")) == 1
    assert len(other_render.of_kind("PrometheusRule")) == 1


def test_pod_monitor_scrapes_what_the_charts_prometheus_scrapes(other_render: Render) -> None:
    (monitor,) = other_render.of_kind("PodMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    spec = monitor["spec"]
    assert spec["namespaceSelector"] == {"matchNames": ["ops"]}
    assert spec["selector"]["matchLabels"]["app.kubernetes.io/instance"] == "prod"
    jobs = _jobs(other_render)
    scraped = {}
    for endpoint in spec["podMetricsEndpoints"]:
        keep, label = endpoint["relabelings"]
        assert keep["action"] == "keep"
        assert label["targetLabel"] == "component"
        scraped[keep["regex"]] = endpoint
    assert set(scraped) == set(jobs)
    for component, endpoint in scraped.items():
        assert endpoint["path"] == jobs[component]["metrics_path"]
        for obj, pod in other_render.workloads():
            if obj["metadata"]["labels"]["app.kubernetes.io/component"] != component:
                continue
            ports = {p["name"]: p["containerPort"] for c in pod["containers"] for p in c["ports"]}
            assert ports[endpoint["port"]] == jobs[component]["dns_sd_configs"][0]["port"]


def test_prometheus_rule_carries_the_rules_files_groups(other_render: Render) -> None:
    (rule,) = other_render.of_kind("PrometheusRule")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]


# ---------------------------------------------------------------- grafana


def _dashboard_maps(render: Render) -> dict[str, Manifest]:
    return {
        key: config for config in render.component("ConfigMap", "grafana") for key in config["data"]
    }


def test_grafana_dashboards_are_labelled_config_maps_of_the_json_files(render: Render) -> None:
    maps = _dashboard_maps(render)
    assert set(maps) == {path.name for path in DASHBOARDS}
    for path in DASHBOARDS:
        config = maps[path.name]
        assert config["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert len(config["data"]) == 1
        assert json.loads(config["data"][path.name]) == json.loads(path.read_text())
        annotations = config["metadata"].get("annotations", {})
        folder = "Tier-0" if render.release == "prod" else None
        assert annotations.get("grafana_folder") == folder


def test_grafana_dashboards_label_is_configurable_and_optional(helm: Helm) -> None:
    custom = helm.template(
        "--set", "grafana.dashboards.label=dashboards.example.com/load",
        "--set", "grafana.dashboards.labelValue=yes",
    )  # fmt: skip
    for config in _dashboard_maps(custom).values():
        assert config["metadata"]["labels"]["dashboards.example.com/load"] == "yes"
        assert "grafana_dashboard" not in config["metadata"]["labels"]
    off = helm.template("--set", "grafana.dashboards.enabled=false")
    assert _dashboard_maps(off) == {}
