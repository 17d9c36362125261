"""`audience backtest`: the period's instants, what a replay builds, the history cut back in
the copy, the daily figures, and the Markdown, JSON and HTML it writes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from audience import cli
from audience.backtest import (
    Backtest,
    BacktestError,
    DayFigures,
    Outcomes,
    SideFigures,
    cut_history,
    daily_figures,
    instants,
    median_days,
    parse_every,
    path_models,
    render_html,
)
from audience.report import ReportData, render

D = datetime(2026, 6, 24)


def test_every_reads_hours_days_and_weeks():
    assert parse_every("1d") == timedelta(days=1)
    assert parse_every("12h") == timedelta(hours=12)
    assert parse_every(" 2w ") == timedelta(weeks=2)
    for bad in ("0d", "d", "1m", "1.5d"):
        with pytest.raises(BacktestError):
            parse_every(bad)


def test_the_period_ends_at_its_end_and_holds_days_over_every_instants():
    end = datetime(2026, 6, 30)
    got = instants(end, 3, timedelta(days=1))
    assert got == [datetime(2026, 6, 28), datetime(2026, 6, 29), end]
    assert len(instants(end, 90, timedelta(days=1))) == 90
    assert instants(end, 1, timedelta(hours=12)) == [end - timedelta(hours=12), end]
    with pytest.raises(BacktestError):
        instants(end, 0, timedelta(days=1))


def test_daily_figures_count_entries_and_exits_against_the_instant_before():
    members = {D: {"a", "b"}, D + timedelta(days=1): {"b", "c", "d"}, D + timedelta(days=2): set()}
    assert daily_figures({"a", "z"}, members) == [
        DayFigures("2026-06-24 00:00:00", 2, 1, 1),
        DayFigures("2026-06-25 00:00:00", 3, 2, 1),
        DayFigures("2026-06-26 00:00:00", 0, 0, 3),
    ]


def test_median_days_in_segment_is_over_the_spells_that_ended():
    day = timedelta(days=1)
    members = {
        D: {"a": D - 3 * day, "b": D},
        D + day: {"b": D},
        D + 2 * day: {"c": D + 2 * day},
    }
    # a left after 4 days, b after 2; c is still in
    assert median_days(members) == 3.0
    assert median_days({D: {"a": D}}) is None


@dataclass
class Node:
    name: str
    fqn: list[str]
    resource_type: str = "model"


@dataclass
class Manifest:
    nodes: dict[str, Node]
    parent_map: dict[str, list[str]] = field(default_factory=dict)


def test_the_path_is_the_ancestors_but_staging_and_the_other_segments():
    def model(name: str, layer: str) -> tuple[str, Node]:
        return f"model.audience.{name}", Node(name, ["audience", layer, name])

    nodes = dict(
        [
            model("seg_a", "segments"),
            model("seg_b", "segments"),
            model("segment_membership", "marts"),
            model("int_scores", "intermediate"),
            model("int_events", "intermediate"),
            model("int_b_only", "intermediate"),
            model("stg_pages", "staging"),
            ("seed.audience.weights", Node("weights", ["audience", "weights"], "seed")),
        ]
    )
    parents = {
        "model.audience.seg_a": ["model.audience.int_scores", "seed.audience.weights"],
        "model.audience.seg_b": ["model.audience.int_b_only"],
        "model.audience.segment_membership": [
            "model.audience.seg_a",
            "model.audience.seg_b",
            "model.audience.int_scores",
        ],
        "model.audience.int_scores": ["model.audience.int_events"],
        "model.audience.int_events": ["model.audience.stg_pages"],
        "model.audience.int_b_only": ["model.audience.int_events"],
    }
    manifest = Manifest(nodes, parents)
    assert path_models(manifest, ["seg_a", "segment_membership"], "seg_a") == [
        "int_events",
        "int_scores",
        "seg_a",
        "segment_membership",
    ]
    with pytest.raises(BacktestError, match="seg_z"):
        path_models(manifest, ["seg_z"], "seg_z")
    # a segment that reads another segment's model has it rebuilt too
    parents["model.audience.seg_a"].append("model.audience.seg_b")
    assert path_models(manifest, ["seg_a", "segment_membership"], "seg_a") == [
        "int_b_only",
        "int_events",
        "int_scores",
        "seg_a",
        "seg_b",
        "segment_membership",
    ]


def test_the_copys_history_is_cut_back_to_its_state_before_the_period(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema snapshots")
    con.execute(
        "create table snapshots.segment_membership_snapshot (contact_key varchar, "
        "segment_id varchar, dbt_valid_from timestamp, dbt_valid_to timestamp)"
    )
    con.execute(
        "insert into snapshots.segment_membership_snapshot values "
        "('a', 's', '2026-06-20', null), "  # in all along: stays open
        "('b', 's', '2026-06-20', '2026-06-25'), "  # left in the period: open again
        "('c', 's', '2026-06-19', '2026-06-22'), "  # left before: stays closed
        "('d', 's', '2026-06-25', null)"  # entered in the period: gone
    )
    con.execute(
        "create table snapshots.segment_membership_snapshot__builds (built_as_of timestamp)"
    )
    con.execute(
        "insert into snapshots.segment_membership_snapshot__builds values "
        "('2026-06-19'), ('2026-06-20'), ('2026-06-22'), ('2026-06-24'), ('2026-06-25')"
    )
    con.close()

    assert cut_history(path, D) == 2

    con = duckdb.connect(str(path))
    rows = con.execute(
        "select contact_key, dbt_valid_to from snapshots.segment_membership_snapshot order by 1"
    ).fetchall()
    builds = con.execute("select count(*) from snapshots.segment_membership_snapshot__builds")
    assert rows == [("a", None), ("b", None), ("c", datetime(2026, 6, 22))]
    assert builds.fetchone() == (3,)
    con.close()


def test_a_warehouse_without_history_has_nothing_to_cut(tmp_path):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    assert cut_history(path, D) == 0


def result() -> Backtest:
    days = [DayFigures("2026-06-24 00:00:00", 3, 3, 0), DayFigures("2026-06-25 00:00:00", 2, 1, 2)]
    outcomes = Outcomes(4, 2, {"opportunity": 1, "won_deal": 0, "order": 2, "unsubscribe": 0})
    return Backtest(
        segment="seg_a",
        base="main (abc)",
        every="1d",
        window_days=14,
        instants=[d.at for d in days],
        sides=[
            SideFigures("this tree", days, 1.5, outcomes),
            SideFigures("main", [*days[:1], DayFigures(days[1].at, 5, 2, 0)], None, None),
            SideFigures(
                "all contacts", days, None, Outcomes(10, 0, dict.fromkeys(outcomes.counts, 0))
            ),
        ],
        models=["seg_a", "segment_membership"],
        seconds=8.0,
        seconds_per_instant=2.0,
        parse_seconds=3.0,
        notes=["a note"],
    )


def test_markdown_json_and_the_timing_line():
    text = result().to_markdown()
    assert "### Backtest of `seg_a`" in text
    assert "| this tree | 2.5 | 2 | 4 | 2 | 1.5 |" in text
    assert "| main | 4.0 | 5 | 5 | 0 | - |" in text
    assert "| this tree | 4 | 2 | 50.0% (1) | 0.0% (0) | 100.0% (2) | 0.0% (0) |" in text
    assert "| all contacts | 10 | 0 | - | - | - | - |" in text
    assert "| 2026-06-25 00:00:00 | 2 (+1/-2) | 5 (+2/-0) | 2 (+1/-2) |" in text
    assert text.rstrip().endswith("4 instants in 8 s (2.0 s per instant; parsing 3 s)")
    data = json.loads(result().to_json())
    assert data["sides"][0]["entries"] == 4
    assert data["sides"][0]["outcomes"]["rates"]["order"] == 1.0
    assert data["seconds_per_instant"] == 2.0


def test_the_page_charts_each_side_in_inline_svg():
    page = render_html(result())
    assert page.count("<svg") == 4
    assert 'data-series="this tree"' in page and 'data-series="main"' in page
    assert "<script" not in page


def test_the_report_links_the_backtest_pages():
    data = ReportData("duckdb", datetime(2026, 6, 30), datetime(2026, 6, 30))
    page = render(data, backtests=["backtest/seg_a.html"])
    assert '<a href="backtest/seg_a.html">seg_a</a>' in page
    assert "data-backtests" not in render(data)


def test_the_command_prints_the_figures_and_writes_the_page(tmp_path, monkeypatch, capsys):
    calls = {}

    def fake(segment: str, end: datetime, **options: object) -> Backtest:
        calls.update(options, segment=segment, end=end)
        return result()

    monkeypatch.setattr("audience.backtest.backtest", fake)
    page = tmp_path / "seg_a.html"
    argv = ["backtest", "seg_a", "--days", "7", "--every", "12h", "--as-of", "2026-06-30"]
    assert cli.main([*argv, "--no-base", "--html", str(page), "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### Backtest of `seg_a`") and "4 instants in 8 s" in out
    assert calls["segment"] == "seg_a" and calls["end"] == datetime(2026, 6, 30)
    assert (calls["days"], calls["every"], calls["base"]) == (7, "12h", None)
    assert "<svg" in page.read_text()
    assert cli.main([*argv, "--json", "--html", str(Path(tmp_path / "b.html")), "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["segment"] == "seg_a"
    assert calls["base"] == "main"


def project(root: Path, seg_a: str = "select 1", *, with_seg_a: bool = True) -> Path:
    (root / "models" / "segments" / "goal").mkdir(parents=True)
    (root / "models" / "intermediate").mkdir(parents=True)
    (root / "macros").mkdir()
    if with_seg_a:
        (root / "models" / "segments" / "goal" / "seg_a.sql").write_text(seg_a)
    (root / "models" / "segments" / "goal" / "seg_b.sql").write_text("select 2")
    (root / "models" / "intermediate" / "int_x.sql").write_text("select 3")
    (root / "dbt_project.yml").write_text("vars: {reports__outcome_window_days: 7}\n")
    return root


@pytest.mark.parametrize(
    ("base_seg_a", "with_seg_a", "sides", "note"),
    [
        ("select 1", True, ["this tree", "main", "all contacts"], "same figures"),
        ("select 0", True, ["this tree", "main", "all contacts"], None),
        ("", False, ["this tree", "all contacts"], "is new"),
    ],
)
def test_the_base_is_replayed_only_when_the_segments_path_differs(
    tmp_path, monkeypatch, base_seg_a, with_seg_a, sides, note
):
    from audience import backtest as module

    root = project(tmp_path / "tree")
    warehouse = tmp_path / "w.duckdb"
    warehouse.write_bytes(b"")
    replayed: list[str] = []

    def fake_replay(tree: Path, source: Path, scratch: Path, segment: str, period, **kw):
        replayed.append(kw["label"])
        size = 2 if kw["label"] == "this tree" else 1
        return module.Replay(
            before=set(),
            members={at: {f"c{i}": at for i in range(size)} for at in period},
            contacts={at: {"c0", "c1", "c2"} for at in period},
            built=["int_x", "seg_a", "segment_membership"],
            seconds=2.0,  # 1 s for each of the 2 instants
            parse_seconds=0.5,
            outcomes={"segment": {"entrants": size, "matured": 0}},
        )

    def fake_export(_root: Path, ref: str, dest: Path) -> str:
        project(dest, base_seg_a, with_seg_a=with_seg_a)
        return "abcdef1234567890"

    monkeypatch.setenv("AUDIENCE_PROJECT_DIR", str(root))
    monkeypatch.setattr(module, "replay", fake_replay)
    monkeypatch.setattr(module, "export_base", fake_export)
    end = datetime(2026, 6, 30)
    result = module.backtest("seg_a", end, days=2, warehouse=warehouse, scratch=tmp_path / "s")

    assert [side.name for side in result.sides] == sides
    assert result.instants == ["2026-06-29 00:00:00", "2026-06-30 00:00:00"]
    assert result.window_days == 7
    assert result.base == "main (abcdef1234)"
    assert (note is None and not result.notes) or note in result.notes[0]
    rebuilt = note is None
    assert replayed == (["this tree", "main"] if rebuilt else ["this tree"])
    assert result.seconds_per_instant == 1.0
    if "main" in [side.name for side in result.sides]:
        assert result.sides[1].days[-1].size == (1 if rebuilt else 2)
    with pytest.raises(BacktestError, match="seg_z"):
        module.backtest("seg_z", end, warehouse=warehouse, scratch=tmp_path / "s")
