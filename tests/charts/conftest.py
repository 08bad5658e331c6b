"""The pinned helm (built by `tier0 setup`) and the chart's renders shared by the chart tests."""

from __future__ import annotations

import pytest
from chart_helm import Helm, Render

from tier0.setup import gotools

# Values far from the defaults, rendered as release "prod" in namespace "ops".
NON_DEFAULT = (
    "--set", "regions={east,west}",
    "--set", "activeRegion=west",
    "--set", "sentinel.replicaCount=5",
    "--set", "sentinel.quorum=3",
    "--set", "networkPolicy.enabled=false",
    "--set", "imageProcessor.schedule=*/30 * * * *",
    "--set", "deviceSimulator.enabled=false",
    "--set", "imagePullSecrets={regcred}",
    "--set", "commonLabels.team=sre",
    "--set", "commonAnnotations.owner=sre",
    "--set", "placement.required=true",
    "--set", "postgres.persistence.storageClass=fast",
    "--set", "api.nodeSelector.disk=ssd",
    "--set", "rabbitmqConsumer.enabled=false",
    "--set", "prometheus.persistence.enabled=false",
    "--set", "prometheus.podMonitor.enabled=true",
    "--set", "prometheus.podMonitor.labels.release=kube-prometheus-stack",
    "--set", "prometheus.prometheusRule.enabled=true",
    "--set", "prometheus.prometheusRule.labels.release=kube-prometheus-stack",
    "--set", "grafana.dashboards.folder=Tier-0",
)  # fmt: skip


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    binary = gotools.HELM.path("helm")
    if not binary.exists():
        pytest.fail(f"helm {gotools.HELM_VERSION} is not built ({binary}); run `make setup`")
    return Helm(binary, tmp_path_factory.mktemp("helm-home"))


@pytest.fixture(scope="session")
def default_render(helm: Helm) -> Render:
    return helm.template()


@pytest.fixture(scope="session")
def other_render(helm: Helm) -> Render:
    return helm.template(*NON_DEFAULT, release="prod", namespace="ops")


@pytest.fixture(params=["default", "non-default"])
def render(request: pytest.FixtureRequest, default_render: Render, other_render: Render) -> Render:
    return default_render if request.param == "default" else other_render
