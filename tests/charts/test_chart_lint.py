"""`helm lint --strict` of the chart with each values file, and files that must stay in step."""

from __future__ import annotations

import tomllib

import pytest
import yaml  # type: ignore[import-untyped]  # no stubs installed
from chart_helm import CHART, REPO, Helm

pytestmark = pytest.mark.charts


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((), id="default"),
        pytest.param(
            ("-f", str(CHART / "values-local.yaml"), "--set", "image.tag=0a1b2c3d4e5f"), id="local"
        ),
        pytest.param(("-f", str(CHART / "values-kind.yaml")), id="kind"),
    ],
)
def test_lint_strict_passes(helm: Helm, args: tuple[str, ...]) -> None:
    proc = helm.run("lint", "--strict", str(CHART), *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[WARNING]" not in proc.stdout, proc.stdout
    assert "[ERROR]" not in proc.stdout, proc.stdout


def test_chart_crd_is_the_repository_crd() -> None:
    # helm installs charts/tier0/crds/; the operator's tests use crds/: one CRD, byte for byte.
    ours = (CHART / "crds" / "tier0region.yaml").read_bytes()
    assert ours == (REPO / "crds" / "tier0region.yaml").read_bytes()


def test_app_version_is_the_project_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert chart["apiVersion"] == "v2"
    assert chart["appVersion"] == project["version"]
