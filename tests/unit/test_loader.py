from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from audience.contract import RAW_TABLES
from audience.loader import LoadError, discover, load_dir
from audience.warehouse import DuckDBWarehouse

TINY = Path(__file__).parents[1] / "fixtures" / "tiny"


@pytest.fixture
def warehouse(tmp_path):
    wh = DuckDBWarehouse(tmp_path / "wh.duckdb")
    yield wh
    wh.close()


def copy_tiny(tmp_path: Path, *names: str) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name in names or [p.name for p in TINY.iterdir()]:
        shutil.copy(TINY / name, data / name)
    return data


def count(wh: DuckDBWarehouse, table: str) -> int:
    return wh.query(f"select count(*) from raw.{table}")[0][0]


def test_missing_required_column_names_file_and_columns(tmp_path, warehouse):
    data = tmp_path / "data"
    data.mkdir()
    (data / "tracks.csv").write_text("id,anonymous_id,event,timestamp\nt1,a1,signup,2026-01-01\n")
    with pytest.raises(LoadError) as error:
        load_dir(data, warehouse)
    message = str(error.value)
    assert "tracks.csv" in message
    assert "user_id" in message and "received_at" in message
    # nothing was written: the check runs before any load
    assert warehouse.query(
        "select count(*) from information_schema.tables where table_schema = 'raw'"
    ) == [(0,)]


def test_loading_the_same_folder_twice_does_not_double(tmp_path, warehouse):
    data = copy_tiny(tmp_path)
    first = load_dir(data, warehouse)
    second = load_dir(data, warehouse)
    assert first.rows_loaded == second.rows_loaded == 42
    assert count(warehouse, "pages") == 13
    assert count(warehouse, "email_events") == 8
    # the second load found the same bytes and wrote nothing (no new load time either)
    assert {load.status for load in second.loads if load.source_file} == {"unchanged"}
    assert warehouse.query("select count(*) from raw._load_log")[0][0] == 6


def test_a_new_file_appends_and_replace_reloads(tmp_path, warehouse):
    load_dir(copy_tiny(tmp_path, "pages.csv"), warehouse)
    later = tmp_path / "later"
    later.mkdir()
    (later / "pages.csv").write_text(
        "id,anonymous_id,user_id,timestamp,received_at,url,path\n"
        "p100,a1,,2026-06-20T00:00:00Z,2026-06-20T00:00:01Z,https://x.example/,/\n"
    )
    load_dir(later, warehouse)
    assert count(warehouse, "pages") == 14
    load_dir(later, warehouse, replace=True)
    assert count(warehouse, "pages") == 1


def test_extra_columns_are_ignored_and_optional_ones_filled(tmp_path, warehouse):
    data = tmp_path / "data"
    data.mkdir()
    (data / "pages.csv").write_text(
        "ID,anonymous_id,user_id,timestamp,received_at,url,path,context_ip\n"
        "p1,a1,,2026-06-20T00:00:00Z,2026-06-20T00:00:01Z,https://x.example/a,/a,10.0.0.1\n"
    )
    load_dir(data, warehouse)
    columns = [
        r[0]
        for r in warehouse.query(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'pages' order by ordinal_position"
        )
    ]
    assert columns == [
        *RAW_TABLES["pages"].columns,
        "_source_file",
        "_source_row_number",
        "_loaded_at",
    ]
    assert warehouse.query("select id, title, _source_row_number from raw.pages") == [
        ("p1", None, 1)
    ]


def test_tables_not_provided_exist_empty(tmp_path, warehouse):
    report = load_dir(copy_tiny(tmp_path, "pages.csv"), warehouse)
    statuses = {load.table: load.status for load in report.loads}
    assert statuses["pages"] == "loaded"
    assert statuses["intent_signals"] == "not_provided"
    assert count(warehouse, "intent_signals") == 0


def test_jsonl_keeps_nested_objects_as_json_text(tmp_path, warehouse):
    data = tmp_path / "data"
    data.mkdir()
    rows = [
        {
            "id": "i1",
            "anonymous_id": "a1",
            "user_id": "u1",
            "email": "x@y.com",
            "timestamp": "2026-06-01T00:00:00Z",
            "traits": {"email": "x@y.com", "loyalty_tier": "gold"},
        }
    ]
    (data / "identifies.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    load_dir(data, warehouse)
    traits = warehouse.query("select traits from raw.identifies")[0][0]
    assert json.loads(traits) == {"email": "x@y.com", "loyalty_tier": "gold"}


def test_parquet_values_are_landed_as_text(tmp_path, warehouse):
    data = tmp_path / "data"
    data.mkdir()
    duckdb.sql(
        "select 'C1' as company_id, date '2026-06-01' as usage_date, 12 as active_users, "
        "340 as key_actions"
    ).write_parquet(str(data / "product_usage.parquet"))
    load_dir(data, warehouse)
    assert warehouse.query("select usage_date, active_users from raw.product_usage") == [
        ("2026-06-01", "12")
    ]


def test_two_files_of_one_table_both_load(tmp_path, warehouse):
    data = copy_tiny(tmp_path, "pages.csv")
    row = {
        "id": "p900",
        "anonymous_id": "a9",
        "user_id": None,
        "timestamp": "2026-06-20T00:00:00Z",
        "received_at": "2026-06-20T00:00:01Z",
        "url": "https://x.example/",
        "path": "/",
    }
    (data / "pages.jsonl").write_text(json.dumps(row) + "\n")
    files, _ = discover(data)
    assert [f.name for f in files["pages"]] == ["pages.csv", "pages.jsonl"]
    report = load_dir(data, warehouse)
    assert [(x.file_name, x.rows) for x in report.loads if x.table == "pages"] == [
        ("pages.csv", 13),
        ("pages.jsonl", 1),
    ]
    assert warehouse.query("select count(*), count(distinct _source_file) from raw.pages") == [
        (14, 2)
    ]


def test_other_files_are_ignored_and_an_empty_folder_fails(tmp_path, warehouse):
    data = copy_tiny(tmp_path, "pages.csv")
    (data / "README.md").write_text("notes")
    (data / "visits.csv").write_text("a\n1\n")
    (data / "_manifest.json").write_text("{}")
    files, ignored = discover(data)
    assert list(files) == ["pages"]
    assert ignored == ["README.md", "visits.csv"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(LoadError, match="no raw contract files"):
        load_dir(empty, warehouse)
