"""Each tab of the dashboard renders real data from the running API; the failover button patches
the Tier0Region and follows the switchover; an unreachable API is said so on the page."""

from __future__ import annotations

import re

import pytest
from dashboard_page import card, keep_screenshot, open_tab, pager
from dashboard_seed import PER_TYPE, SILENT
from playwright.sync_api import Page, expect

from conftest import OPERATE_KEY
from controlplane.kube import Namespace
from controlplane.tier0region import read_region, sample_status, set_status
from tier0.common.fleet import DEVICE_TYPES, SITES

pytestmark = [pytest.mark.browser, pytest.mark.component, pytest.mark.controlplane]

DEVICES = PER_TYPE * len(DEVICE_TYPES)


def test_telemetry_shows_counts_charts_and_a_paged_device_table(
    page: Page, dashboard_url: str
) -> None:
    open_tab(page, dashboard_url, "telemetry")

    assert card(page, "Devices") == str(DEVICES)
    assert card(page, "Offline") == str(SILENT)
    assert int(card(page, "Fault")) > 0
    charts = page.locator("[data-chart]")
    expect(charts).to_have_count(len(DEVICE_TYPES))
    # One line per site in each type's chart.
    expect(page.locator("[data-chart=turbine] polyline")).to_have_count(len(SITES))
    expect(page.locator("#device-table tbody tr")).to_have_count(20)
    expect(page.locator("[data-pager]")).to_have_text(pager(1, 20, DEVICES))
    keep_screenshot(page, "telemetry")

    page.get_by_role("button", name="Next →").click()
    expect(page.locator("[data-pager]")).to_have_text(pager(21, 40, DEVICES))
    page.select_option("select[name=site]", "TX-EAGLE")
    page.select_option("select[name=type]", "oil_gas")
    page.select_option("select[name=family]", "temperature")
    expect(page.locator("[data-chart]")).to_have_count(1)
    expect(page.locator("[data-chart=oil_gas] figcaption")).to_contain_text("temperature_c")
    expect(page.locator("[data-chart=oil_gas] polyline")).to_have_count(1)
    per_site_and_type = DEVICES // len(DEVICE_TYPES) // len(SITES)
    expect(page.locator("[data-pager]")).to_have_text(
        pager(1, per_site_and_type, per_site_and_type)
    )
    sites = page.locator("#device-table tbody td:nth-child(3)").all_inner_texts()
    assert set(sites) == {"TX-EAGLE"}


def test_users_shows_sessions_by_region_and_state(page: Page, dashboard_url: str) -> None:
    open_tab(page, dashboard_url, "users")

    assert card(page, "Sessions") == "60"
    counts = [int(card(page, s)) for s in ("Active", "Idle", "Disconnected")]
    assert sum(counts) == 60
    assert all(counts)
    expect(page.locator("#users-grid tbody tr")).to_have_count(3)
    expect(page.locator("#users-chart rect")).to_have_count(9)
    expect(page.locator("#users-sessions tbody tr").first).to_contain_text("active")
    keep_screenshot(page, "users")


def test_camera_shows_compliance_and_violations_with_details(
    page: Page, dashboard_url: str
) -> None:
    open_tab(page, dashboard_url, "camera")

    assert int(card(page, "Images")) == 24  # the sample images, all processed
    assert float(card(page, "Compliance score")) > 0
    expect(page.locator("#camera-sites tbody tr").first).to_be_visible()
    assert page.locator("#camera-types tbody tr").count() >= 1
    violation = page.locator("[data-image]").first
    expect(violation.locator(".chip").first).to_contain_text("no ")
    expect(violation).to_contain_text("Camera")
    keep_screenshot(page, "camera")


def test_ai_query_answers_with_clickable_citations(page: Page, dashboard_url: str) -> None:
    open_tab(page, dashboard_url, "query")

    page.fill(
        "#question", "What was the ambient temperature when the AK-NORTH standby engine failed?"
    )
    page.get_by_role("button", name="Ask").click()

    expect(page.locator("[data-answer]")).to_be_visible(timeout=60_000)
    expect(page.locator(".answer")).to_contain_text("Sources used: documents")
    citations = page.locator("ol.citations li")
    assert citations.count() >= 1
    expect(citations.first).to_contain_text("page")
    marker = page.locator("a.cite").first
    target = marker.get_attribute("data-cite")
    marker.click()
    expect(page.locator(f"#cite-{target}")).to_have_class(re.compile("focus"))
    keep_screenshot(page, "query")


def test_failover_shows_the_region_and_switches_over(
    page: Page, dashboard_url: str, region: Namespace
) -> None:
    open_tab(page, dashboard_url, "failover")

    assert card(page, "Active region") == "region1"
    assert card(page, "Phase") == "Ready"
    expect(page.locator("[data-rto]")).to_have_text("1.42 s")
    expect(page.locator("#failover-steps rect")).to_have_count(7)
    expect(page.locator("#failover-events tbody tr")).to_have_count(2)
    expect(page.locator("#failover-conditions tbody tr")).to_have_count(2)
    keep_screenshot(page, "failover")

    page.fill("input[name=key]", "not-the-operate-key-0000")
    page.get_by_role("button", name="Switch to region2").click()
    expect(page.locator("#failover-progress")).to_contain_text("Refused: ")
    assert read_region(region)["spec"]["activeRegion"] == "region1"

    page.fill("input[name=key]", OPERATE_KEY)
    page.get_by_role("button", name="Switch to region2").click()
    # "Accepted: … → region2, following epoch 3…", which the refresh the click also asks for
    # replaces at once with "Switching to region2 (epoch 3)…": either names the epoch.
    expect(page.locator("#failover-progress")).to_have_text(re.compile(r"region2\D*epoch 3\b"))
    assert read_region(region)["spec"]["activeRegion"] == "region2"
    # What the operator would write once the switchover is done.
    done = sample_status(active="region2", epoch=3)
    set_status(region, done)
    expect(page.locator("#failover-progress")).to_contain_text(
        "Switchover to region2 done: epoch 3"
    )
    assert card(page, "Active region") == "region2"


def test_an_unreachable_api_is_shown_not_a_blank_page(
    page: Page, orphan_dashboard_url: str
) -> None:
    page.goto(f"{orphan_dashboard_url}/#telemetry")

    banner = page.locator("#banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("API unreachable")
    expect(banner).to_contain_text("is unreachable (ConnectError)")
    expect(page.get_by_role("tab", name="Failover")).to_be_visible()
    page.get_by_role("tab", name="Failover").click()
    expect(banner).to_contain_text("API unreachable")
