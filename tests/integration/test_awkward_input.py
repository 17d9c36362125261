"""Awkward input on PostgreSQL: the same rows as on DuckDB.

The DuckDB side of the loader's cases is tests/unit/test_loader_awkward_input.py.
"""

from __future__ import annotations

import pytest
from awkward import (
    NUL_FREE_IDENTIFIES,
    NUL_FREE_PAGES,
    NUL_FREE_TRACKS,
    TRACKS_HEADER,
    nul_folder,
)

from audience.loader import LoadError, load_dir
from audience.warehouse import PostgresWarehouse

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
        with pytest.raises(LoadError, match=r"^pages\.parquet: the file is empty \(0 bytes\)"):
            load_dir(data, warehouse)
        # refused: nothing written
        assert warehouse.query("select count(*) from raw.tracks") == [(0,)]
    finally:
        warehouse.close()
    assert report.warnings == [
        "tracks.csv is empty (0 bytes): loaded as 0 rows of raw.tracks "
        "(1 row taken out: the rows it loaded before)",
        "identifies.jsonl is empty (0 bytes): loaded as 0 rows of raw.identifies",
    ]
