"""The chart's Prometheus on the node: every scrape job has a target up, every rule group of
rules.yaml is loaded and evaluates cleanly, no paging alert is pending or firing while the
release runs normally, and every Grafana panel's PromQL returns data.

Some panels only have series once something happened: a refused question, a dead-lettered
reading, a switchover. The ``events`` fixture makes each happen once, the way a user or a
broken device would, before the panels are queried.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import yaml

from node.kube import CHART, Kube, port_forward, wait_for
from node.release import PRIMARY, helm_test_question, switch_region
from tier0.cluster import deploy

# The first test waits for the release fixture: an image rebuild and a helm upgrade.
pytestmark = [pytest.mark.node, pytest.mark.timeout(1200)]

GRAFANA = CHART / "files" / "grafana"
RULES = CHART / "files" / "prometheus" / "rules.yaml"
# Grafana's built-in variables, as a dashboard open over the last hour would set them.
GRAFANA_VARIABLES = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}
VARIABLE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))|\[\[(\w+)\]\]")
DATA_TIMEOUT = 180.0  # rate() over 1m needs two scrapes (5 s apart) after the event
NEVER_EVALUATED = "0001-01-01T00:00:00Z"
# Consumer lag is a p95 over 5 minutes: readings queued during a restart weigh on it that long.
SETTLE_TIMEOUT = 480.0


def panel_queries() -> list[tuple[str, str, str]]:
    """(dashboard file, panel title, expression) of every panel target, variables replaced."""
    found = []
    for path in sorted(GRAFANA.glob("*.json")):
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                found.append((path.name, panel["title"], substitute(target["expr"])))
    return found


def substitute(expr: str) -> str:
    """Grafana's variables replaced by the values they would take; an unknown one fails."""

    def value(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        assert name in GRAFANA_VARIABLES, f"no value for the variable {name!r} in {expr!r}"
        return GRAFANA_VARIABLES[name]

    return VARIABLE.sub(value, expr)


@pytest.fixture(scope="module")
def prometheus(release: Kube) -> Iterator[str]:
    with port_forward(release, f"service/{deploy.RELEASE}-prometheus", 9090) as url:
        yield url


def api_v1(prometheus: str, path: str, **params: str) -> Any:
    response = httpx.get(f"{prometheus}/api/v1/{path}", params=params, timeout=30)
    response.raise_for_status()
    body = response.json()
    assert body["status"] == "success", body
    return body["data"]


def scrape_jobs(prometheus: str) -> set[str]:
    """The job names of the running configuration (a job whose DNS name resolves to no pod
    has no target at all, so the targets alone could not show it missing)."""
    config = yaml.safe_load(api_v1(prometheus, "status/config")["yaml"])
    return {job["job_name"] for job in config["scrape_configs"]}


def jobs_up(prometheus: str) -> set[str]:
    targets = api_v1(prometheus, "targets", state="active")["activeTargets"]
    return {target["scrapePool"] for target in targets if target["health"] == "up"}


def rule_groups(prometheus: str) -> dict[str, list[dict[str, Any]]]:
    groups = api_v1(prometheus, "rules")["groups"]
    return {group["name"]: group["rules"] for group in groups}


@pytest.fixture(scope="module")
def scraping(prometheus: str) -> str:
    """Prometheus with every job of its configuration scraping at least one target."""
    jobs = scrape_jobs(prometheus)
    assert {"api", "operator", "postgres", "mqtt-consumer", "rabbitmq-consumer", "rag"} <= jobs
    wait_for(
        "a target up in every scrape job",
        lambda: jobs <= jobs_up(prometheus),
        timeout=DATA_TIMEOUT,
    )
    return prometheus


def test_every_scrape_job_has_a_target_up(scraping: str) -> None:
    assert jobs_up(scraping) == scrape_jobs(scraping)
    # A pod replaced by the install stays a (down) target until the next DNS refresh (15 s).
    down = wait_until_none(lambda: targets_down(scraping))
    assert not down, f"targets down: {down}"


def targets_down(prometheus: str) -> list[str]:
    targets = api_v1(prometheus, "targets", state="active")["activeTargets"]
    return [f"{t['scrapeUrl']}: {t['lastError']}" for t in targets if t["health"] != "up"]


def wait_until_none(probe: Callable[[], list[str]], timeout: float = DATA_TIMEOUT) -> list[str]:
    """Poll ``probe`` until it finds nothing or ``timeout`` passes; what it found last."""
    deadline = time.monotonic() + timeout
    found = probe()
    while found and time.monotonic() < deadline:
        time.sleep(2)
        found = probe()
    return found


def test_each_instance_manager_reports_its_postgresql(scraping: str) -> None:
    """Both PostgreSQL pods' instance managers are scraped: each runs its server, one of them
    as a standby, and neither is fenced."""

    def series(expr: str) -> list[float]:
        found = api_v1(scraping, "query", query=expr)["result"]
        return sorted(float(r["value"][1]) for r in found)

    wait_for(
        "both instance managers scraped",
        lambda: len(series('tier0_instance_postgres_running{component="postgres"}')) == 2,
        timeout=DATA_TIMEOUT,
    )
    assert series('tier0_instance_postgres_running{component="postgres"}') == [1.0, 1.0]
    assert series('tier0_instance_standby{component="postgres"}') == [0.0, 1.0]
    assert series('tier0_instance_fenced{component="postgres"}') == [0.0, 0.0]


def test_every_rule_group_is_loaded_and_evaluates(scraping: str) -> None:
    expected = {
        group["name"]: [rule.get("alert") or rule["record"] for rule in group["rules"]]
        for group in yaml.safe_load(RULES.read_text())["groups"]
    }
    loaded = wait_for(
        "every rule evaluated once",
        lambda: _all_evaluated(rule_groups(scraping)),
        timeout=DATA_TIMEOUT,
    )
    assert {name: [rule["name"] for rule in rules] for name, rules in loaded.items()} == expected
    broken = {
        rule["name"]: rule.get("lastError")
        for rules in loaded.values()
        for rule in rules
        if rule["health"] != "ok"
    }
    assert not broken


def _all_evaluated(groups: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    evaluated = all(
        rule["lastEvaluation"] != NEVER_EVALUATED for rules in groups.values() for rule in rules
    )
    return groups if groups and evaluated else None


def test_no_paging_alert_while_the_release_runs_normally(scraping: str) -> None:
    wait_for(
        "the alerting rules evaluated",
        lambda: _all_evaluated(rule_groups(scraping)),
        timeout=DATA_TIMEOUT,
    )
    # Pending counts: its condition holds now, and a young Prometheus could not yet have held
    # it for the rule's `for`. The install may just have restarted the consumers, which go
    # pending while they reconnect and commit what Mosquitto queued meanwhile; normal load is
    # once that has passed.
    paging = wait_until_none(lambda: paging_alerts(scraping), timeout=SETTLE_TIMEOUT)
    assert not paging, f"paging alerts pending or firing: {paging}"


def paging_alerts(prometheus: str) -> list[str]:
    return [
        f"{alert['labels']['alertname']} ({alert['state']})"
        for alert in api_v1(prometheus, "alerts")["alerts"]
        if alert["labels"].get("severity") == "page"
    ]


def dead_letter_a_reading(release: Kube) -> None:
    """Publish a reading that is not JSON where the simulated devices publish theirs, from the
    device simulator's pod (its credentials, and the network path the chart opens for it)."""
    script = (
        "import os\n"
        "from tier0.common import mqtt\n"
        "from tier0_simulators.publisher import WindowedPublisher\n"
        "endpoint = mqtt.MqttEndpoint.from_url(os.environ['TIER0_MQTT_URL'])\n"
        "publisher = WindowedPublisher(endpoint, 'node-test-dead-letter')\n"
        "publisher.connect()\n"
        "publisher.publish('og/field/WY-ALPHA/turbine/node-test', b'not json')\n"
        "publisher.wait_acked(30)\n"
        "publisher.close()\n"
        "mqtt.forget_session(endpoint, 'node-test-dead-letter')\n"
    )
    release.exec(f"deploy/{deploy.RELEASE}-device-simulator", "python", "-c", script)


def ask(api: str, question: str) -> httpx.Response:
    return httpx.post(f"{api}/api/query", json={"question": question}, timeout=120)


@pytest.fixture(scope="module")
def events(release: Kube, api: str, scraping: str) -> str:
    """Once each: device lists read twice and a new question asked twice (a cache miss, then a
    hit), an empty question refused, a reading dead-lettered, a switchover to region2 and back."""
    for _ in range(2):
        httpx.get(f"{api}/api/devices", params={"limit": 5}, timeout=30).raise_for_status()
    # A question of its own, asked twice: only a miss consults the sources (the chart's own
    # question is in the answer cache already, its helm test asked it); the second is a hit.
    question = f"{helm_test_question()} ({uuid.uuid4().hex[:8]})"
    for _ in range(2):
        assert ask(api, question).status_code == 200
    assert ask(api, "").status_code == 422  # refused by the query service, a 4xx through the API
    dead_letter_a_reading(release)
    switch_region(release, "region2")
    switch_region(release, PRIMARY)
    return scraping


def has_data(prometheus: str, expr: str) -> bool:
    return bool(api_v1(prometheus, "query", query=expr)["result"])


def test_every_grafana_panel_has_data(events: str) -> None:
    queries = panel_queries()
    # Every dashboard file contributes (a parsing slip would silently test fewer panels).
    assert {name for name, _, _ in queries} == {path.name for path in GRAFANA.glob("*.json")}

    def empty() -> list[str]:
        return [
            f"{name} / {title}: {expr}"
            for name, title, expr in queries
            if not has_data(events, expr)
        ]

    missing = wait_until_none(empty)
    assert not missing, "panels without data:\n" + "\n".join(missing)
