"""Real vendor exports land in their own shape, nothing lost or misread (DuckDB).

The same on PostgreSQL: tests/integration/test_postgres_vendor_loader.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from vendor_samples import (
    SAMPLES,
    copy_sample,
    count_rows,
    csv_rows,
    drop_last_row,
    expected_counts,
    jsonl_rows,
    table_of,
    text_rows,
)

from audience.loader import LINEAGE_COLUMNS, load_dir
from audience.warehouse import DuckDBWarehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBWarehouse]:
    wh = DuckDBWarehouse(tmp_path / "wh.duckdb")
    yield wh
    wh.close()


def held_counts(warehouse: DuckDBWarehouse, schema: str) -> dict[str, int]:
    tables = warehouse.query(
        "select table_name from information_schema.tables where table_schema = ?", [schema]
    )
    return {
        name: warehouse.query(f'select count(*) from {schema}."{name}"')[0][0] for (name,) in tables
    }


def columns_of(warehouse: DuckDBWarehouse, schema: str, table: str) -> list[str]:
    return warehouse.column_names(schema, table)


@pytest.mark.parametrize("name", list(SAMPLES))
def test_a_sample_lands_row_for_row_reloads_unchanged_and_a_change_replaces(
    name: str, tmp_path: Path, warehouse: DuckDBWarehouse
) -> None:
    sample = SAMPLES[name]
    data = copy_sample(sample, tmp_path)
    expected = expected_counts(data)

    first = load_dir(data, warehouse, source=sample.source)
    assert first.errors == []
    assert held_counts(warehouse, sample.schema) == expected
    assert {x.status for x in first.loads} == {"loaded"}
    # the load log names each table with its schema
    logged = warehouse.query("select distinct table_name from raw._load_log order by 1")
    assert logged == [(f"{sample.schema}.{t}",) for t in sorted(expected)]

    again = load_dir(data, warehouse, source=sample.source)
    assert {x.status for x in again.loads} == {"unchanged"}
    assert held_counts(warehouse, sample.schema) == expected

    changed = data / sample.changed
    before = count_rows(changed)
    drop_last_row(changed)
    third = load_dir(data, warehouse, source=sample.source)
    statuses = {(x.file_name, x.status, x.rows, x.replaced) for x in third.loads}
    assert (sample.changed, "loaded", before - 1, before) in statuses
    assert {x.status for x in third.loads if x.file_name != sample.changed} <= {"unchanged"}
    expected[table_of(changed)] -= 1
    assert held_counts(warehouse, sample.schema) == expected


def test_sendgrid_arrays_land_as_json_text_and_every_key_is_a_column(
    tmp_path: Path, warehouse: DuckDBWarehouse
) -> None:
    data = copy_sample(SAMPLES["sendgrid"], tmp_path)
    events = jsonl_rows(data / "sendgrid_events.jsonl")
    load_dir(data, warehouse, source="sendgrid")
    columns = columns_of(warehouse, "raw_sendgrid", "sendgrid_events")
    # every key is a column, in the order the keys first appear
    keys = dict.fromkeys(key.replace("-", "_") for event in events for key in event)
    assert columns == [*keys, *LINEAGE_COLUMNS]
    assert "smtp_id" in columns  # `smtp-id`
    rows = warehouse.query(
        "select _source_row_number, category, sg_event_id, timestamp, smtp_id "
        "from raw_sendgrid.sendgrid_events order by 1"
    )
    assert len(rows) == len(events)
    for (number, category, event_id, timestamp, smtp_id), event in zip(rows, events, strict=True):
        assert number == events.index(event) + 1
        assert json.loads(category) == event["category"]
        assert (event_id, timestamp, smtp_id) == (
            event["sg_event_id"],
            str(event["timestamp"]),
            event["smtp-id"],
        )
    # a key some events lack is null there
    assert warehouse.query(
        "select count(*) from raw_sendgrid.sendgrid_events where url is not null"
    ) == [(sum("url" in event for event in events),)]


def test_ga4_nested_structs_land_as_json_text_in_the_unsharded_table(
    tmp_path: Path, warehouse: DuckDBWarehouse
) -> None:
    data = copy_sample(SAMPLES["ga4"], tmp_path)
    source = pq.read_table(data / "events_20240601.parquet").to_pylist()
    report = load_dir(data, warehouse, source="ga4")
    assert [x.relation for x in report.loads] == ["raw_ga4.events"]
    rows = warehouse.query(
        "select event_params, device, items, ecommerce, event_timestamp, _source_file "
        "from raw_ga4.events order by _source_row_number"
    )
    assert len(rows) == len(source)
    for (params, device, items, ecommerce, stamp, file), event in zip(rows, source, strict=True):
        assert json.loads(params) == event["event_params"]
        assert json.loads(device) == event["device"]
        assert json.loads(items) == event["items"]
        assert (ecommerce and json.loads(ecommerce)) == event["ecommerce"]
        assert stamp == str(event["event_timestamp"])
        assert file.endswith("events_20240601.parquet")
    assert warehouse.query(
        "select count(*) from raw_ga4.events where event_params like '%''key''%'"
    ) == [(0,)], "no Python or DuckDB reprs"


def test_salesforce_api_name_headers_are_lower_cased(
    tmp_path: Path, warehouse: DuckDBWarehouse
) -> None:
    data = copy_sample(SAMPLES["salesforce"], tmp_path)
    header, rows = csv_rows(data / "dataloader_Contact.csv")
    (data / "dataloader_Contact.csv").write_text(
        (data / "dataloader_Contact.csv")
        .read_text()
        .replace("LastModifiedDate", "LastModifiedDate,Email Opt Out,HasOptedOutOfEmail", 1)
        .replace("+0000\n", "+0000,true,false\n")
    )
    load_dir(data, warehouse, source="salesforce")
    assert columns_of(warehouse, "raw_salesforce", "dataloader_contact") == [
        *(name.lower() for name in header),
        "email_opt_out",
        "hasoptedoutofemail",
        *LINEAGE_COLUMNS,
    ]
    held = warehouse.query(
        "select id, accountid, email, firstname, lastname, title, createddate, "
        "lastmodifieddate from raw_salesforce.dataloader_contact order by _source_row_number"
    )
    assert held == [tuple(value or None for value in row) for row in rows]


def test_snowplow_keeps_every_one_of_its_columns_and_values(
    tmp_path: Path, warehouse: DuckDBWarehouse
) -> None:
    data = copy_sample(SAMPLES["snowplow"], tmp_path)
    header, rows = csv_rows(data / "snowplow_web_events.csv")
    assert len(header) > 130
    load_dir(data, warehouse, source="snowplow")
    columns = columns_of(warehouse, "raw_snowplow", "snowplow_web_events")
    # names past PostgreSQL's 63 characters are cut there, on every engine alike
    landed = [name[:63] for name in header]
    assert "unstruct_event_com_snowplowanalytics_snowplow_consent_preferenc" in landed
    assert columns == [*landed, *LINEAGE_COLUMNS]
    held = warehouse.query(
        f"select {', '.join(landed)} from raw_snowplow.snowplow_web_events "
        "order by _source_row_number"
    )
    assert held == [tuple(value or None for value in row) for row in rows]


def test_cdnow_whitespace_text_with_and_without_a_header(
    tmp_path: Path, warehouse: DuckDBWarehouse
) -> None:
    data = copy_sample(SAMPLES["transactions"], tmp_path)
    report = load_dir(data, warehouse, source="transactions")
    assert report.ignored_files == []
    master_header, master = text_rows(data / "CDNOW_master.txt")
    assert master_header == ["customer_id", "date", "number_of_cds", "dollar_value"]
    assert columns_of(warehouse, "raw_transactions", "cdnow_master") == [
        *master_header,
        *LINEAGE_COLUMNS,
    ]
    held = warehouse.query(
        "select customer_id, date, number_of_cds, dollar_value "
        "from raw_transactions.cdnow_master order by _source_row_number"
    )
    assert held == [tuple(row) for row in master]
    assert len(held) == 69_659
    sample_header, sample = text_rows(data / "CDNOW_sample.txt")
    assert sample_header is None
    names = [f"column_{n}" for n in range(1, 6)]
    assert columns_of(warehouse, "raw_transactions", "cdnow_sample") == [*names, *LINEAGE_COLUMNS]
    held = warehouse.query(
        f"select {', '.join(names)} from raw_transactions.cdnow_sample order by _source_row_number"
    )
    assert held == [tuple(row) for row in sample]
