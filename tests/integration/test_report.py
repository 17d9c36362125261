"""`audience report` on generated data with a membership history of four builds (the shared
`generated_history` warehouse), checked against the builds, then opened in a headless
Chromium: every chart is drawn, nothing is fetched, and the console stays free of errors."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from browser import chromium, severe_console_messages
from warehouses import GENERATED_DAYS, BuiltWarehouse, environment

from audience import cli
from audience.checks import CheckResult, CheckRun, record, run_checks
from audience.dbt import AS_OF_FORMAT
from audience.report import (
    CHART_IDS,
    FLOWS_SQL,
    ReportData,
    collect,
    render,
    sankey_data,
    size_series,
)
from audience.warehouse import DuckDBWarehouse, PostgresWarehouse

pytestmark = pytest.mark.slow

#: what each drawn chart must hold (plotly's own SVG classes)
MARKS = {
    "segment-sizes": ".scatterlayer .trace",
    "segment-changes": ".barlayer .point",
    "primary-flows": ".sankey-link",
    "score-distributions": ".barlayer .point",
    "recency-buckets": ".barlayer .point",
    "segment-conversion": ".barlayer .trace",
    "score-calibration": ".barlayer .point",
    "quality-status": ".barlayer .point",
}


@dataclass
class Reported:
    warehouse: BuiltWarehouse
    memberships: dict[str, set[tuple[str, str]]]
    checked: CheckRun
    data: ReportData
    page: Path
    seconds: float


@pytest.fixture(scope="module")
def reported(generated_history, tmp_path_factory) -> Reported:
    """The quality checks run on the last build, then `audience report` writes the page."""
    warehouse, memberships, _, _, _ = generated_history
    out = tmp_path_factory.mktemp("report")
    with environment(AUDIENCE_DUCKDB_PATH=str(warehouse.path), AUDIENCE_OUTPUT_DIR=str(out)):
        checked = run_checks("duckdb", warehouse.as_of, out=out)
        started = time.perf_counter()
        assert cli.main(["report", "--out", str(out / "report.html")]) == 0
        seconds = time.perf_counter() - started
    connection = DuckDBWarehouse(warehouse.path)
    try:
        data = collect(connection)
    finally:
        connection.close()
    return Reported(warehouse, memberships, checked, data, out / "report.html", seconds)


def primary_segments(pairs: set[tuple[str, str]], priority: dict[str, int]) -> dict[str, str]:
    """contact -> the segment of lowest priority number (then id) it is in."""
    primary: dict[str, str] = {}
    for contact, segment in pairs:
        current = primary.get(contact)
        if current is None or (priority[segment], segment) < (priority[current], current):
            primary[contact] = segment
    return primary


def test_flows_start_and_end_in_each_builds_primary_segments(reported):
    data = reported.data
    first, last = GENERATED_DAYS[0], GENERATED_DAYS[-1]
    assert data.flow_window == (datetime.fromisoformat(first), datetime.fromisoformat(last))
    priority = {s.segment_id: s.priority for s in data.segments}
    before = Counter(primary_segments(reported.memberships[first], priority).values())
    after = Counter(primary_segments(reported.memberships[last], priority).values())
    sources: Counter[str] = Counter()
    targets: Counter[str] = Counter()
    for flow in data.flows:
        if flow.source is not None:
            sources[flow.source] += flow.contacts
        if flow.target is not None:
            targets[flow.target] += flow.contacts
    assert sources == before
    assert targets == after
    # the latest end is what marts.contacts says each contact's primary segment is
    assert targets == Counter(
        dict(
            reported.warehouse.query(
                "select primary_segment_id, count(*) from marts.contacts "
                "where primary_segment_id is not null group by primary_segment_id"
            )
        )
    )
    # some contacts changed primary segment, and every one of them is on the Sankey
    assert any(f.source != f.target for f in data.flows)
    assert sankey_data(data.flows, data.segments).total == sum(f.contacts for f in data.flows)


def test_sizes_and_daily_changes_replay_the_builds(reported):
    data = reported.data
    last = datetime.fromisoformat(GENERATED_DAYS[-1]).date()
    series = size_series(data.daily_changes, last)
    final = Counter(segment for _, segment in reported.memberships[GENERATED_DAYS[-1]])
    assert {s: points[-1][1] for s, points in series.items() if points[-1][1]} == dict(final)
    for previous, day in itertools.pairwise(GENERATED_DAYS):
        entered = Counter(s for _, s in reported.memberships[day] - reported.memberships[previous])
        on_day = {
            c.segment_id: c.entries
            for c in data.daily_changes
            if c.day.isoformat() == day and c.entries
        }
        assert on_day == dict(entered), day


def test_scores_recency_and_quality_come_from_the_warehouse(reported):
    data = reported.data
    contacts = reported.warehouse.scalar("select count(*) from marts.contacts")
    assert data.totals["contacts"] == contacts
    for score in ("engagement", "fit", "intent", "lead"):
        assert sum(b.contacts for b in data.score_bins if b.score == score) == contacts
    assert sum(data.recency.values()) == contacts
    assert len(data.conversion) == reported.warehouse.scalar(
        "select count(*) from marts.report_segment_conversion"
    )
    assert [c.decile for c in data.calibration] == list(range(1, 11))
    assert Counter(r.status for r in data.quality) == Counter(
        r.status for r in reported.checked.results
    )
    assert data.missing == []


def test_the_page_is_self_contained_and_small_enough(reported):
    page = reported.page.read_text()
    size_kb = len(page.encode()) / 1024
    assert 3_000 < size_kb < 8_000, size_kb  # plotly.js (about 4.7 MB) and the data
    assert reported.seconds < 30
    for chart_id in CHART_IDS:
        assert f'data-chart="{chart_id}" data-state="ok"' in page, chart_id


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


def open_page(driver, path: Path) -> list[str]:
    """Load a file and wait until plotly has drawn every chart; the console errors."""
    from selenium.webdriver.support.ui import WebDriverWait

    severe_console_messages(driver)  # drop what an earlier page logged
    driver.get(path.as_uri())
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "return [...document.querySelectorAll('section[data-state=ok]')]"
            ".every(s => s.querySelector('.main-svg') !== null)"
        )
    )
    return severe_console_messages(driver)


def screenshot(driver, path: Path, width: int = 1400) -> None:
    """The whole page, however long: the window grows until the page fits in it."""
    driver.set_window_size(width, 1000)
    for _ in range(5):
        page, inner = driver.execute_script(
            "return [document.documentElement.scrollHeight, window.innerHeight]"
        )
        if inner >= page:
            break
        driver.set_window_size(width, driver.get_window_size()["height"] + page - inner)
    driver.save_screenshot(str(path))
    driver.set_window_size(width, 1000)


def test_every_chart_is_drawn_in_chromium(reported, browser, tmp_path):
    errors = open_page(browser, reported.page)

    assert errors == []
    # nothing was fetched: plotly.js and the data are in the page
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    drawn = browser.execute_script(
        """const marks = arguments[0];
        return Object.fromEntries(Object.entries(marks).map(([id, selector]) => {
            const chart = document.querySelector('#panel-' + id + ' #chart-' + id);
            return [id, chart === null ? -1 : chart.querySelectorAll(selector).length];
        }));""",
        MARKS,
    )
    assert set(drawn) == set(CHART_IDS)
    assert all(count > 0 for count in drawn.values()), drawn
    sankey = sankey_data(reported.data.flows, reported.data.segments)
    assert drawn["primary-flows"] == len(sankey.values)
    assert drawn["recency-buckets"] == len(reported.data.recency)
    verdict = browser.execute_script(
        "return document.querySelector('#panel-quality-status .verdict b').textContent"
    )
    checked = reported.checked
    expected = "failed" if not checked.success else "warnings" if checked.warnings else "passed"
    assert verdict == expected
    shot = tmp_path / "report.png"
    screenshot(browser, shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def test_an_empty_report_shows_its_notes_in_chromium(browser, tmp_path):
    page = tmp_path / "empty.html"
    page.write_text(render(ReportData("duckdb", datetime(2026, 6, 30), datetime(2026, 6, 30))))

    assert open_page(browser, page) == []
    notes = browser.execute_script(
        "return [...document.querySelectorAll('section[data-chart]')]"
        ".map(s => [s.dataset.chart, s.dataset.state, s.querySelector('.no-data').innerText])"
    )
    assert [(chart_id, state) for chart_id, state, _ in notes] == [
        (chart_id, "empty") for chart_id in CHART_IDS
    ]
    assert all(text.strip() for _, _, text in notes)
    assert browser.execute_script("return document.querySelectorAll('.main-svg').length") == 0


# --- both targets -----------------------------------------------------------------------------


def test_the_same_queries_run_on_duckdb_and_postgres(tiny_warehouse):
    """The tiny fixture on each target: every query of the report, including the flows and a
    recorded quality check, inside a transaction that is rolled back (nothing is left)."""
    built = tiny_warehouse
    connection = (
        DuckDBWarehouse(built.path)
        if built.target == "duckdb"
        else PostgresWarehouse(built.database)
    )
    as_of = built.as_of.strftime(AS_OF_FORMAT)
    results = [
        CheckResult("raw_volume", "expect_x", None, "critical", True, "holds rows", "ok"),
        CheckResult("mart_volume", "expect_y", None, "warning", False, "within a band", "1 row"),
    ]
    # checked "later" than any real check, so that it is the latest of its suites
    run = CheckRun("report-test", built.target, as_of, "2099-01-01 00:00:00", results)
    schemata = "select count(*) from information_schema.schemata where schema_name = 'quality'"
    quality_schema = built.scalar(schemata)
    try:
        connection.begin()
        record(connection, run)
        data = collect(connection)
        # one build: the flows between a build and itself keep everyone where they are
        flows = connection.query(FLOWS_SQL, (as_of, as_of, as_of, as_of))
        connection.rollback()
    finally:
        connection.close()

    assert data.target == built.target and data.built_as_of == built.as_of
    assert data.missing == []
    assert [(r.suite, r.status) for r in data.quality if r.checked_at.year == 2099] == [
        ("mart_volume", "warn"),
        ("raw_volume", "pass"),
    ]
    primary = dict(
        built.query(
            "select primary_segment_id, count(*) from marts.contacts "
            "where primary_segment_id is not null group by primary_segment_id"
        )
    )
    assert primary and {s: n for s, t, n in flows if s == t} == primary
    assert all(s == t for s, t, _ in flows)
    contacts = built.scalar("select count(*) from marts.contacts")
    for score in ("engagement", "fit", "intent", "lead"):
        assert sum(b.contacts for b in data.score_bins if b.score == score) == contacts
    assert sum(data.recency.values()) == contacts
    assert data.flow_window is None  # one build
    page = render(data)
    for chart_id in ("segment-sizes", "score-distributions", "quality-status"):
        assert f'data-chart="{chart_id}" data-state="ok"' in page
    assert 'data-chart="primary-flows" data-state="empty"' in page
    assert built.scalar(schemata) == quality_schema  # rolled back: nothing is left
