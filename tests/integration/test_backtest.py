"""`audience backtest`: the replay of a segment equals, instant for instant, the membership
the real daily builds of those instants wrote, and leaves the real warehouse as it was.

Demo data is built day by day (a day before the period, so the replay starts from a
history, then each day of the period); the backtest then replays the period on a copy of the
warehouse as the last build left it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest
from warehouses import BUILD, BuiltWarehouse

from audience.backtest import daily_figures, replay, segment_figures
from audience.dbt import run_dbt
from audience.generator import generate
from audience.loader import load_dir
from audience.project import environment, project_dir
from audience.warehouse import DuckDBWarehouse

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
        loader = DuckDBWarehouse(path)
        try:
            load_dir(root / "data", loader)
        finally:
            loader.close()
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


@pytest.mark.parametrize("segment", SEGMENTS)
def test_replay_equals_the_daily_builds_member_for_member(daily_builds, segment):
    warehouse, members, root = daily_builds
    real = members[segment]
    # the test can fail: the segment's members move over the period
    assert len({frozenset(real[day]) for day in PERIOD}) > 1, real
    untouched = _digest(warehouse.path)

    replayed = replay(
        project_dir(), warehouse.path, root / "replay", segment, PERIOD, window_days=14
    )

    assert _digest(warehouse.path) == untouched  # the real warehouse is only read
    assert sorted(replayed.members) == PERIOD
    for day in PERIOD:
        # the same members, each entered when the real history says (a member of the day
        # before the period keeps the entry it had then)
        assert replayed.members[day] == real[day], day
    assert replayed.before == set(real[BEFORE])
    figures = segment_figures("replay", replayed)
    assert figures.days == daily_figures(set(real[BEFORE]), {d: real[d] for d in PERIOD})
    # only the segment's path is rebuilt: the staging layer and the other segments are not
    assert segment in replayed.built
    assert not any(m.startswith(("stg_", "base_")) for m in replayed.built)
    assert not {"customer", "nurture"} & set(replayed.built)
    # every entrant of the period is a spell the outcome query counted
    entrants = sum(day.entries for day in figures.days)
    assert replayed.outcomes["segment"]["entrants"] == entrants
