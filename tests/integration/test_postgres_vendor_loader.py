"""Vendor exports on PostgreSQL: the same rows, columns and text as on DuckDB.

The DuckDB side: tests/unit/test_loader_vendor_samples.py and test_loader_files.py.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from vendor_samples import (
    SAMPLES,
    copy_sample,
    count_rows,
    drop_last_row,
    expected_counts,
    table_of,
)

from audience.loader import load_dir
from audience.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse

pytestmark = pytest.mark.postgres


def held(warehouse: Warehouse, schema: str, table: str) -> list[tuple[Any, ...]]:
    """Every row of a table but its load time, in file and row order."""
    columns = [c for c in warehouse.column_names(schema, table) if c != "_loaded_at"]
    quoted = ", ".join(f'"{c}"' for c in columns)
    return warehouse.query(
        f'select {quoted} from {schema}."{table}" order by _source_file, _source_row_number'
    )


def counts(warehouse: Warehouse, schema: str, tables: list[str]) -> dict[str, int]:
    return {t: warehouse.query(f'select count(*) from {schema}."{t}"')[0][0] for t in tables}


@pytest.mark.parametrize("name", ["sendgrid", "ga4", "transactions", "snowplow"])
def test_a_sample_lands_on_postgres_as_on_duckdb(name: str, pg_database: str, tmp_path: Path):
    sample = SAMPLES[name]
    data = copy_sample(sample, tmp_path)
    expected = expected_counts(data)
    tables = sorted(expected)
    postgres = PostgresWarehouse(pg_database)
    duck = DuckDBWarehouse(tmp_path / "wh.duckdb")
    try:
        for warehouse in (postgres, duck):
            report = load_dir(data, warehouse, source=sample.source)
            assert report.errors == []
        assert counts(postgres, sample.schema, tables) == expected
        for table in tables:
            assert postgres.column_names(sample.schema, table) == duck.column_names(
                sample.schema, table
            )
            assert held(postgres, sample.schema, table) == held(duck, sample.schema, table)

        again = load_dir(data, postgres, source=sample.source)
        assert {x.status for x in again.loads} == {"unchanged"}

        changed = data / sample.changed
        before = count_rows(changed)
        drop_last_row(changed)
        third = load_dir(data, postgres, source=sample.source)
        assert (sample.changed, "loaded", before - 1, before) in {
            (x.file_name, x.status, x.rows, x.replaced) for x in third.loads
        }
        expected[table_of(changed)] -= 1
        assert counts(postgres, sample.schema, tables) == expected
        logged = postgres.query("select distinct table_name from raw._load_log order by 1")
        assert logged == [(f"{sample.schema}.{t}",) for t in tables]
    finally:
        postgres.close()
        duck.close()


def test_folders_partitions_new_columns_and_bad_files_on_postgres(pg_database, tmp_path):
    data = tmp_path / "data"
    (data / "events" / "dt=2024-06-01").mkdir(parents=True)
    pq.write_table(
        pa.table({"Event ID": ["e1", "e2"], "params": [[{"k": "a"}], []]}),
        data / "events" / "dt=2024-06-01" / "part-0.parquet",
    )
    (data / "events" / "dt=2024-06-02").mkdir()
    (data / "events" / "dt=2024-06-02" / "part-0.jsonl.gz").write_bytes(
        gzip.compress(b'{"event_id": "e3", "tags": ["x"], "NUL": "a\\u0000b"}\n')
    )
    (data / "broken.parquet").write_bytes(b"PAR1")
    (data / "ragged.csv").write_text("a,b\n" + "1,2\n" * 30_000 + "1,2,3\n")
    warehouse = PostgresWarehouse(pg_database)
    try:
        report = load_dir(data, warehouse, source="klaviyo")
        assert sorted(e.split(":")[0] for e in report.errors) == ["broken.parquet", "ragged.csv"]
        assert warehouse.column_names("raw_klaviyo", "events") == [
            "event_id",
            "params",
            "dt",
            "tags",
            "nul",
            "_source_file",
            "_source_row_number",
            "_loaded_at",
        ]
        assert warehouse.query(
            "select event_id, params, dt, tags, nul from raw_klaviyo.events order by 1"
        ) == [
            ("e1", '[{"k":"a"}]', "2024-06-01", None, None),
            ("e2", "[]", "2024-06-01", None, None),
            ("e3", None, "2024-06-02", '["x"]', "ab"),
        ]
        assert [x.relation for x in report.loads if x.status == "refused"] == [
            "raw_klaviyo.broken",
            "raw_klaviyo.ragged",
        ]
        assert warehouse.query(
            "select count(*) from information_schema.tables where table_schema = 'raw_klaviyo'"
        ) == [(1,)]
    finally:
        warehouse.close()
