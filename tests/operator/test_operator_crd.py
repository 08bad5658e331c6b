"""The Tier0Region CRD on the real API server: defaults, printer columns, CEL rejections."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from operator_env import CRD_FILE, GROUP, PLURAL, VERSION

from controlplane.kube import Namespace

pytestmark = [pytest.mark.operator, pytest.mark.controlplane]

EXAMPLE = CRD_FILE.parent / "examples" / "tier0region.yaml"


def example() -> dict[str, Any]:
    docs = list(yaml.safe_load_all(EXAMPLE.read_text()))
    found: dict[str, Any] = next(d for d in docs if d["kind"] == "Tier0Region")
    found["metadata"].pop("namespace", None)
    return found


def create(ns: Namespace, body: dict[str, Any]) -> dict[str, Any]:
    api = client.CustomObjectsApi(ns.api)
    made: dict[str, Any] = api.create_namespaced_custom_object(
        GROUP, VERSION, ns.name, PLURAL, body
    )
    return made


def test_example_is_accepted_and_defaulted(crd_installed: None, namespace: Namespace) -> None:
    made = create(namespace, example())
    spec = made["spec"]
    assert spec["failover"]["probeTimeoutSeconds"] == 1
    assert spec["routing"]["postgresRwService"] == "tier0-postgres-rw"
    assert spec["regions"][0]["postgres"]["port"] == 5432
    header = namespace.run("kubectl", "get", "t0r").stdout.splitlines()[0].split()
    assert header == ["NAME", "ACTIVE", "PHASE", "LAG", "LAST-FAILOVER", "RTO", "AGE"]


def _rejected(ns: Namespace, body: dict[str, Any]) -> str:
    with pytest.raises(ApiException) as caught:
        create(ns, body)
    assert caught.value.status == 422
    return str(caught.value.body)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.update(activeRegion="region9"), "activeRegion must name one of"),
        (lambda s: s["regions"][1].update(name="region1"), "region names must be unique"),
        (lambda s: s["failover"].update(unhealthyAfterSeconds=0), "must be positive"),
        (lambda s: s["failover"].update(catchUpTimeoutSeconds=-1), "must be positive"),
        (lambda s: s["failover"].update(probeTimeoutSeconds=0), "probeTimeoutSeconds must be"),
        (lambda s: s["regions"][0]["postgres"].update(host="10.0.0.9"), "exactly one of"),
        # A '-' would make the replication slot name invalid.
        (lambda s: s["regions"][1].update(name="region-2"), "should match"),
        (lambda s: s["failover"].update(switchoverTimeoutSeconds=0), "must be positive"),
    ],
    ids=[
        "unknown-active",
        "duplicate-names",
        "zero-timing",
        "negative-timing",
        "zero-probe-timeout",
        "service+host",
        "dash-in-region-name",
        "zero-switchover-timeout",
    ],
)
def test_invalid_resources_are_rejected(
    crd_installed: None, namespace: Namespace, mutate: Any, message: str
) -> None:
    body = copy.deepcopy(example())
    mutate(body["spec"])
    assert message in _rejected(namespace, body)


def _schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD_FILE.read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def _nodes(node: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
    """Every schema node below ``node``: properties, array items, map values, with a path."""
    found: list[tuple[str, dict[str, Any]]] = []
    children = [(f"{path}.{k}", v) for k, v in node.get("properties", {}).items()]
    if "items" in node:
        children.append((f"{path}[]", node["items"]))
    if isinstance(node.get("additionalProperties"), dict):
        children.append((f"{path}.*", node["additionalProperties"]))
    for child_path, child in children:
        found.append((child_path, child))
        found.extend(_nodes(child, child_path))
    return found


# The API server rejects a CRD that says anything about metadata beyond its type.
UNDESCRIBABLE = {".metadata"}


def test_every_field_is_described() -> None:
    undocumented = [
        path
        for path, node in _nodes(_schema(), "")
        if not node.get("description") and path not in UNDESCRIBABLE
    ]
    assert not undocumented, f"fields without a description: {undocumented}"


def test_every_spec_field_has_a_default_or_says_why_not() -> None:
    """A default wherever one makes sense; elsewhere the description says there is none."""
    spec = _schema()["properties"]["spec"]
    silent = [
        path
        for path, node in _nodes(spec, "spec")
        if "default" not in node and "no default" not in node["description"].lower()
    ]
    assert not silent, f"spec fields with neither a default nor a reason: {silent}"
