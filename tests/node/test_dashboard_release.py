"""The chart's dashboard in Debian's headless Chromium, through ``kubectl port-forward`` of its
Service: every tab shows what the running release produces (the simulators' fleet and sessions,
the image processor Job's compliance, a cited answer from the query service), and the Failover
tab's button drives a real switchover by the operator and back.

The release is left as the other node tests expect it: region1 active and Ready.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from browser.dashboard_page import card, card_number, keep_screenshot, open_tab
from node.kube import Kube, port_forward, wait_for
from node.release import PRIMARY, helm_test_question, operate_key, switch_region
from tier0.cluster import deploy
from tier0.cluster.failover_load import settled
from tier0.common.fleet import DEVICE_TYPES, SITES

# The first test waits for the release fixture: an image rebuild and a helm upgrade.
pytestmark = [pytest.mark.node, pytest.mark.browser, pytest.mark.timeout(1200)]

SWITCHOVER_MS = 240_000  # a switchover takes seconds; the operator may first finish a rejoin
PAGE_TIMEOUT_MS = 60_000  # the page refreshes every 5 s, against a busy single node


@pytest.fixture(scope="module")
def dashboard(release: Kube) -> Iterator[str]:
    with port_forward(release, f"service/{deploy.RELEASE}-dashboard", 8080) as url:
        yield url


@pytest.fixture
def page_timeout_ms() -> int:
    """The node's page is slower than a local server's (browser.dashboard_page's default)."""
    return PAGE_TIMEOUT_MS


def through(dashboard: str, path: str) -> Any:
    """What the API answers through the dashboard's proxy (the page's own data)."""
    response = httpx.get(f"{dashboard}/{path}", timeout=30)
    response.raise_for_status()
    return response.json()


@pytest.fixture
def primary_in_region1(release: Kube) -> Iterator[None]:
    """region1 active and Ready before the test and after it, whatever the test did."""
    switch_region(release, PRIMARY)
    yield
    switch_region(release, PRIMARY)


def test_telemetry_shows_the_simulated_fleet(page: Page, dashboard: str) -> None:
    expected = through(dashboard, "api/telemetry/status")
    open_tab(page, dashboard, "telemetry")

    assert card_number(page, "Devices") == expected["devices"] > 0  # the seeded registry
    expect(page.locator("[data-card^='Reporting'] .value")).not_to_have_text("0")
    expect(page.locator("[data-chart]")).to_have_count(len(DEVICE_TYPES))
    for device_type in DEVICE_TYPES:
        # The simulator's readings reach every site within the 15-minute window.
        expect(page.locator(f"[data-chart={device_type}] polyline")).to_have_count(len(SITES))
    expect(page.locator("#device-table tbody tr")).to_have_count(20)
    sites = [site["site_id"] for site in through(dashboard, "api/sites")]
    expect(page.locator("select[name=site] option")).to_have_count(len(sites) + 1)
    keep_screenshot(page, "telemetry")


def test_users_shows_sessions_by_region(page: Page, dashboard: str) -> None:
    open_tab(page, dashboard, "users")

    regions = sorted(through(dashboard, "api/users")["counts"]["by_region"])
    assert regions, "the user simulator has recorded no sessions"
    expect(page.locator("#users-grid tbody tr")).to_have_count(len(regions))
    assert page.locator("#users-grid tbody td:first-child").all_inner_texts() == regions
    assert card_number(page, "Sessions") > 0
    assert card_number(page, "Active") > 0
    expect(page.locator("#users-chart rect")).to_have_count(len(regions) * 3)
    expect(page.locator("#users-sessions tbody tr").first).to_contain_text("active")
    keep_screenshot(page, "users")


def test_camera_shows_the_image_processor_results(page: Page, dashboard: str) -> None:
    # The image-processor Job ran to completion before helm returned (--wait-for-jobs).
    compliance = through(dashboard, "api/images/summary")
    summary = compliance["overall"]
    assert summary["images"] > 0
    open_tab(page, dashboard, "camera")

    assert card_number(page, "Images") == summary["images"]
    assert card_number(page, "Compliance score") == pytest.approx(summary["average_score"], abs=0.1)
    expect(page.locator("#camera-sites tbody tr")).to_have_count(len(compliance["sites"]))
    expect(page.locator("#camera-types tbody tr").first).to_be_visible()
    violation = page.locator("[data-image]").first
    expect(violation.locator(".chip").first).to_contain_text("no ")
    expect(violation).to_contain_text("Camera")
    keep_screenshot(page, "camera")


def test_ai_query_answers_with_clickable_citations(page: Page, dashboard: str) -> None:
    open_tab(page, dashboard, "query")

    page.fill("#question", helm_test_question())
    page.get_by_role("button", name="Ask").click()

    expect(page.locator("[data-answer]")).to_be_visible(timeout=120_000)
    expect(page.locator(".answer")).to_contain_text("Sources used:")
    citations = page.locator("ol.citations li")
    expect(citations.first).to_be_visible()
    marker = page.locator("a.cite").first
    target = marker.get_attribute("data-cite")
    marker.click()
    expect(page.locator(f"#cite-{target}")).to_have_class(re.compile("focus"))
    keep_screenshot(page, "query")


def switch_on_page(page: Page, dashboard: str, region: str) -> None:
    """Click "Switch to <region>" and follow the switchover to its end on the page."""
    page.get_by_role("button", name=f"Switch to {region}").click()
    progress = page.locator("#failover-progress")
    # "Accepted: … → region, following epoch N…", replaced by the next refresh's "Switching to
    # region (epoch N)…" (or already "… done: epoch N") on a busy node: any names the epoch.
    naming = re.compile(rf"{region}\D*epoch (\d+)")
    expect(progress).to_have_text(naming)
    epoch = int(naming.findall(progress.inner_text())[0])
    expect(progress).to_contain_text(
        f"Switchover to {region} done: epoch {epoch} (RTO", timeout=SWITCHOVER_MS
    )
    expect(page.locator("[data-card='Active region'] .value")).to_have_text(region)
    expect(page.locator("[data-card='Phase'] .value")).to_have_text("Ready")
    last = through(dashboard, "api/failover")["last_failover"]
    assert last["to_region"] == region

    # The operator's per-step timings: one bar each, and the RTO beside them (the page shows
    # two decimals, and may be a refresh behind a step the operator records last, as rejoin).
    def steps_shown() -> bool:
        latest = through(dashboard, "api/failover")["last_failover"]["steps"]
        return page.locator("#failover-steps rect").count() == len(latest)

    wait_for("the page's step bars to be the operator's", steps_shown, PAGE_TIMEOUT_MS / 1000)

    def rto_shown() -> bool:
        shown = float(page.locator("[data-rto]").inner_text().removesuffix(" s"))
        latest = through(dashboard, "api/failover")["last_failover"]["total_seconds"]
        return abs(shown - latest) < 0.006

    wait_for("the page's RTO to be the operator's", rto_shown, timeout=PAGE_TIMEOUT_MS / 1000)


@pytest.mark.usefixtures("primary_in_region1")
def test_failover_switches_to_region2_and_back(page: Page, dashboard: str, release: Kube) -> None:
    open_tab(page, dashboard, "failover")
    assert card(page, "Active region") == PRIMARY
    assert card(page, "Phase") == "Ready"
    assert re.fullmatch(r"[\d,]+ B", card(page, "Replication lag"))
    expect(page.locator("#failover-conditions tbody tr").first).to_be_visible()

    page.fill("input[name=key]", operate_key(release))
    switch_on_page(page, dashboard, "region2")
    assert settled(release.output, "region2")
    expect(page.locator("#failover-events tbody tr").first).to_be_visible()
    keep_screenshot(page, "failover")

    switch_on_page(page, dashboard, PRIMARY)
    assert settled(release.output, PRIMARY)
