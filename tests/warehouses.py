"""Test warehouses: load a folder and build it on DuckDB or PostgreSQL, then query it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from audience.dbt import run_dbt
from audience.loader import load_dir
from audience.warehouse import DuckDBWarehouse, PostgresWarehouse, postgres_params

FIXTURES = Path(__file__).parent / "fixtures"

#: Each raw table and the staging model that holds its good rows.
STAGED_TABLES = {
    "pages": "staging.stg_segment__pages",
    "tracks": "staging.stg_segment__tracks",
    "identifies": "staging.stg_segment__identifies",
    "email_events": "staging.stg_esp__email_events",
    "crm_contacts": "staging.stg_crm__contacts",
    "crm_companies": "staging.stg_crm__companies",
    "crm_deals": "staging.stg_crm__deals",
    "product_usage": "staging.stg_product__usage",
    "subscriptions": "staging.stg_product__subscriptions",
    "intent_signals": "staging.stg_intent__signals",
}
TINY_AS_OF = datetime(2026, 6, 30)


@dataclass
class BuiltWarehouse:
    target: str
    data_dir: Path
    as_of: datetime
    path: Path | None = None  # the DuckDB file
    database: str | None = None  # the PostgreSQL database

    def query(self, sql: str) -> list[tuple]:
        if self.target == "postgres":
            warehouse = PostgresWarehouse(self.database)
            try:
                return warehouse.query(sql)
            finally:
                warehouse.close()
        # dbt keeps its DuckDB instance open in this process: connect with the same
        # (default) configuration, never read_only, or DuckDB refuses the second handle
        con = duckdb.connect(str(self.path))
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def execute(self, sql: str) -> None:
        if self.target == "postgres":
            warehouse = PostgresWarehouse(self.database)
            try:
                warehouse.execute(sql)
            finally:
                warehouse.close()
            return
        con = duckdb.connect(str(self.path))
        try:
            con.execute(sql)
        finally:
            con.close()

    def scalar(self, sql: str) -> object:
        return self.query(sql)[0][0]


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables (read by profiles.yml and the CLI) for a while."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build_warehouse(
    target: str,
    data_dir: Path,
    as_of: datetime,
    *,
    path: Path | None = None,
    database: str | None = None,
) -> BuiltWarehouse:
    """Load `data_dir` and run `dbt build` on a DuckDB file or a PostgreSQL database."""
    settings = (
        {"AUDIENCE_DUCKDB_PATH": str(path)} if target == "duckdb" else {"PGDATABASE": database}
    )
    with environment(**settings):
        warehouse = DuckDBWarehouse(path) if target == "duckdb" else PostgresWarehouse(database)
        try:
            load_dir(data_dir, warehouse)
        finally:
            warehouse.close()
        run_dbt(["build"], target=target, as_of=as_of)
    return BuiltWarehouse(target, data_dir, as_of, path=path, database=database)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database from the PG* variables, dropped afterwards.

    Skipped when no server answers, except under CI, where that is a failure.
    """
    import psycopg2

    try:
        admin = psycopg2.connect(**postgres_params(os.environ.get("PGDATABASE", "postgres")))
    except psycopg2.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    admin.autocommit = True
    name = f"audience_test_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'create database "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        admin.close()


@dataclass
class GeneratedWarehouse(BuiltWarehouse):
    manifest: dict | None = None


def nonzero(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Drop the zero counts (and then empty tables) of a table -> reason -> count map."""
    kept = {t: {r: n for r, n in reasons.items() if n} for t, reasons in counts.items()}
    return {t: reasons for t, reasons in kept.items() if reasons}


def assert_no_raw_row_lost(warehouse: BuiltWarehouse) -> None:
    """Raw rows = staged rows + quarantined rows, for every raw table."""
    for table, staged in STAGED_TABLES.items():
        raw = warehouse.scalar(f"select count(*) from raw.{table}")
        good = warehouse.scalar(f"select count(*) from {staged}")
        bad = warehouse.scalar(
            f"select count(*) from marts.quarantine where source_table = '{table}'"
        )
        assert raw == good + bad, table
