"""The chart's Prometheus rules and Grafana dashboards: promtool accepts and unit-tests the rules,
every dashboard panel's PromQL parses, and both name only metrics our code exports."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
FILES = ROOT / "charts" / "tier0" / "files"
RULES = FILES / "prometheus" / "rules.yaml"
DASHBOARDS = sorted((FILES / "grafana").glob("*.json"))
PROMTOOL = Path("/usr/bin/promtool")  # Debian's prometheus package
SOURCES = [ROOT / "services" / "tier0", ROOT / "operator" / "tier0_operator"]
# Grafana's variables, as Grafana would substitute them for a one-hour view.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h", "$__interval": "30s"}
METRIC = re.compile(r"\b(tier0_[a-z0-9_]+)")
DECLARED = re.compile(r"\b(Counter|Gauge|Histogram|Summary)\(\s*\"(tier0_[a-z0-9_]+)\"")


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL.exists(), "promtool is missing: apt-get install prometheus"
    return subprocess.run(
        [str(PROMTOOL), *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def exported_metrics() -> set[str]:
    """Every series name the code exports, with the suffixes prometheus_client adds."""
    names: set[str] = set()
    for source in SOURCES:
        for path in source.rglob("*.py"):
            for kind, name in DECLARED.findall(path.read_text(encoding="utf-8")):
                if kind == "Counter":
                    base = name.removesuffix("_total")
                    names |= {f"{base}_total", f"{base}_created"}
                elif kind in ("Histogram", "Summary"):
                    names |= {name, *(f"{name}_{s}" for s in ("bucket", "count", "sum", "created"))}
                else:
                    names.add(name)
    return names


def rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def panel_expressions(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL with Grafana's variables substituted) of every target."""
    found = []
    for panel in board["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            found.append((panel["title"], expr))
    return found


def test_promtool_accepts_the_rules() -> None:
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_rules_pass_their_unit_tests() -> None:
    tested = promtool("test", "rules", "rules_test.yaml", cwd=Path(__file__).parent)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_dashboard_panel_expression_parses(tmp_path: Path) -> None:
    # promtool parses PromQL when it checks rules: one recording rule per panel expression.
    rules = [
        {"record": f"dashboard:{board.stem.replace('-', '_')}:{n}", "expr": expr}
        for board in DASHBOARDS
        for n, (_, expr) in enumerate(panel_expressions(json.loads(board.read_text())))
    ]
    assert len(rules) >= 30
    path = tmp_path / "panels.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    checked = promtool("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("board", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboards_are_complete_and_use_only_exported_metrics(board: Path) -> None:
    parsed = json.loads(board.read_text())
    assert parsed["uid"].startswith("tier0-")
    assert "tier0" in parsed["tags"]
    assert [v["name"] for v in parsed["templating"]["list"]] == ["datasource"]
    exported = exported_metrics()
    for title, expr in panel_expressions(parsed):
        unknown = set(METRIC.findall(expr)) - exported
        assert not unknown, f"{board.name}: {title!r} reads metrics nobody exports: {unknown}"
        assert METRIC.search(expr), f"{board.name}: {title!r} reads no tier0 metric"


def test_rules_use_only_exported_metrics() -> None:
    exported = exported_metrics()
    used = {name for expr in rule_expressions() for name in METRIC.findall(expr)}
    assert used - exported == set()
    # The rules cover every family the issue names.
    for family in ("tier0_api_", "tier0_mqtt_", "tier0_rabbitmq_", "tier0_replication_lag",
                   "tier0_region_failover", "tier0_sentinel_master", "tier0_rag_"):  # fmt: skip
        assert any(name.startswith(family) for name in used), family


def test_dashboard_uids_are_unique() -> None:
    uids = [json.loads(board.read_text())["uid"] for board in DASHBOARDS]
    assert len(DASHBOARDS) == 6
    assert len(set(uids)) == len(uids)
