"""The dashboard in Debian's headless Chromium on top of the real stores, the query service and
a real control plane: ``tier0 dashboard``'s app proxies to the API's app, both on real ports.

Playwright, its ``browser`` and ``page`` fixtures and the page helpers are in dashboard_page.py
(the node's browser tests use them too).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from dashboard_seed import drop_images, seed_fleet, seed_images
from dashboard_servers import serving
from pydantic import AnyHttpUrl, SecretStr

from component.conftest import local_index, sample_images, small_corpus
from controlplane.kube import Namespace, fresh_namespace
from controlplane.tier0region import create_region, install_crd, record_event, sample_status
from tier0.api.main import create_app as create_api
from tier0.common.settings import Settings
from tier0.dashboard.server import create_app as create_dashboard
from tier0.dashboard.settings import DashboardSettings
from tier0.db.migrate import migrate_database
from tier0.rag.cohere_backend import CohereSettings
from tier0.rag.embeddings import LocalOnnxEmbedder
from tier0.rag.service.main import create_app as create_rag
from tier0.rag.service.settings import ServiceSettings
from tier0.stack.base import LOOPBACK, free_port
from tier0.stack.controlplane import ControlPlane
from tier0.stack.harness import Harness

__all__ = ["local_index", "sample_images", "small_corpus"]  # session fixtures, shared

WRITE_KEY = "dashboard-write-" + uuid.uuid4().hex[:12]
OPERATE_KEY = "dashboard-operate-" + uuid.uuid4().hex[:12]
T = TypeVar("T")


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` to completion in a thread of its own: Playwright's sync API keeps an event
    loop running in this one, where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


@pytest.fixture(scope="module")
def dsn(stack: Harness) -> Iterator[str]:
    """A migrated database with the seeded fleet and sessions, dropped after the module."""
    name = f"dash_{uuid.uuid4().hex[:10]}"
    created = stack.postgres.create_database(name)
    try:
        run_async(migrate_database(created))
        run_async(seed_fleet(created))
        yield created
    finally:
        stack.postgres.drop_database(name)


@pytest.fixture(scope="module")
def mongo_database(
    stack: Harness, sample_images: Path, local_embedder: LocalOnnxEmbedder
) -> Iterator[str]:
    url, name = stack.environment()["TIER0_MONGO_URL"], f"dash_{uuid.uuid4().hex[:8]}"
    run_async(seed_images(url, name, sample_images, local_embedder))
    yield name
    run_async(drop_images(url, name))


@pytest.fixture(scope="module")
def region(
    control_plane: ControlPlane, admin_api: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Namespace]:
    """A namespace with the Tier0Region after a switchover and two of its Events."""
    install_crd(control_plane)
    workdir = tmp_path_factory.mktemp("dash-kube")
    with fresh_namespace(control_plane, admin_api, workdir, prefix="dash") as ns:  # type: ignore[arg-type]
        created = create_region(ns, status=sample_status(active="region1", epoch=2))
        record_event(ns, created, "SwitchoverStarted", "region2 -> region1, epoch 2")
        record_event(ns, created, "SwitchoverDone", "region1 is the primary, epoch 2 (1.42 s)")
        yield ns


@pytest.fixture(scope="module")
def stores(stack: Harness, dsn: str, mongo_database: str, region: Namespace) -> Settings:
    env = stack.environment()
    return Settings(
        postgres_dsn=dsn,
        redis_sentinels=env["TIER0_REDIS_SENTINELS"],
        redis_master_name=env["TIER0_REDIS_MASTER_NAME"],
        redis_password=SecretStr(env["TIER0_REDIS_PASSWORD"]),
        mongo_url=env["TIER0_MONGO_URL"],
        mongo_database=mongo_database,
        api_key=SecretStr(WRITE_KEY),
        operate_api_key=SecretStr(OPERATE_KEY),
        kubeconfig=str(region.kubeconfig),
        region_namespace=region.name,
    )


@pytest.fixture(scope="module")
def dashboard_url(stores: Settings, local_index: Path) -> Iterator[str]:
    rag = create_rag(
        ServiceSettings(index_dir=local_index, cache_scope=uuid.uuid4().hex[:8]),
        stores=stores,
        cohere=CohereSettings(api_key=None),
    )
    with serving(rag) as rag_url:
        api = create_api(stores.model_copy(update={"rag_url": rag_url}), cache_ttl=1)
        with serving(api) as api_url:
            settings = DashboardSettings(api_url=AnyHttpUrl(api_url), refresh_seconds=1)
            with serving(create_dashboard(settings)) as url:
                yield url


@pytest.fixture(scope="module")
def orphan_dashboard_url() -> Iterator[str]:
    """A dashboard whose API is not there."""
    dead = AnyHttpUrl(f"http://{LOOPBACK}:{free_port()}")
    with serving(create_dashboard(DashboardSettings(api_url=dead, refresh_seconds=1))) as url:
        yield url
