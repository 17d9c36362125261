"""Incremental builds equal a full refresh of the same data, row for row.

Generated data is split by arrival day into a history folder and three daily folders. Two
warehouses load the history and build as of its end, then load each day and build as of that
day's end: one incrementally, the other with --full-refresh every time (so both hold the same
membership history, which segments with an exit threshold read). Some page views reach the
warehouse two days after they happened (inside the 3-day lookback), and the daily identify
calls merge devices into known people, so the incremental path has to pick up late events
and re-assign events the identity map moved.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from warehouses import environment

from audience.dbt import run_dbt
from audience.generator import generate
from audience.loader import LoadReport, load_dir
from audience.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 6, 30)
DAYS = [AS_OF - timedelta(days=n) for n in (2, 1, 0)]  # ends of the three daily loads
HISTORY_END = AS_OF - timedelta(days=3)
EVENT_TABLES = {"pages": "received_at", "tracks": "received_at", "identifies": "received_at"}
#: Page views that happened on the first daily load's day, delivered with the last one.
LATE_PAGE_VIEWS = 40

#: Relations compared, and columns left out: load times differ between two loads of the same
#: files (and never stand in for an arrival time, so received_at is compared), build ids
#: between two builds.
COMPARED = {
    "staging.base_segment__pages": ["_loaded_at"],
    "staging.base_segment__tracks": ["_loaded_at"],
    "staging.base_segment__identifies": ["_loaded_at"],
    "staging.base_esp__email_events": ["_loaded_at"],
    "intermediate.int_events_unioned": [],
    "intermediate.int_events_unified": [],
    "intermediate.int_contact_activity_daily": [],
    "intermediate.int_contact_visits": [],
    "intermediate.int_device_visits": [],
    "intermediate.int_email_deliveries": [],
    "intermediate.int_contact_features": [],
    "intermediate.int_email_suppression_events": [],
    "intermediate.int_contact_email_suppression": [],
    "intermediate.int_contact_scores": [],
    # the build that wrote the row (dbt's invocation id)
    "marts.contacts": ["build_id"],
    "marts.segment_membership": ["build_id"],
    "marts.segment_membership_history": [],
    "marts.segment_transitions": [],
}


def _split(generated: Path, out: Path) -> list[Path]:
    """Folders: history (arrived before HISTORY_END), then one per day in DAYS."""
    folders = [out / "history", *(out / f"day{n}" for n in range(1, len(DAYS) + 1))]
    for folder in folders:
        folder.mkdir(parents=True)
    bounds = [HISTORY_END, *DAYS]
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    for path in sorted(generated.glob("*.parquet")):
        table = path.stem
        if table not in {*EVENT_TABLES, "email_events"}:
            (folders[0] / path.name).write_bytes(path.read_bytes())
            continue
        column = EVENT_TABLES.get(table, "timestamp")
        occurred = "try_cast(try_cast(timestamp as timestamptz) as timestamp)"
        arrived = (
            f"coalesce(try_cast(try_cast({column} as timestamptz) as timestamp), "
            f"try_cast(try_cast(timestamp as timestamptz) as timestamp), timestamp '2000-01-01')"
        )
        con.execute(f"create or replace table t as select *, {arrived} as _arrived from '{path}'")
        if column == "received_at":
            # the lookback covers events up to 3 days late: cap the generated lateness at 2
            # days (test_events_later_than_the_lookback covers the rest)
            con.execute(
                f"""
                update t set
                    _arrived = {occurred} + interval 2 day,
                    received_at = strftime({occurred} + interval 2 day, '%Y-%m-%dT%H:%M:%SZ')
                where _arrived > {occurred} + interval 2 day
                """
            )
        if table == "pages":
            # late page views: happened on the first daily day, arrive with the last one
            con.execute(
                f"""
                update t set
                    received_at = '{DAYS[-1] - timedelta(hours=6):%Y-%m-%dT%H:%M:%SZ}',
                    _arrived = timestamp '{DAYS[-1] - timedelta(hours=6)}'
                where id in (
                    select id from t
                    where _arrived >= timestamp '{HISTORY_END}'
                        and _arrived < timestamp '{DAYS[0]}'
                    order by id limit {LATE_PAGE_VIEWS}
                )
                """
            )
        lower = "timestamp '1900-01-01'"
        for folder, upper in zip(folders, bounds, strict=True):
            target = folder / path.name
            con.execute(
                f"copy (select * exclude (_arrived) from t where _arrived >= {lower} "
                f"and _arrived < timestamp '{upper}') to '{target}' (format parquet)"
            )
            lower = f"timestamp '{upper}'"
    con.close()
    return folders


def _load(folder: Path, path: Path) -> LoadReport:
    warehouse = DuckDBWarehouse(path)
    try:
        return load_dir(folder, warehouse)
    finally:
        warehouse.close()


def _build(path: Path, as_of: datetime, *extra: str) -> None:
    with environment(AUDIENCE_DUCKDB_PATH=str(path)):
        run_dbt(
            ["build", "--exclude-resource-type", "test", "unit_test", *extra],
            target="duckdb",
            as_of=as_of,
        )


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Path]]:
    root = tmp_path_factory.mktemp("incremental")
    generate(root / "generated", people=300, seed=5, as_of=AS_OF)
    folders = _split(root / "generated", root / "split")

    # the same loads and builds, one warehouse incremental, the other rebuilt every day
    incremental, full = root / "incremental.duckdb", root / "full.duckdb"
    for path, extra in ((incremental, []), (full, ["--full-refresh"])):
        with environment(AUDIENCE_DUCKDB_PATH=str(path)):
            _load(folders[0], path)
            _build(path, HISTORY_END, *extra)
            for folder, day in zip(folders[1:], DAYS, strict=True):
                _load(folder, path)
                _build(path, day, *extra)
    return incremental, full, folders


def _count(path: Path, where: str) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            f"select count(*) from intermediate.int_events_unified where {where}"
        ).fetchone()[0]
    finally:
        con.close()


def _rows(con: duckdb.DuckDBPyConnection, relation: str, database: str, left_out: list[str]):
    exclude = f" exclude ({', '.join(left_out)})" if left_out else ""
    return f"select *{exclude} from {database}.{relation}"


def test_the_split_has_late_events_and_new_identities(warehouses):
    incremental, _, _ = warehouses
    con = duckdb.connect(str(incremental), read_only=True)
    try:
        late = con.execute(
            "select count(*) from staging.stg_segment__pages "
            "where cast(received_at as date) - cast(occurred_at as date) >= 2"
        ).fetchone()[0]
        daily_identifies = con.execute(
            "select count(*) from raw.identifies where _source_file like '%day%'"
        ).fetchone()[0]
    finally:
        con.close()
    assert late >= LATE_PAGE_VIEWS
    assert daily_identifies > 0


@pytest.mark.parametrize("relation", sorted(COMPARED))
def test_incremental_build_equals_full_refresh(warehouses, relation):
    incremental, full, _ = warehouses
    con = duckdb.connect()
    con.execute(f"attach '{incremental}' as inc (read_only)")
    con.execute(f"attach '{full}' as ful (read_only)")
    try:
        left = _rows(con, relation, "inc", COMPARED[relation])
        right = _rows(con, relation, "ful", COMPARED[relation])
        total = con.execute(f"select count(*) from ({right})").fetchone()[0]
        only_incremental = con.execute(
            f"select count(*) from ({left} except all {right})"
        ).fetchone()[0]
        only_full = con.execute(f"select count(*) from ({right} except all {left})").fetchone()[0]
    finally:
        con.close()
    assert total > 0
    assert (only_incremental, only_full) == (0, 0), (
        f"{relation}: {only_incremental} rows only in the incremental build, "
        f"{only_full} only in the full refresh (of {total})"
    )


def test_events_later_than_the_lookback_wait_for_a_full_refresh(warehouses, tmp_path):
    """The lookback's trade-off, made visible: an event that arrives 10 days after it
    happened is outside the incremental window; a full refresh counts it."""
    incremental, _, _ = warehouses
    occurred = AS_OF - timedelta(days=10)
    con = duckdb.connect()
    con.execute(
        f"""
        copy (
            select 'very-late-view' as id, 'late-device' as anonymous_id, null as user_id,
                '{occurred:%Y-%m-%dT%H:%M:%SZ}' as timestamp,
                '{AS_OF - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}' as received_at,
                'https://www.acmesoft.example/pricing' as url, '/pricing' as path
        ) to '{tmp_path / "pages.parquet"}' (format parquet)
        """
    )
    con.close()

    def counted() -> int:
        return _count(incremental, "event_id = 'page:very-late-view'")

    with environment(AUDIENCE_DUCKDB_PATH=str(incremental)):
        _load(tmp_path, incremental)
        _build(incremental, AS_OF)
        assert counted() == 0
        _build(incremental, AS_OF, "--full-refresh")
        assert counted() == 1


def test_reloading_a_file_rebuilds_every_incremental_model(warehouses, tmp_path):
    """A re-loaded file replaces raw rows of any age: the next build starts over, so the
    page views the new version of the history file leaves out are gone everywhere."""
    incremental, _, folders = warehouses
    history_pages = folders[0] / "pages.parquet"
    con = duckdb.connect()
    con.execute(f"create table t as select * from '{history_pages}'")
    dropped = con.execute("select id from t order by id limit 25").fetchall()
    con.execute("delete from t where id in (select id from t order by id limit 25)")
    con.execute(f"copy t to '{history_pages}' (format parquet)")
    con.close()
    ids = ", ".join(f"'page:{row[0]}'" for row in dropped)
    assert _count(incremental, f"event_id in ({ids})") > 0

    with environment(AUDIENCE_DUCKDB_PATH=str(incremental)):
        report = _load(folders[0], incremental)
        assert sum(load.replaced for load in report.loads) > 0
        _build(incremental, AS_OF)
    assert _count(incremental, f"event_id in ({ids})") == 0
