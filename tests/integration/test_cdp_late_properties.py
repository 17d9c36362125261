"""A CDP export whose event tables land after its tracks (a second export, a destination that
syncs tables one by one): the staging built before them holds the tracks without properties;
the build after them holds each track once, with its properties, as a build of everything at
once does. On the RudderStack export of tests/fixtures/rudderstack, staging models only."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from cdp_exports import Export
from warehouses import FIXTURES, BuiltWarehouse, environment

from audience.dbt import run_dbt
from audience.loader import load_dir
from audience.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.slow

EXPORT = Export(FIXTURES / "rudderstack")
AS_OF = datetime(2024, 7, 1)
STAGING = ["build", "--select", "+stg_segment__tracks", "--exclude", "resource_type:test"]
TRACKS = (
    "select track_id, _source_row_number, properties, quarantine_reason "
    "from staging.base_segment__tracks"
)


def split_export(root: Path) -> tuple[Path, Path]:
    """The export as two folders: tracks.csv, then the event tables."""
    first, later = root / "first", root / "later"
    first.mkdir()
    later.mkdir()
    shutil.copyfile(EXPORT.folder / "tracks.csv", first / "tracks.csv")
    for name in EXPORT.event_tables():
        shutil.copyfile(EXPORT.folder / f"{name}.csv", later / f"{name}.csv")
    return first, later


def staged_tracks(warehouse: BuiltWarehouse) -> dict[tuple[str, int], tuple]:
    rows = warehouse.query(TRACKS)
    keyed = {(r[0], r[1]): (None if r[2] is None else json.loads(r[2]), r[3]) for r in rows}
    assert len(keyed) == len(rows)
    return keyed


def load_and_build(path: Path, folders: list[Path]) -> BuiltWarehouse:
    with environment(AUDIENCE_DUCKDB_PATH=str(path)):
        for folder in folders:
            warehouse = DuckDBWarehouse(path)
            try:
                load_dir(folder, warehouse, source="rudderstack")
            finally:
                warehouse.close()
        run_dbt(STAGING, target="duckdb", as_of=AS_OF)
    return BuiltWarehouse("duckdb", folders[0], AS_OF, path=path)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("late_properties")
    first, later = split_export(root)
    stepwise = load_and_build(root / "stepwise.duckdb", [first])
    before = staged_tracks(stepwise)
    after = staged_tracks(load_and_build(root / "stepwise.duckdb", [later]))
    at_once = staged_tracks(load_and_build(root / "at_once.duckdb", [first, later]))
    return {"before": before, "after": after, "at_once": at_once}


def test_tracks_staged_before_their_event_tables_have_no_properties(builds: dict) -> None:
    assert len(builds["before"]) == len(EXPORT.table("tracks"))
    assert {properties for properties, _ in builds["before"].values()} == {None}


def test_the_properties_reach_the_tracks_when_their_tables_land(builds: dict) -> None:
    after = builds["after"]
    assert after == builds["at_once"]
    # the order whose row is only in its event table joins the tracks
    assert len(after) == EXPORT.track_rows() == len(builds["before"]) + 1
    properties = {track_id: p for (track_id, _), (p, reason) in after.items() if reason is None}
    assert properties["r-t02"]["revenue"] == "89.5"
    assert properties["r-t06"]["order_id"] == "o-5002"
