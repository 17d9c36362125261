"""Awkward input on PostgreSQL: the same rows as on DuckDB.

The DuckDB side of the loader's cases is tests/unit/test_loader_awkward_input.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from awkward import (
    AWKWARD_TIMESTAMPS,
    NUL_FREE_IDENTIFIES,
    NUL_FREE_PAGES,
    NUL_FREE_TRACKS,
    TRACKS_HEADER,
    awkward_timestamps_folder,
    nul_folder,
)
from warehouses import TINY_AS_OF, BuiltWarehouse, environment, postgres_database

from audience.dbt import run_dbt
from audience.loader import LoadError, load_dir
from audience.warehouse import PostgresWarehouse, connect

pytestmark = pytest.mark.postgres


def test_nul_characters_load_on_postgres_as_on_duckdb(pg_database, tmp_path):
    warehouse = PostgresWarehouse(pg_database)
    try:
        load_dir(nul_folder(tmp_path), warehouse)
        tracks = warehouse.query("select id, event, properties from raw.tracks order by id")
        identifies = warehouse.query("select id, email, traits from raw.identifies order by id")
        pages = warehouse.query("select id, title from raw.pages order by id")
        # jsonb takes the JSON text that is left
        valid = warehouse.query(
            "select count(*) from raw.tracks where (properties::jsonb ->> 'k') is not null"
        )
    finally:
        warehouse.close()
    assert tracks == NUL_FREE_TRACKS
    assert identifies == NUL_FREE_IDENTIFIES
    assert pages == NUL_FREE_PAGES
    assert valid == [(3,)]


def test_empty_files_on_postgres(pg_database, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "tracks.csv").write_text(TRACKS_HEADER + "t1,a1,,Signed Up,2026-06-01,2026-06-01,\n")
    (data / "identifies.jsonl").write_bytes(b"")
    warehouse = PostgresWarehouse(pg_database)
    try:
        load_dir(data, warehouse)
        (data / "tracks.csv").write_bytes(b"")
        report = load_dir(data, warehouse)
        assert warehouse.query("select count(*) from raw.tracks") == [(0,)]
        (data / "pages.parquet").write_bytes(b"")
        (data / "tracks.csv").write_text(TRACKS_HEADER + "t2,a1,,Signed Up,2026-06-01,,\n")
        refused = load_dir(data, warehouse)
        # the truncated parquet is refused; the good files load
        assert [e.split(": ")[0] for e in refused.errors] == ["pages.parquet"]
        assert refused.errors[0].startswith("pages.parquet: the file is empty (0 bytes)")
        assert warehouse.query("select id from raw.tracks") == [("t2",)]
        assert warehouse.query("select count(*) from raw.pages") == [(0,)]
        (data / "tracks.csv").unlink()
        (data / "identifies.jsonl").unlink()
        with pytest.raises(LoadError, match=r"^pages\.parquet: the file is empty \(0 bytes\)"):
            load_dir(data, warehouse)
    finally:
        warehouse.close()
    # identifies.jsonl is the same empty file as at the first load (warned about then)
    assert [x.status for x in report.loads if x.table == "identifies"] == ["unchanged"]
    assert report.warnings == [
        "tracks.csv is empty (0 bytes): loaded as 0 rows of raw.tracks "
        "(1 row taken out: the rows it loaded before)",
    ]


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def awkward_timestamps(request, tmp_path_factory) -> Iterator[BuiltWarehouse]:
    """AWKWARD_TIMESTAMPS loaded and staged (the tracks base model and what it needs)."""
    root = tmp_path_factory.mktemp("awkward_timestamps")
    data = awkward_timestamps_folder(root)
    if request.param == "duckdb":
        yield stage(BuiltWarehouse("duckdb", data, TINY_AS_OF, path=root / "wh.duckdb"))
        return
    with postgres_database() as database:
        yield stage(BuiltWarehouse("postgres", data, TINY_AS_OF, database=database))


def stage(built: BuiltWarehouse) -> BuiltWarehouse:
    settings = (
        {"AUDIENCE_DUCKDB_PATH": str(built.path)}
        if built.target == "duckdb"
        else {"PGDATABASE": str(built.database)}
    )
    with environment(**settings):
        warehouse = connect(built.target)
        try:
            load_dir(built.data_dir, warehouse)
        finally:
            warehouse.close()
        run_dbt(
            ["build", "--select", "+base_segment__tracks"], target=built.target, as_of=built.as_of
        )
    return built


def test_awkward_timestamps_are_parsed_or_quarantined_alike_on_every_engine(awkward_timestamps):
    rows = awkward_timestamps.query(
        "select track_id, occurred_at, quarantine_reason from staging.base_segment__tracks "
        "order by track_id"
    )
    found = [(i, None if at is None else str(at), reason) for i, at, reason in rows]
    expected = [(i, at, reason) for i, _, at, reason in AWKWARD_TIMESTAMPS]
    assert found == expected


def test_a_full_disk_on_postgres_is_reported_and_nothing_is_loaded(pg_database, tmp_path):
    import psycopg2
    import pyarrow as pa

    class FullDisk(PostgresWarehouse):
        """PostgreSQL out of disk during the tracks COPY; the rollback fails too."""

        def insert_arrow(self, schema: str, table: str, data: pa.Table) -> None:
            if table == "tracks":
                raise psycopg2.errors.DiskFull(
                    'could not extend file "base/16384/16385": No space left on device'
                )
            super().insert_arrow(schema, table, data)

        def rollback(self) -> None:
            raise psycopg2.InterfaceError("connection already closed")

    data = tmp_path / "data"
    data.mkdir()
    (data / "tracks.csv").write_text(TRACKS_HEADER + "t1,a1,,Signed Up,2026-06-01,,\n")
    (data / "pages.csv").write_text(
        "id,anonymous_id,user_id,timestamp,received_at,url,path\np1,a1,,2026-06-01,,/,/\n"
    )
    warehouse = FullDisk(pg_database)
    try:
        with pytest.raises(LoadError) as error:
            load_dir(data, warehouse)
    finally:
        warehouse.close()
    assert str(error.value) == (
        "the warehouse disk is full (No space left on device) while loading tracks.csv; "
        "nothing was loaded; free space and load again"
    )
    assert isinstance(error.value.__cause__, psycopg2.errors.DiskFull)
    warehouse = PostgresWarehouse(pg_database)
    try:
        counts = warehouse.query(
            "select (select count(*) from raw.pages), (select count(*) from raw.tracks), "
            "(select count(*) from raw._load_log)"
        )
    finally:
        warehouse.close()
    assert counts == [(0, 0, 0)]
