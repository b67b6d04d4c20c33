"""A supervisor opens the reports from the wall, picks last week, sees the queue table and the
chart, downloads the queues' CSV (its rows are the table's), and is told plainly when the range
is the wrong way round; the page fits a phone's width."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.helpers.server import running_server

ZONE = "Europe/Paris"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # The demo's generated history: five weeks of contacts before today.
    env = {"OTODESK_DEMO_HISTORY": "1", "OTODESK_TIMEZONE": ZONE}
    with running_server(tmp_path_factory.mktemp("reports-e2e"), env=env) as server:
        yield server


def _last_week() -> tuple[str, str]:
    today = dt.datetime.now(ZoneInfo(ZONE)).date()
    monday = today - dt.timedelta(days=today.weekday() + 7)
    return monday.isoformat(), (monday + dt.timedelta(days=6)).isoformat()


def _table(page, name: str) -> list[list[str]]:
    table = page.get_by_test_id(f"table-{name}")
    header = table.locator("thead th").all_inner_texts()
    rows = [row.locator("td").all_inner_texts() for row in table.locator("tbody tr").all()]
    return [header, *rows]


def test_supervisor_reads_last_week_and_downloads_the_table(browser, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = login(browser, server, "sam", "/supervisor")
    page.get_by_test_id("wall-reports-link").click()
    page.wait_for_url("**/reports**")
    reports = page.locator("[data-reports]")
    expect(reports).to_have_attribute("data-state", "ready")

    page.get_by_role("button", name="Last week").click()
    first, last = _last_week()
    expect(page.get_by_test_id("report-from")).to_have_value(first)
    expect(page.get_by_test_id("report-to")).to_have_value(last)
    expect(page.get_by_role("status")).to_have_text(f"{first} to {last}, by day.")
    expect(reports).to_have_attribute("data-state", "ready")

    queues = page.get_by_test_id("table-queues")
    expect(queues.locator("tbody tr")).to_have_count(3)
    expect(queues.locator("tbody tr td:first-child")).to_have_text(["Sales", "Support", "All queues"])
    table = _table(page, "queues")
    assert table[0][:5] == ["Queue", "Offered", "Answered", "Abandoned", "Short abandons"]
    assert int(table[3][1]) > 0, "the demo's history should have contacts last week"
    # The chart: uPlot drew it, one point a day, and says what it shows.
    chart = page.get_by_test_id("report-chart")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart).to_have_attribute("aria-label", f"Contacts by period, {first} to {last}: offered {table[3][1]}, "
                                    f"answered {table[3][2]}, abandoned {table[3][3]}.")
    expect(page.get_by_test_id("report-totals").locator("[data-metric=offered] .value")).to_have_text(table[3][1])
    page.screenshot(path=str(SHOTS / "reports-wide.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_test_id("csv-queues").click()
    assert download.value.suggested_filename == f"otodesk-queues-{first}-{last}-day.csv"
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows == table

    # Agents by period: a row per agent and day worked, also downloadable as it reads.
    with page.expect_download() as download:
        page.get_by_test_id("csv-agent_periods").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows == _table(page, "agent_periods") and len(rows) > 3

    # The wrong way round: said plainly, the last figures stay.
    page.get_by_test_id("report-from").fill(last)
    page.get_by_test_id("report-to").fill(first)
    page.get_by_test_id("report-show").click()
    expect(page.get_by_test_id("report-error")).to_have_text(
        f"The range is the wrong way round: {last} is after {first}.")
    expect(queues.locator("tbody tr")).to_have_count(3)

    # On a phone: nothing wider than the screen but the tables, which scroll in their card.
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name="Last week").click()
    expect(reports).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("report-error")).to_be_hidden()
    page.screenshot(path=str(SHOTS / "reports-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert chart.locator("canvas").bounding_box()["width"] <= 390
    page.context.close()
