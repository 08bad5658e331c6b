"""values.yaml, its @param documentation and values.schema.json agree; bad values are refused."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import valuesdoc
import yaml  # type: ignore[import-untyped]  # no stubs installed
from chart_helm import CHART, Helm

pytestmark = pytest.mark.charts

VALUES_TEXT = (CHART / "values.yaml").read_text()
PARAMS = set(re.findall(r"^\s*## @param (\S+) \S", VALUES_TEXT, re.MULTILINE))
SCHEMA: dict[str, Any] = json.loads((CHART / "values.schema.json").read_text())


def schema_leaves(node: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Paths of the schema's documented values: properties with a description (a section
    object such as `api` has none; `api.resources` has one and its own sub-properties)."""
    for name, child in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        if "description" in child:
            yield path
        else:
            yield from schema_leaves(child, f"{path}.")


def value_paths(node: Any, prefix: str = "") -> Iterator[str]:
    """Every key path in values.yaml (maps only; lists are values)."""
    if isinstance(node, dict):
        for key, child in node.items():
            path = f"{prefix}{key}"
            yield path
            yield from value_paths(child, f"{path}.")


def test_every_param_is_in_the_schema_and_back() -> None:
    leaves = set(schema_leaves(SCHEMA))
    assert PARAMS - leaves == set(), "documented but not in values.schema.json"
    assert leaves - PARAMS == set(), "in values.schema.json but not documented with @param"


def test_every_value_is_documented() -> None:
    values = yaml.safe_load(VALUES_TEXT)
    paths = set(value_paths(values))
    assert PARAMS - paths == set(), "@param for a key values.yaml does not have"
    undocumented = {
        path
        for path in paths
        if not any(
            path == p or path.startswith(f"{p}.") or p.startswith(f"{path}.") for p in PARAMS
        )
    }
    assert undocumented == set()


def test_every_param_has_a_section_and_a_description() -> None:
    assert VALUES_TEXT.lstrip().count("## @section") >= 10
    for path in PARAMS:
        node: dict[str, Any] = SCHEMA
        for part in path.split("."):
            node = node["properties"][part]
        assert node.get("description"), f"{path} has no description in the schema"


def test_values_yaml_carries_no_password() -> None:
    auth = yaml.safe_load(VALUES_TEXT)["auth"]
    assert {key: value for key, value in auth.items() if value} == {}


@pytest.mark.parametrize(
    ("args", "field", "reason"),
    [
        (("--set", "api.replicaCount=-1"), "/api/replicaCount", "minimum"),
        (("--set", "image.pullPolicy=Sometimes"), "/image/pullPolicy", "must be one of"),
        (
            ("--set", "redis.image.pullPolicy=Sometimes"),
            "/redis/image/pullPolicy",
            "must be one of",
        ),
        (("--set", "auth.appPassword=too-short"), "/auth/appPassword", "does not match pattern"),
        (("--set", "regions={region1}"), "/regions", "minItems"),
        (("--set", "regions={region1,Region_2}"), "/regions/1", "does not match pattern"),
        (("--set", "postgres.persistence.size=lots"), "/postgres/persistence/size", "pattern"),
        (("--set", "networkPolicy.enabled=maybe"), "/networkPolicy/enabled", "boolean"),
        (("--set", "api.replicas=2"), "/api", "additional properties 'replicas'"),
        (("--set", "dashboard.port=abc"), "/dashboard/port", "got string, want integer"),
        (("--set", "dashboard.port=70000"), "/dashboard/port", "maximum"),
        (("--set", "dashboard.service.type=Ingress"), "/dashboard/service/type", "must be one of"),
        (("--set", "prometheus.scrapeInterval=5 seconds"), "/prometheus/scrapeInterval", "pattern"),
        (("--set", "prometheus.retention=forever"), "/prometheus/retention", "pattern"),
        (("--set", "prometheus.persistence.size=big"), "/prometheus/persistence/size", "pattern"),
        (
            ("--set", "prometheus.podMonitor.interval=often"),
            "/prometheus/podMonitor/interval",
            "pattern",
        ),
        (("--set", "grafana.dashboards.label=not a key"), "/grafana/dashboards/label", "pattern"),
    ],
)
def test_schema_refuses_bad_values(
    helm: Helm, args: tuple[str, ...], field: str, reason: str
) -> None:
    error = helm.refusal(*args)
    assert f"at '{field}'" in error, error
    assert reason in error, error


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "regions={east,east}"), "regions: region names must be distinct"),
        (("--set", "activeRegion=region3"), 'activeRegion: "region3" is not one of regions'),
        (
            ("--set", "sentinel.quorum=4"),
            "sentinel.quorum: 4 is more than sentinel.replicaCount (3)",
        ),
        (
            (
                "--set",
                "auth.apiKey=0123456789abcdefXYZ",
                "--set",
                "auth.operateApiKey=0123456789abcdefXYZ",
            ),
            "auth.operateApiKey: must differ from auth.apiKey",
        ),
        (
            ("--set", "operator.healthPort=9102"),
            "operator.healthPort: 9102 is also operator.metricsPort",
        ),
        (
            ("--set", "auth.existingSecret=mine", "--set", "auth.apiKey=0123456789abcdefXYZ"),
            "auth: with auth.existingSecret",
        ),
    ],
)
def test_validate_values_refuses_cross_field_errors(
    helm: Helm, args: tuple[str, ...], message: str
) -> None:
    error = helm.refusal(*args)
    assert "VALUES VALIDATION" in error, error
    assert message in error, error


def test_every_broken_rule_is_reported_at_once(helm: Helm) -> None:
    error = helm.refusal("--set", "regions={a,a}", "--set", "sentinel.quorum=5")
    assert "region names must be distinct" in error, error
    assert "sentinel.quorum: 5" in error, error


def test_the_values_reference_in_docs_is_current() -> None:
    """docs/deploy.md carries the table generated from values.yaml (`make docs-values`)."""
    document = (CHART.parents[1] / "docs" / "deploy.md").read_text()
    assert valuesdoc.render(CHART, document) == document, "run `make docs-values`"
