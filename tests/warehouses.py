"""Test warehouses: load a folder and build it on DuckDB or PostgreSQL, then query it."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from audience.dbt import BUILD as BUILD_COMMAND
from audience.dbt import run_dbt
from audience.loader import load_dir
from audience.project import environment
from audience.warehouse import (
    DuckDBWarehouse,
    PostgresWarehouse,
    SparkWarehouse,
    postgres_params,
)

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
#: a warehouse's build as the daily job runs it: models, snapshots, data tests (dbt's unit
#: tests answer the same on every build: tests/integration/test_dbt_unit_tests.py runs them)
DAILY_BUILD = list(BUILD_COMMAND)


@dataclass
class BuiltWarehouse:
    target: str
    data_dir: Path
    as_of: datetime
    path: Path | None = None  # the DuckDB file
    database: str | None = None  # the PostgreSQL database

    def query(self, sql: str) -> list[tuple]:
        if self.target == "spark":
            # the process's one Spark session (its warehouse folder is fixed when it starts)
            return SparkWarehouse().query(sql)
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
        if self.target == "spark":
            SparkWarehouse().execute(sql)
            return
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

    def failed_gates(self, out: Path) -> dict[tuple[str, str], str]:
        """Run every quality gate on this build: the failed critical expectations, by suite
        and the table (`source_table`) or model their rows name, with their details."""
        from audience.checks import run_checks

        settings = (
            {"AUDIENCE_DUCKDB_PATH": str(self.path)}
            if self.target == "duckdb"
            else {"PGDATABASE": self.database}
        )
        with environment(**settings):
            run = run_checks(self.target, self.as_of, out=out)
        failed = {}
        for result in run.failures:
            named = re.findall(r"(?:source_table|model|relation)=([\w.]+)", result.details)
            for table in named or [""]:
                failed[(result.suite, table)] = result.details
        return failed


def load_duckdb(path: Path, *folders: Path) -> None:
    """Load the folders' files into the DuckDB file at `path` (as `audience load` does), and
    let go of the file for the builds that follow."""
    _load(DuckDBWarehouse(path), folders)


def load_postgres(database: str, *folders: Path) -> None:
    """Load the folders' files into the PostgreSQL database (as `audience load` does)."""
    _load(PostgresWarehouse(database), folders)


def _load(loader: DuckDBWarehouse | PostgresWarehouse, folders: tuple[Path, ...]) -> None:
    try:
        for folder in folders:
            load_dir(folder, loader)
    finally:
        loader.close()


def build_warehouse(
    target: str,
    data_dir: Path,
    as_of: datetime,
    *,
    path: Path | None = None,
    database: str | None = None,
    source: str = "contract",
    extra_vars: dict[str, Any] | None = None,
) -> BuiltWarehouse:
    """Load `data_dir` (as the contract, or as a vendor `source`'s export) and run
    `dbt build` on a DuckDB file or a PostgreSQL database."""
    settings = (
        {"AUDIENCE_DUCKDB_PATH": str(path)} if target == "duckdb" else {"PGDATABASE": database}
    )
    with environment(**settings):
        warehouse = DuckDBWarehouse(path) if target == "duckdb" else PostgresWarehouse(database)
        try:
            load_dir(data_dir, warehouse, source=source)
        finally:
            warehouse.close()
        run_dbt(DAILY_BUILD, target=target, as_of=as_of, extra_vars=extra_vars)
    return BuiltWarehouse(target, data_dir, as_of, path=path, database=database)


def require_spark() -> None:
    """Skip when the optional Spark group (dbt-spark, pyspark) or Java is missing, except
    under CI, where that is a failure."""
    import importlib.util
    import shutil

    missing = [m for m in ("pyspark", "dbt.adapters.spark") if importlib.util.find_spec(m) is None]
    reason = f"not installed: {', '.join(missing)} (`make install-spark`)" if missing else ""
    if not reason and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        reason = "no Java runtime for Spark"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Spark tests run under CI: {reason}")
        pytest.skip(reason)


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


# --- membership history: one warehouse built day by day ----------------------------------

#: Jane (tiny fixture) requests a demo on 2026-06-10; a second request lands on 2026-06-25.
SECOND_REQUEST = (
    "id,anonymous_id,user_id,event,timestamp,received_at,properties\n"
    't100,a1,u1,Demo Requested,2026-06-25T09:00:00Z,2026-06-25T09:00:01Z,"{}"\n'
)
DAYS = ["2026-06-09", "2026-06-11", "2026-06-14", "2026-06-18", "2026-06-26"]
#: the day-by-day builds skip the data tests (the other suites run them): models and snapshots
BUILD = ["build", "--exclude", "resource_type:test", "resource_type:unit_test"]


def build_days(root, extra_vars=None, *, folders=None, days=DAYS):
    """Load the folders (default: the tiny fixture and a later demo request), then build
    each day in order, the last one twice."""
    if folders is None:
        later = root / "later"
        later.mkdir()
        (later / "tracks.csv").write_text(SECOND_REQUEST)
        folders = [FIXTURES / "tiny", later]
    path = root / "history.duckdb"
    warehouse = BuiltWarehouse("duckdb", folders[0], datetime.fromisoformat(days[-1]), path=path)
    memberships: dict[str, set[tuple[str, str]]] = {}
    snapshot_rows: dict[str, int] = {}
    with environment(AUDIENCE_DUCKDB_PATH=str(path)):
        # everything is loaded up front: each build sees only what it knew by its as_of
        load_duckdb(path, *folders)
        for day in [*days, days[-1]]:
            as_of = datetime.fromisoformat(day)
            run_dbt(BUILD, target="duckdb", as_of=as_of, extra_vars=extra_vars)
            memberships[day] = set(
                warehouse.query("select contact_key, segment_id from marts.segment_membership")
            )
            snapshot_rows[day] = warehouse.scalar(
                "select count(*) from snapshots.segment_membership_snapshot"
            )
    # Jane of the tiny fixture, when she is in the data
    jane = next(
        iter(
            warehouse.query(
                "select contact_key from marts.identity_map "
                "where identifier_type = 'user_id' and identifier = 'u1'"
            )
        ),
        (None,),
    )[0]
    return warehouse, memberships, snapshot_rows, jane, root


GENERATED_DAYS = ["2026-06-10", "2026-06-17", "2026-06-24", "2026-06-30"]


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
