"""A purchase log with no user code: the CDNOW sample (no header, whitespace-separated) lands
with `--source transactions` and one var naming its columns, and the customer RFM report
equals the published recency / frequency summary for every customer (the sample's SOURCE.txt
says how that summary was made: orders up to 1997-09-30, frequency = order days - 1, recency
and age in weeks)."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from vendor_samples import SHARED
from warehouse_state import capture, differences
from warehouses import BuiltWarehouse, build_warehouse, environment, postgres_database

from audience.warehouse import PostgresWarehouse

SAMPLE = SHARED / "lifetimes_cdnow_rfm"
AS_OF = datetime(1997, 9, 30)
COLUMNS = {
    "transactions__orders_identifier": "cdnow_sample",
    "transactions__columns": {
        "customer_id": "column_2",
        "ordered_at": "column_3",
        "quantity": "column_4",
        "amount": "column_5",
    },
}


def expected_summary() -> dict[str, tuple[int, float, float]]:
    with (SAMPLE / "cdnow_customers_summary.csv").open() as handle:
        return {
            row["ID"]: (int(row["frequency"]), float(row["recency"]), float(row["T"]))
            for row in csv.DictReader(handle)
        }


def built(target: str, root: Path, database: str | None = None) -> BuiltWarehouse:
    data = root / "data"
    data.mkdir()
    shutil.copy(SAMPLE / "CDNOW_sample.txt", data / "cdnow_sample.txt")
    return build_warehouse(
        target,
        data,
        AS_OF,
        path=root / "cdnow.duckdb" if target == "duckdb" else None,
        database=database,
        source="transactions",
        extra_vars=COLUMNS,
    )


def summary(warehouse: BuiltWarehouse) -> dict[str, tuple[int, float, float]]:
    rows = warehouse.query(
        "select identity_map.identifier, rfm.repeat_order_days, rfm.recency_days, "
        "rfm.customer_age_days "
        "from marts.report_customer_rfm as rfm "
        "inner join marts.identity_map as identity_map "
        "on identity_map.contact_key = rfm.contact_key and identity_map.identifier_type = 'user_id'"
    )
    return {
        # the sample writes ids zero-padded (0001), the summary as numbers
        str(int(identifier)): (int(frequency), round(recency / 7, 2), round(age / 7, 2))
        for identifier, frequency, recency, age in rows
    }


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    return built("duckdb", tmp_path_factory.mktemp("cdnow"))


@pytest.fixture(scope="module")
def cdnow_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    with postgres_database() as database:
        yield built("postgres", tmp_path_factory.mktemp("cdnow_pg"), database)


def test_every_order_line_is_staged(cdnow: BuiltWarehouse) -> None:
    lines = sum(1 for line in (SAMPLE / "CDNOW_sample.txt").open() if line.strip())
    assert cdnow.scalar("select count(*) from raw_transactions.cdnow_sample") == lines == 6919
    assert cdnow.scalar("select count(*) from staging.stg_segment__tracks") == lines
    assert cdnow.scalar("select count(*) from marts.quarantine") == 0


def test_recency_and_frequency_equal_the_published_summary(cdnow: BuiltWarehouse) -> None:
    expected = expected_summary()
    got = summary(cdnow)
    assert len(expected) == 2357
    differing = {
        key: (got.get(key), value) for key, value in expected.items() if got.get(key) != value
    }
    assert differing == {}
    assert set(got) == set(expected)


def test_revenue_and_quantity_reach_the_orders(cdnow: BuiltWarehouse) -> None:
    lines = [line.split() for line in (SAMPLE / "CDNOW_sample.txt").open() if line.strip()]
    # orders up to as_of only
    total = sum(float(line[4]) for line in lines if line[2] <= AS_OF.strftime("%Y%m%d"))
    assert cdnow.scalar("select round(sum(revenue), 2) from marts.report_customer_rfm") == round(
        total, 2
    )


def test_postgres_agrees(cdnow: BuiltWarehouse, cdnow_postgres: BuiltWarehouse) -> None:
    assert summary(cdnow_postgres) == summary(cdnow)


def test_typed_tables_already_in_postgres_build_with_no_loader(
    cdnow: BuiltWarehouse, tmp_path: Path
) -> None:
    """A purchase log some other tool keeps in PostgreSQL, typed, without the loader's lineage
    columns: `audience run --no-load` with the schema and table named by vars builds from it
    and the gates pass; run again on the same tables, it changes no mart."""
    from audience.cli import main

    lines = [line.split() for line in (SAMPLE / "CDNOW_sample.txt").open() if line.strip()]
    with (
        postgres_database() as database,
        environment(PGDATABASE=database, AUDIENCE_OUTPUT_DIR=str(tmp_path / "out")),
    ):
        warehouse = PostgresWarehouse(database)
        try:
            warehouse.execute("create schema shop")
            warehouse.execute(
                "create table shop.orders (customer integer, order_date date, "
                "quantity integer, amount numeric(10, 2))"
            )
            warehouse.execute(
                "insert into shop.orders select * from unnest("
                "?::integer[], ?::date[], ?::integer[], ?::numeric[])",
                [
                    [int(line[1]) for line in lines],
                    [f"{line[2][:4]}-{line[2][4:6]}-{line[2][6:]}" for line in lines],
                    [int(line[3]) for line in lines],
                    [float(line[4]) for line in lines],
                ],
            )
            warehouse.commit()
        finally:
            warehouse.close()
        command = [
            "-q",
            "run",
            "--no-load",
            "--target",
            "postgres",
            "--as-of",
            "1997-09-30",
            "--vars",
            "{transactions__schema: shop, transactions__orders_identifier: orders}",
        ]
        exit_code = main(command)
        built_pg = BuiltWarehouse("postgres", tmp_path, AS_OF, database=database)
        assert exit_code == 0
        assert summary(built_pg) == summary(cdnow)
        assert built_pg.scalar("select count(*) from marts.quarantine") == 0
        first = capture(built_pg)

        assert main(command) == 0
        assert differences(capture(built_pg), first) == []
