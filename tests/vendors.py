"""Vendor tables in a test warehouse as Fivetran writes them (each sample's CSV read with its
types, `_fivetran_synced` included), the staging build of what the adapters map, and its
figures."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from vendor_samples import SHARED
from warehouses import DAILY_BUILD, BuiltWarehouse, environment

from audience.dbt import run_dbt
from audience.project import project_dir
from audience.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse, quote_ident

#: the real samples, which travel with the tests (tests/fixtures/samples)
SHARED_DATA = SHARED
AS_OF = datetime(2026, 6, 30)
#: the staging models (landed views, vendor adapters, base and staged models), the seeds they
#: read and the quarantine mart, with their data tests
STAGING_BUILD = [*DAILY_BUILD, "--select", "+quarantine", "+path:models/staging"]
#: when a sample table was synced, for a Fivetran sample that left `_fivetran_synced` out
#: (Fivetran writes it on every table: its dbt packages' seeds drop it)
SAMPLE_SYNCED_AT = "2026-06-01 00:00:00"

_PG_TYPES = {
    "BIGINT": "bigint",
    "INTEGER": "bigint",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIME": "time",
}


@dataclass(frozen=True)
class VendorTable:
    """One vendor table of a sample: the file and the table name it lands under."""

    path: Path
    table: str


def fivetran_tables(folder: Path, strip_prefix: str = "") -> list[VendorTable]:
    """The sample CSVs of a Fivetran folder under their connector table names: dbt seeds are
    named `<table>_data.csv` (Marketo's `marketo_<table>_data.csv`)."""
    tables = []
    for path in sorted(folder.glob("*.csv")):
        name = path.stem.removesuffix("_data")
        tables.append(VendorTable(path, name.removeprefix(strip_prefix)))
    return tables


def _create(warehouse: Warehouse, schema: str, table: str, columns: dict[str, str]) -> None:
    warehouse.execute(f"create schema if not exists {quote_ident(schema)}")
    warehouse.execute(f"drop table if exists {quote_ident(schema)}.{quote_ident(table)}")
    listed = ", ".join(f"{quote_ident(name)} {kind}" for name, kind in columns.items())
    warehouse.execute(f"create table {quote_ident(schema)}.{quote_ident(table)} ({listed})")


def land_fivetran_csv(warehouse: Warehouse, schema: str, sample: VendorTable) -> int:
    """Land one sample CSV as Fivetran would: typed columns (as DuckDB reads the file),
    `_fivetran_synced` added when the sample left it out. Returns the rows landed."""
    reader = duckdb.connect()
    try:
        relation = reader.sql(f"select * from read_csv('{sample.path}', header = true)")
        if "_fivetran_synced" not in relation.columns:
            relation = relation.select(f"*, timestamp '{SAMPLE_SYNCED_AT}' as _fivetran_synced")
        kinds = dict(zip(relation.columns, (str(t) for t in relation.types), strict=True))
        data = relation.to_arrow_table()
    finally:
        reader.close()
    if warehouse.target == "postgres":
        kinds = {name: _PG_TYPES.get(kind, "text") for name, kind in kinds.items()}
    _create(warehouse, schema, sample.table, kinds)
    if data.num_rows:
        warehouse.insert_arrow(schema, sample.table, data)
    return data.num_rows


def connect(target: str, path: Path | None, database: str | None) -> Warehouse:
    return DuckDBWarehouse(path) if target == "duckdb" else PostgresWarehouse(database)


def build_staging(built: BuiltWarehouse, extra_vars: dict[str, Any] | None = None) -> None:
    settings = (
        {"AUDIENCE_DUCKDB_PATH": str(built.path)}
        if built.target == "duckdb"
        else {"PGDATABASE": str(built.database)}
    )
    with environment(**settings):
        run_dbt(STAGING_BUILD, target=built.target, as_of=AS_OF, extra_vars=extra_vars)


def land_fivetran_and_build(
    target: str,
    root: Path,
    schema: str,
    samples: Iterable[VendorTable],
    database: str | None = None,
    extra_vars: dict[str, Any] | None = None,
) -> BuiltWarehouse:
    """Land a vendor's sample tables as a connector writes them (typed, `_fivetran_synced`)
    in `schema`, then build staging: the warehouse a vendor module's tests read."""
    # named after the vendor, not the schema: DuckDB names its catalog after the file
    path = root / f"{schema.removeprefix('raw_')}.duckdb" if target == "duckdb" else None
    warehouse = connect(target, path, database)
    try:
        for sample in samples:
            land_fivetran_csv(warehouse, schema, sample)
    finally:
        warehouse.close()
    built = BuiltWarehouse(target, root, AS_OF, path=path, database=database)
    build_staging(built, extra_vars)
    return built


def counts(warehouse: BuiltWarehouse, sql: str) -> dict[Any, int]:
    """A `select key, count(*) ... group by key` as a dict."""
    return {row[0]: int(row[1]) for row in warehouse.query(sql)}


#: a name the event name map does not map: a signal of its own (or, where staging quarantines
#: unknown names, an unknown_event)
OWN_SIGNAL = "(own signal)"


def canonical_events(source: str) -> set[str]:
    """The canonical events of seeds/event_name_map.csv for an event source (email, tracks)."""
    seed = project_dir() / "seeds" / "event_name_map.csv"
    with seed.open(newline="") as handle:
        return {r["canonical_event"] for r in csv.DictReader(handle) if r["event_source"] == source}


def by_event(warehouse: BuiltWarehouse, base_model: str, source: str) -> dict[str, int]:
    """Rows of a base model per canonical event (quarantined ones too), every name the map
    does not know as OWN_SIGNAL."""
    known = canonical_events(source)
    found: dict[str, int] = {}
    for name, count in warehouse.query(
        f"select event_name, count(*) from staging.{base_model} group by 1"
    ):
        key = name if name in known else OWN_SIGNAL
        found[key] = found.get(key, 0) + int(count)
    return found


def snapshot(warehouse: BuiltWarehouse, relations: Iterable[str]) -> dict[str, list[tuple]]:
    """Every row of the relations, sorted: what a second build must leave as it was."""
    return {
        relation: sorted(
            warehouse.query(f"select * from {relation}"), key=lambda row: [str(v) for v in row]
        )
        for relation in relations
    }


def accounting(warehouse: BuiltWarehouse, table: str, base_model: str) -> tuple[int, int, int]:
    """Rows landed for one contract table, staged (good), quarantined."""
    landed = int(warehouse.scalar(f"select count(*) from staging.landed__{table}"))
    good = int(
        warehouse.scalar(
            f"select count(*) from staging.{base_model} where quarantine_reason is null"
        )
    )
    bad = int(
        warehouse.scalar(f"select count(*) from marts.quarantine where source_table = '{table}'")
    )
    return landed, good, bad
