"""The report's data shaping: flow windows, Sankey nodes and links, size series, histograms,
and a page where every chart is empty."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from audience.report import (
    CHART_IDS,
    NO_SEGMENT,
    OTHER_SEGMENTS,
    DailyChange,
    Flow,
    QualityResult,
    ReportData,
    ReportError,
    ScoreBin,
    Segment,
    changes_after_first_build,
    flow_window,
    quality_verdict,
    render,
    sankey_data,
    score_histograms,
    size_series,
    write_report,
)
from audience.warehouse import DuckDBWarehouse

SEGMENTS = [
    Segment("mql_routed", "MQLs", "lifecycle", 5),
    Segment("demo_requested", "Demo requested", "trigger", 10),
    Segment("buying_committee", "Buying committees", "sales_acceleration", 32),
    Segment("nurture", "Nurture", "lifecycle", 60),
]


def d(day: str) -> datetime:
    return datetime.fromisoformat(day)


# --- flow window ----------------------------------------------------------------------------


def test_flow_window_compares_the_latest_build_with_one_at_least_n_days_older():
    builds = [d("2026-05-01"), d("2026-05-25"), d("2026-06-01"), d("2026-06-20"), d("2026-06-30")]
    assert flow_window(builds, days=30) == (d("2026-05-25"), d("2026-06-30"))
    # exactly n days back counts
    assert flow_window(builds, days=29) == (d("2026-06-01"), d("2026-06-30"))


def test_flow_window_falls_back_to_the_first_build_and_needs_two():
    assert flow_window([d("2026-06-24"), d("2026-06-10"), d("2026-06-30")], days=30) == (
        d("2026-06-10"),
        d("2026-06-30"),
    )
    assert flow_window([d("2026-06-30"), d("2026-06-30")]) is None
    assert flow_window([]) is None


# --- Sankey ---------------------------------------------------------------------------------


def links(sankey) -> dict[tuple[str, str], int]:
    """(source key, target key) -> contacts, read back from the index arrays."""
    return {
        (sankey.node_keys[s], sankey.node_keys[t]): v
        for s, t, v in zip(sankey.sources, sankey.targets, sankey.values, strict=True)
    }


def test_sankey_keeps_every_contact_and_puts_each_side_in_its_own_column():
    flows = [
        Flow("nurture", "nurture", 10),
        Flow("nurture", "mql_routed", 3),
        Flow(None, "demo_requested", 4),
        Flow("buying_committee", None, 2),
        Flow("mql_routed", "mql_routed", 1),
    ]
    sankey = sankey_data(flows, SEGMENTS)

    assert sankey.total == 20
    assert links(sankey) == {
        ("mql_routed", "mql_routed"): 1,
        ("buying_committee", NO_SEGMENT): 2,
        ("nurture", "mql_routed"): 3,
        ("nurture", "nurture"): 10,
        (NO_SEGMENT, "demo_requested"): 4,
    }
    # every link goes from a "from" node to a "to" node: staying is not a loop
    assert all(sankey.node_sides[s] == "from" for s in sankey.sources)
    assert all(sankey.node_sides[t] == "to" for t in sankey.targets)
    # a column lists segments by priority, then "not in a segment"; labels are segment names
    sides = list(zip(sankey.node_keys, sankey.node_sides, strict=True))
    left = [key for key, side in sides if side == "from"]
    right = [key for key, side in sides if side == "to"]
    assert left == ["mql_routed", "buying_committee", "nurture", NO_SEGMENT]
    assert right == ["mql_routed", "demo_requested", "nurture", NO_SEGMENT]
    assert sankey.labels[: len(left)] == ["MQLs", "Buying committees", "Nurture", NO_SEGMENT]


def test_sankey_groups_the_smallest_segments_into_one_node():
    flows = [
        Flow("nurture", "nurture", 50),
        Flow("buying_committee", "nurture", 20),
        Flow("mql_routed", "demo_requested", 2),
        Flow("demo_requested", "mql_routed", 1),
    ]
    sankey = sankey_data(flows, SEGMENTS, max_segments=2)

    assert links(sankey) == {
        ("buying_committee", "nurture"): 20,
        ("nurture", "nurture"): 50,
        (OTHER_SEGMENTS, OTHER_SEGMENTS): 3,  # both small flows, merged
    }
    assert sankey.total == 73


def test_sankey_drops_empty_flows_and_knows_segments_missing_from_the_catalog():
    flows = [
        Flow(None, None, 5),
        Flow("nurture", "nurture", 0),
        Flow("retired_segment", "nurture", 2),
    ]
    sankey = sankey_data(flows, SEGMENTS)
    assert links(sankey) == {("retired_segment", "nurture"): 2}
    assert "retired_segment" in sankey.labels  # no catalog name: the id
    assert sankey_data([], SEGMENTS).values == []


# --- sizes and changes ----------------------------------------------------------------------


def test_size_series_carries_each_segment_to_the_last_build():
    changes = [
        DailyChange("nurture", date(2026, 6, 17), 2, 1, 6),
        DailyChange("nurture", date(2026, 6, 10), 5, 0, 5),
        DailyChange("mql_routed", date(2026, 6, 30), 1, 0, 1),
    ]
    series = size_series(changes, date(2026, 6, 30))
    assert series == {
        "mql_routed": [(date(2026, 6, 30), 1)],
        "nurture": [(date(2026, 6, 10), 5), (date(2026, 6, 17), 6), (date(2026, 6, 30), 6)],
    }
    # without a last day, the last change of any segment is the end
    assert size_series(changes)["nurture"][-1] == (date(2026, 6, 30), 6)
    assert size_series([]) == {}


def test_changes_leave_out_the_history_start_and_quiet_days():
    changes = [
        DailyChange("nurture", date(2026, 6, 10), 5, 0, 5),
        DailyChange("mql_routed", date(2026, 6, 10), 2, 0, 2),
        DailyChange("nurture", date(2026, 6, 17), 1, 2, 4),
        DailyChange("mql_routed", date(2026, 6, 17), 0, 0, 2),
    ]
    assert changes_after_first_build(changes) == [changes[2]]
    assert changes_after_first_build(changes[:2]) == []


# --- scores, quality ------------------------------------------------------------------------


def test_score_histograms_put_100_in_the_top_band_and_split_identified():
    bins = [
        ScoreBin("engagement", 0, True, 3),
        ScoreBin("engagement", 0, False, 4),
        ScoreBin("engagement", 90, True, 1),
        ScoreBin("engagement", 100, True, 2),  # a score of exactly 100
        ScoreBin("lead", 50, True, 7),
        ScoreBin("unknown", 10, True, 9),
    ]
    counts = score_histograms(bins)
    assert counts["engagement"][True] == [3, 0, 0, 0, 0, 0, 0, 0, 0, 3]
    assert counts["engagement"][False] == [4] + [0] * 9
    assert counts["lead"][True][5] == 7
    assert sum(counts["fit"][True]) == sum(counts["intent"][False]) == 0
    assert "unknown" not in counts


def result(status: str) -> QualityResult:
    return QualityResult("s", datetime(2026, 6, 30), "critical", status, "d", "")


def test_quality_verdict():
    assert quality_verdict([]) == "not checked"
    assert quality_verdict([result("pass")]) == "passed"
    assert quality_verdict([result("pass"), result("warn")]) == "warnings"
    assert quality_verdict([result("warn"), result("fail")]) == "failed"


# --- the page -------------------------------------------------------------------------------


def test_a_page_with_no_data_says_so_in_every_chart():
    page = render(ReportData("duckdb", datetime(2026, 6, 30), datetime(2026, 6, 30)))

    sections = re.findall(r'<section [^>]*data-chart="([^"]+)" data-state="([^"]+)"', page)
    assert sections == [(chart_id, "empty") for chart_id in CHART_IDS]
    assert page.count('class="no-data"') == len(CHART_IDS)
    assert "needs at least two builds" in page
    assert "No quality check has run" in page
    assert "Plotly.newPlot" not in page
    # self-contained: plotly.js is inline, and nothing else refers to anything outside
    from plotly.offline import get_plotlyjs

    assert page.count(get_plotlyjs()) == 1
    rest = page.replace(get_plotlyjs(), "")
    assert not re.search(r"(src|href)\s*=|https?://", rest)
    assert "default-src 'none'" in rest


def test_a_warehouse_without_marts_is_refused(tmp_path: Path):
    warehouse = DuckDBWarehouse(tmp_path / "empty.duckdb")
    try:
        with pytest.raises(ReportError, match="build it"):
            write_report(warehouse, tmp_path / "report.html")
    finally:
        warehouse.close()
    assert not (tmp_path / "report.html").exists()


def test_a_history_of_one_build_shows_sizes_as_bars_and_no_flows():
    data = ReportData(
        "duckdb",
        datetime(2026, 6, 30),
        datetime(2026, 6, 30),
        segments=SEGMENTS,
        daily_changes=[
            DailyChange("nurture", date(2026, 6, 30), 5, 0, 5),
            DailyChange("mql_routed", date(2026, 6, 30), 2, 0, 2),
        ],
        recency={"hot": 3, "never": 4},
        quality=[result("pass"), result("fail")],
    )
    page = render(data)

    states = dict(re.findall(r'data-chart="([^"]+)" data-state="([^"]+)"', page))
    assert states == {
        "segment-sizes": "ok",
        "segment-changes": "empty",
        "primary-flows": "empty",
        "score-distributions": "empty",
        "recency-buckets": "ok",
        "segment-conversion": "empty",
        "score-calibration": "empty",
        "quality-status": "ok",
    }
    sizes = page[page.index('id="panel-segment-sizes"') :].split("</section>")[0]
    assert "the history&#x27;s only build so far (2026-06-30)" in sizes
    assert '"type":"bar"' in sizes and '"orientation":"h"' in sizes  # not one dot per line
    assert "Verdict: <b>failed</b>" in page
