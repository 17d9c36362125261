"""Every file of a table: gzip, date shards, folders of parts, hive partitions; a vendor's
columns growing from file to file; every bad file reported in one pass."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audience import cli
from audience.loader import (
    LINEAGE_COLUMNS,
    LoadError,
    column_name,
    discover,
    load_dir,
    unique_names,
)
from audience.sources import SOURCES, VENDOR_SOURCES, UnknownSource, get_source
from audience.warehouse import DuckDBWarehouse

TINY = Path(__file__).parents[1] / "fixtures" / "tiny"
PAGES_HEADER = "id,anonymous_id,user_id,timestamp,received_at,url,path\n"


def page(n: int) -> str:
    return f"p{n},a{n},,2026-06-0{1 + n % 9}T00:00:00Z,2026-06-01T00:00:01Z,https://x.example/{n},/{n}\n"


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBWarehouse]:
    wh = DuckDBWarehouse(tmp_path / "wh.duckdb")
    yield wh
    wh.close()


def rows(warehouse: DuckDBWarehouse, sql: str) -> list[tuple[Any, ...]]:
    return warehouse.query(sql)


def write_parquet(path: Path, columns: dict[str, list[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "landed"),
    [
        ("Email Opt Out", "email_opt_out"),
        ("HasOptedOutOfEmail", "hasoptedoutofemail"),
        ("smtp-id", "smtp_id"),
        ("\ufeffId", "id"),
        ("Prénom", "pr_nom"),
        ("", "column"),
    ],
)
def test_column_names_are_lower_cased_with_other_characters_as_underscores(written, landed):
    assert column_name(written) == landed


def test_names_that_collide_get_a_number_and_stay_within_63_characters():
    long = "x" * 70
    assert unique_names(["Email", "email", "E-mail", "e_mail", "_source_file", long, long]) == [
        "email",
        "email_2",
        "e_mail",
        "e_mail_2",
        "_source_file_2",
        "x" * 63,
        "x" * 61 + "_2",
    ]


def test_the_source_registry():
    assert list(VENDOR_SOURCES) == [
        "segment",
        "rudderstack",
        "snowplow",
        "ga4",
        "sendgrid",
        "hubspot",
        "marketo",
        "mailchimp",
        "klaviyo",
        "salesforce",
        "transactions",
    ]
    assert get_source("contract").schema == "raw" and get_source("contract").is_contract
    assert {s.schema for s in VENDOR_SOURCES.values()} == {f"raw_{n}" for n in VENDOR_SOURCES}
    assert all(s.description for s in SOURCES.values())
    assert "txt" in get_source("transactions").formats
    assert "txt" not in get_source("segment").formats
    with pytest.raises(UnknownSource, match="unknown source 'fivetran'; the known sources are: "):
        get_source("fivetran")


# --- every file of a table --------------------------------------------------------------------


def test_gzipped_csv_and_jsonl_load_as_their_table(tmp_path, warehouse):
    data = tmp_path / "data"
    data.mkdir()
    (data / "pages.csv.gz").write_bytes(gzip.compress((PAGES_HEADER + page(1) + page(2)).encode()))
    identify = {"id": "i1", "anonymous_id": "a1", "user_id": "u1", "email": "x@y.com"}
    identify |= {"timestamp": "2026-06-01T00:00:00Z", "traits": {"plan": "pro"}}
    (data / "identifies.jsonl.gz").write_bytes(gzip.compress(json.dumps(identify).encode()))
    (data / "tracks.csv.gz").write_bytes(gzip.compress(b""))  # an empty export, gzipped
    report = load_dir(data, warehouse)
    loads = {x.table: (x.status, x.rows) for x in report.loads}
    assert loads["pages"] == ("loaded", 2) and loads["identifies"] == ("loaded", 1)
    assert loads["tracks"] == ("loaded", 0)
    assert report.warnings == ["tracks.csv.gz has no rows: loaded as 0 rows of raw.tracks"]
    assert rows(warehouse, "select traits from raw.identifies") == [('{"plan":"pro"}',)]
    assert {x.status for x in load_dir(data, warehouse).loads if x.source_file} == {"unchanged"}


def test_a_folder_of_parts_and_date_shards_are_one_table_file_by_file(tmp_path, warehouse):
    data = tmp_path / "data"
    (data / "pages").mkdir(parents=True)
    (data / "pages" / "part-0001.csv").write_text(PAGES_HEADER + page(1) + page(2))
    (data / "pages" / "part-0002.csv.gz").write_bytes(
        gzip.compress((PAGES_HEADER + page(3)).encode())
    )
    (data / "pages" / "_SUCCESS").write_text("")
    (data / "pages" / ".part-0001.csv.crc").write_text("")
    (data / "pages" / "notes.md").write_text("")
    (data / "pages_20260602.csv").write_text(PAGES_HEADER + page(4))
    files, ignored = discover(data)
    assert [f.name for f in files["pages"]] == [
        "pages/part-0001.csv",
        "pages/part-0002.csv.gz",
        "pages_20260602.csv",
    ]
    assert ignored == ["pages/notes.md"]
    report = load_dir(data, warehouse)
    assert [(x.file_name, x.rows) for x in report.loads if x.table == "pages"] == [
        ("pages/part-0001.csv", 2),
        ("pages/part-0002.csv.gz", 1),
        ("pages_20260602.csv", 1),
    ]
    held = rows(
        warehouse,
        "select id, _source_row_number, _source_file from raw.pages order by id",
    )
    assert [(i, n, Path(f).name) for i, n, f in held] == [
        ("p1", 1, "part-0001.csv"),
        ("p2", 2, "part-0001.csv"),
        ("p3", 1, "part-0002.csv.gz"),
        ("p4", 1, "pages_20260602.csv"),
    ]
    # one part changes: only its rows are replaced; the others are unchanged
    (data / "pages" / "part-0001.csv").write_text(PAGES_HEADER + page(1))
    again = load_dir(data, warehouse)
    assert [(x.file_name, x.status, x.rows, x.replaced) for x in again.loads if x.source_file] == [
        ("pages/part-0001.csv", "loaded", 1, 2),
        ("pages/part-0002.csv.gz", "unchanged", 1, 0),
        ("pages_20260602.csv", "unchanged", 1, 0),
    ]
    assert rows(warehouse, "select count(*) from raw.pages") == [(3,)]
    # --replace empties the table once, then loads every part
    replaced = load_dir(data, warehouse, replace=True)
    assert [(x.rows, x.replaced) for x in replaced.loads if x.source_file] == [
        (1, 3),
        (1, 0),
        (1, 0),
    ]
    assert rows(warehouse, "select count(*) from raw.pages") == [(3,)]


def test_hive_partitions_are_columns_of_a_vendor_table(tmp_path, warehouse):
    data = tmp_path / "data"
    for day, ids in (("2024-06-01", ["e1", "e2"]), ("2024-06-02", ["e3"])):
        write_parquet(
            data / "events" / f"dt={day}" / "region=eu%2Dwest" / "part-0.parquet",
            {"event_id": ids, "props": [{"k": i} for i in ids]},
        )
    write_parquet(
        data / "events" / "dt=__HIVE_DEFAULT_PARTITION__" / "part-0.parquet",
        {"event_id": ["e4"], "props": [{"k": "e4"}], "DT": ["from the file"]},
    )
    report = load_dir(data, warehouse, source="segment")
    assert [(x.file_name.split("/")[1], x.rows) for x in report.loads] == [
        ("dt=2024-06-01", 2),
        ("dt=2024-06-02", 1),
        ("dt=__HIVE_DEFAULT_PARTITION__", 1),
    ]
    assert warehouse.column_names("raw_segment", "events") == [
        "event_id",
        "props",
        "dt",
        "region",
        *LINEAGE_COLUMNS,
    ]
    assert rows(
        warehouse, "select event_id, props, dt, region from raw_segment.events order by 1"
    ) == [
        ("e1", '{"k":"e1"}', "2024-06-01", "eu-west"),
        ("e2", '{"k":"e2"}', "2024-06-01", "eu-west"),
        ("e3", '{"k":"e3"}', "2024-06-02", "eu-west"),
        ("e4", '{"k":"e4"}', "from the file", None),  # the file's own dt wins
    ]


def test_hive_partitions_fill_contract_columns_and_are_ignored_otherwise(tmp_path, warehouse):
    data = tmp_path / "data"
    write_parquet(
        data / "product_usage" / "usage_date=2026-06-01" / "batch=7" / "part-0.parquet",
        {"company_id": ["C1"], "active_users": [3], "key_actions": [40]},
    )
    load_dir(data, warehouse)
    assert warehouse.column_names("raw", "product_usage")[:4] == [
        "company_id",
        "usage_date",
        "active_users",
        "key_actions",
    ]
    assert rows(
        warehouse, "select company_id, usage_date, active_users from raw.product_usage"
    ) == [("C1", "2026-06-01", "3")]


def test_a_vendor_table_grows_new_columns_and_older_files_keep_nulls(tmp_path, warehouse):
    data = tmp_path / "data"
    data.mkdir()
    (data / "contacts_20240601.csv").write_text("Id,Email\nK1,a@x.com\n")
    load_dir(data, warehouse, source="hubspot")
    (data / "contacts_20240602.csv").write_text(
        "Id,Email Opt Out,HasOptedOutOfEmail\nK2,true,false\n"
    )
    (data / "contacts_20240603.jsonl").write_text(
        json.dumps({"id": "K3", "tags": ["a", "b"], "address": {"city": "Paris"}}) + "\n"
    )
    report = load_dir(data, warehouse, source="hubspot")
    assert [(x.file_name, x.status) for x in report.loads] == [
        ("contacts_20240601.csv", "unchanged"),
        ("contacts_20240602.csv", "loaded"),
        ("contacts_20240603.jsonl", "loaded"),
    ]
    assert warehouse.column_names("raw_hubspot", "contacts") == [
        "id",
        "email",
        *LINEAGE_COLUMNS,
        "email_opt_out",
        "hasoptedoutofemail",
        "tags",
        "address",
    ]
    assert rows(
        warehouse,
        "select id, email, email_opt_out, hasoptedoutofemail, tags, address "
        "from raw_hubspot.contacts order by id",
    ) == [
        ("K1", "a@x.com", None, None, None, None),
        ("K2", None, "true", "false", None, None),
        ("K3", None, None, None, '["a","b"]', '{"city":"Paris"}'),
    ]
    assert rows(
        warehouse, "select table_name, rows_loaded from raw._load_log order by source_file"
    ) == [
        ("raw_hubspot.contacts", 1),
        ("raw_hubspot.contacts", 1),
        ("raw_hubspot.contacts", 1),
    ]
    # the contract's tables exist (empty) for the build; no vendor table is in raw
    assert ("raw", "pages") in warehouse.relations(["raw"])
    assert ("raw", "contacts") not in warehouse.relations(["raw"])


def test_whitespace_text_is_read_for_the_transactions_source_only(tmp_path, warehouse):
    data = tmp_path / "data"
    data.mkdir()
    (data / "orders.txt").write_text(
        "\n  customer  day  amount\r\n\n 1 19970101   11.77\r\n 2 19970102 5\n"
    )
    (data / "numbers.txt.gz").write_bytes(gzip.compress(b"1 2\n3 4\n"))
    (data / "LICENSE.txt").write_text("MIT License\n")
    assert sorted(discover(data, "segment")[1]) == ["LICENSE.txt", "numbers.txt.gz", "orders.txt"]
    report = load_dir(data, warehouse, source="transactions")
    assert report.ignored_files == ["LICENSE.txt"]
    assert rows(
        warehouse, "select customer, day, amount, _source_row_number from raw_transactions.orders"
    ) == [
        ("1", "19970101", "11.77", 1),
        ("2", "19970102", "5", 2),
    ]
    assert rows(
        warehouse, "select column_1, column_2 from raw_transactions.numbers order by 1"
    ) == [
        ("1", "2"),
        ("3", "4"),
    ]


# --- bad files --------------------------------------------------------------------------------


def bad_folder(tmp_path: Path) -> Path:
    """Good files and five bad ones, of every kind."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(TINY / "pages.csv", data / "pages.csv")
    shutil.copy(TINY / "crm_companies.csv", data / "crm_companies.csv")
    (data / "tracks.csv").write_text("id,anonymous_id,event\nt1,a1,Signed Up\n")
    (data / "identifies.parquet").write_bytes(b"PAR1\x00\x01")
    (data / "email_events.jsonl").write_text('{"event_id": "e1"}\n{"event_id": \n')
    whole = gzip.compress((PAGES_HEADER + page(1) * 2000).encode())
    (data / "pages_20260601.csv.gz").write_bytes(whole[: len(whole) // 2])
    (data / "crm_deals.csv").write_text(
        "deal_id,company_id,stage,created_at\n" + "D1,C1,won,2026-01-01\n" * 30_000 + "D2,C1\n"
    )
    return data


BAD = [
    "crm_deals.csv: cannot be read as csv (Invalid Input Error: CSV Error on Line: 30002",
    "email_events.jsonl: cannot be read as jsonl (",
    "identifies.parquet: not a valid parquet file, it may be truncated",
    "pages_20260601.csv.gz: cannot be read as csv.gz (",
    "tracks.csv: missing required column(s) user_id, timestamp, received_at for raw table 'tracks'",
]


def test_every_bad_file_is_reported_in_one_pass_and_the_good_ones_load(tmp_path, warehouse):
    report = load_dir(bad_folder(tmp_path), warehouse)
    assert len(report.errors) == len(BAD)
    for error, expected in zip(sorted(report.errors), BAD, strict=True):
        assert error.startswith(expected), error
        assert "LINE 1" not in error and "\n" not in error
    statuses = {x.table: x.status for x in report.loads}
    assert statuses["pages"] == statuses["crm_companies"] == "loaded"
    assert statuses["tracks"] == statuses["identifies"] == statuses["crm_deals"] == "refused"
    assert statuses["intent_signals"] == "not_provided"
    assert rows(warehouse, "select count(*) from raw.pages") == [(13,)]
    assert rows(warehouse, "select count(*) from raw.crm_deals") == [(0,)]
    assert "(not loaded: its files are bad, see the errors)" in report.format_table()
    assert report.format_errors() == [f"error: {e}" for e in report.errors]


def test_a_folder_of_bad_files_only_is_a_load_error_naming_each(tmp_path, warehouse):
    data = bad_folder(tmp_path)
    (data / "pages.csv").unlink()
    (data / "crm_companies.csv").unlink()
    with pytest.raises(LoadError) as error:
        load_dir(data, warehouse)
    lines = str(error.value).splitlines()
    assert lines[-1] == "nothing was loaded: all 5 files are bad"
    assert sorted(error.value.errors) == sorted(lines[:-1]) and len(lines) == 6
    assert warehouse.relations(["raw"]) == []


def test_the_cli_prints_each_bad_file_and_exits_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AUDIENCE_DUCKDB_PATH", str(tmp_path / "cli.duckdb"))
    assert cli.main(["-q", "load", str(bad_folder(tmp_path))]) == 1
    out, err = capsys.readouterr()
    assert "pages" in out and "total" in out
    errors = sorted(line for line in err.splitlines() if line.startswith("error: "))
    assert [e.removeprefix("error: ")[: len(b)] for e, b in zip(errors, BAD, strict=True)] == BAD


def test_vendor_sources_are_refused_on_spark(tmp_path):
    class Spark:
        target = "spark"

    with pytest.raises(LoadError, match="--source ga4 loads into DuckDB or PostgreSQL"):
        load_dir(tmp_path, Spark(), source="ga4")  # type: ignore[arg-type]


def test_the_cli_names_the_known_sources_for_an_unknown_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AUDIENCE_DUCKDB_PATH", str(tmp_path / "cli.duckdb"))
    assert cli.main(["load", str(tmp_path), "--source", "fivetran"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "error: unknown source 'fivetran'; the known sources are: contract, segment, "
        "rudderstack, snowplow, ga4, sendgrid, hubspot, marketo, mailchimp, klaviyo, "
        "salesforce, transactions"
    )
    with pytest.raises(SystemExit):
        cli.main(["load", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--source NAME" in help_text and "schema raw_<NAME>: segment, rudderstack," in help_text
    assert "error: <file>: <reason>" in help_text and ".csv.gz" in help_text


def test_the_cli_loads_a_vendor_source(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AUDIENCE_DUCKDB_PATH", str(tmp_path / "cli.duckdb"))
    data = tmp_path / "data"
    data.mkdir()
    (data / "Contact.csv").write_text("Id,Email\nK1,a@x.com\n")
    assert cli.main(["-q", "load", str(data), "--source", "salesforce"]) == 0
    out = capsys.readouterr().out
    assert "raw_salesforce.contact" in out


class _Checked:
    results = ("one",)
    success = True
    failures = ()

    def format_table(self) -> str:
        return "checks passed"


class _Site:
    seconds = 0.0

    def format_line(self) -> str:
        return "dbt docs: (not written in this test)"


def test_a_run_with_bad_files_builds_what_loaded_and_exits_1(tmp_path, monkeypatch, capsys):
    """`audience run`: the bad files are printed after the load, the build goes on, and the
    run exits 1 at the end (the build, checks, docs and syncs are stand-ins here)."""
    monkeypatch.setenv("AUDIENCE_DUCKDB_PATH", str(tmp_path / "run.duckdb"))
    built: list[list[str]] = []
    monkeypatch.setattr(cli, "run_dbt", lambda args, **_: built.append(list(args)))
    monkeypatch.setattr(cli, "run_checks", lambda *_: _Checked())
    monkeypatch.setattr(cli, "generate_docs", lambda *_: _Site())
    monkeypatch.setattr(cli, "_write_summary", lambda *_: None)
    monkeypatch.setattr(cli, "run_syncs", lambda *_, **__: [])
    monkeypatch.setattr(cli, "_write_run_report", lambda *_: None)
    code = cli.main(["-q", "run", "--data", str(bad_folder(tmp_path)), "--as-of", "2026-06-30"])
    err = capsys.readouterr().err
    assert code == 1
    # one build: models, snapshots and data tests (dbt's unit tests run with the code's tests)
    assert built == [["build", "--exclude-resource-type", "unit_test"]]
    assert sum(line.startswith("error: ") for line in err.splitlines()) == 6
    assert err.strip().splitlines()[-1] == (
        "error: 5 bad files were not loaded (listed after the load)"
    )
    # a vendor source needs a folder: the demo data is contract-shaped
    assert cli.main(["-q", "run", "--source", "ga4"]) == 2
    assert "--source ga4 needs --data" in capsys.readouterr().err
