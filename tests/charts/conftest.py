"""The pinned helm (built by `tier0 setup`) and the chart's renders shared by the chart tests."""

from __future__ import annotations

import pytest
from chart_helm import Helm, Render

from tier0.setup import gotools


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    binary = gotools.HELM.path("helm")
    if not binary.exists():
        pytest.fail(f"helm {gotools.HELM_VERSION} is not built ({binary}); run `make setup`")
    return Helm(binary, tmp_path_factory.mktemp("helm-home"))


@pytest.fixture(scope="session")
def default_render(helm: Helm) -> Render:
    return helm.template()
