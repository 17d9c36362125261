"""`audience backtest`: the replay of a segment equals, instant for instant, the membership
the real daily builds of those instants wrote, and leaves the real warehouse as it was.

Demo data is built day by day (a day before the period, so the replay starts from a
history, then each day of the period); the backtest then replays the period on a copy of the
warehouse as the last build left it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest
from warehouses import BUILD, BuiltWarehouse, load_duckdb

from audience import cli
from audience.backtest import DayFigures, daily_figures, replay
from audience.dbt import AS_OF_FORMAT, run_dbt
from audience.generator import generate
from audience.project import environment, project_dir, target_dir
from audience.report import BACKTESTS

#: the day before the period (its history is where the replay starts), then the period
BEFORE = datetime(2026, 6, 23)
PERIOD = [datetime(2026, 6, 24), datetime(2026, 6, 25), datetime(2026, 6, 26)]
#: segments whose members change over the period in this data: one of plain rules, one
#: that keeps its members on a lower exit threshold (it reads the history of the build before)
SEGMENTS = ("buying_committee", "fit_and_intent")

Members = dict[str, datetime]


@pytest.fixture(scope="module")
def daily_builds(tmp_path_factory: pytest.TempPathFactory):
    """The warehouse built as of BEFORE and each day of PERIOD, and each segment's members
    (contact_key -> entered_at) after each build."""
    root = tmp_path_factory.mktemp("backtest")
    generate(root / "data", people=150, seed=9, as_of=datetime(2026, 6, 30))
    path = root / "daily.duckdb"
    warehouse = BuiltWarehouse("duckdb", root / "data", PERIOD[-1], path=path)
    members: dict[str, dict[datetime, Members]] = {segment: {} for segment in SEGMENTS}
    with environment(AUDIENCE_DUCKDB_PATH=str(path)):
        load_duckdb(path, root / "data")
        for day in [BEFORE, *PERIOD]:
            run_dbt(BUILD, target="duckdb", as_of=day)
            for segment in SEGMENTS:
                rows = warehouse.query(
                    "select contact_key, entered_at from marts.segment_membership "
                    f"where segment_id = '{segment}'"
                )
                members[segment][day] = dict(rows)
    return warehouse, members, root


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _changes(real: dict[datetime, Members]) -> None:
    """The test can fail: the segment's members move over the period."""
    assert len({frozenset(real[day]) for day in PERIOD}) > 1, real


def test_the_command_equals_the_daily_builds_member_for_member(daily_builds, tmp_path, capsys):
    warehouse, members, _ = daily_builds
    segment = SEGMENTS[0]
    real = members[segment]
    _changes(real)
    untouched = _digest(warehouse.path)
    listed = tmp_path / "members.json"
    argv = ["backtest", segment, "--days", "3", "--as-of", "2026-06-26", "--no-base"]
    with environment(AUDIENCE_DUCKDB_PATH=str(warehouse.path), AUDIENCE_OUTPUT_DIR=str(tmp_path)):
        code = cli.main([*argv, "--json", "--members", str(listed), "-q"])
    assert code == 0
    assert _digest(warehouse.path) == untouched  # the real warehouse is only read

    replayed = json.loads(listed.read_text())["this tree"]
    assert sorted(replayed) == [day.strftime(AS_OF_FORMAT) for day in PERIOD]
    for day in PERIOD:
        assert set(replayed[day.strftime(AS_OF_FORMAT)]) == set(real[day]), day
    figures = json.loads(capsys.readouterr().out)
    ours = figures["sides"][0]
    expected = daily_figures(set(real[BEFORE]), {d: real[d] for d in PERIOD})
    assert [DayFigures(**day) for day in ours["days"]] == expected
    assert figures["sides"][1]["name"] == "all contacts"
    # every entrant of the period is a spell the outcome query counted
    assert ours["outcomes"]["entrants"] == sum(day.entries for day in expected)
    # only the segment's path is rebuilt: the staging layer and the other segments are not
    assert segment in figures["models"]
    assert not any(m.startswith(("stg_", "base_")) for m in figures["models"])
    assert not {"customer", "nurture", SEGMENTS[1]} & set(figures["models"])
    assert (tmp_path / BACKTESTS / f"{segment}.html").is_file()
    # the copy it replayed on is gone
    assert not list((target_dir() / "backtest").rglob(warehouse.path.name))


def test_a_replay_reads_the_history_before_the_period_like_the_daily_builds(daily_builds):
    """fit_and_intent keeps a member on a lower exit threshold, which it reads from the
    history of the build before: the members and their entry instants are those of the
    daily builds, a member of the day before the period keeping the entry it had then."""
    warehouse, members, _ = daily_builds
    segment = SEGMENTS[1]
    real = members[segment]
    _changes(real)
    # where the command keeps its copy: the parse kept for it serves this replay too
    scratch = target_dir() / "backtest" / "after"
    replayed = replay(project_dir(), warehouse.path, scratch, segment, PERIOD, window_days=14)
    assert replayed.before == set(real[BEFORE])
    for day in PERIOD:
        assert replayed.members[day] == real[day], day
