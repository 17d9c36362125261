"""CRM vendor tables in a test warehouse as a connector leaves them (Fivetran's typed tables,
read from the samples with their types), and what the CRM adapters made of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
from vendor_samples import SHARED
from warehouses import BuiltWarehouse

from audience.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse, quote_ident

HUBSPOT_SAMPLE = SHARED / "fivetran_hubspot_crm_email"
SALESFORCE_SAMPLE = SHARED / "vendor_shapes" / "salesforce"

#: the HubSpot tables the CRM adapter reads; the sample names them `<table>_data.csv`
HUBSPOT_TABLES = (
    "contact",
    "contact_merge_audit",
    "company",
    "deal",
    "deal_pipeline_stage",
    "deal_company",
    "deal_contact",
)
SALESFORCE_TABLES = ("account", "contact", "lead", "opportunity", "opportunity_contact_role")

#: DuckDB's type of a sample column -> PostgreSQL's
_PG_TYPES = {
    "BIGINT": "bigint",
    "INTEGER": "bigint",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


def land_typed(warehouse: Warehouse, schema: str, table: str, path: Path) -> int:
    """Land a sample CSV as a connector would: typed columns, as DuckDB reads the file.
    Returns the rows landed."""
    reader = duckdb.connect()
    try:
        relation = reader.sql(f"select * from read_csv('{path}', header = true)")
        kinds = dict(zip(relation.columns, (str(t) for t in relation.types), strict=True))
        data = relation.to_arrow_table()
    finally:
        reader.close()
    warehouse.execute(f"create schema if not exists {quote_ident(schema)}")
    warehouse.execute(f"drop table if exists {quote_ident(schema)}.{quote_ident(table)}")
    pg = isinstance(warehouse, PostgresWarehouse)
    columns = ", ".join(
        f"{quote_ident(name)} {_PG_TYPES.get(kind, 'text') if pg else kind}"
        for name, kind in kinds.items()
    )
    warehouse.execute(f"create table {quote_ident(schema)}.{quote_ident(table)} ({columns})")
    warehouse.insert_arrow(schema, table, data)
    return data.num_rows


def land_samples(warehouse: Warehouse) -> dict[str, int]:
    """The HubSpot and Salesforce samples, typed, in raw_hubspot and raw_salesforce: rows
    landed per `schema.table`."""
    landed = {}
    for table in HUBSPOT_TABLES:
        path = HUBSPOT_SAMPLE / f"{table}_data.csv"
        landed[f"raw_hubspot.{table}"] = land_typed(warehouse, "raw_hubspot", table, path)
    for table in SALESFORCE_TABLES:
        path = SALESFORCE_SAMPLE / f"{table}.csv"
        landed[f"raw_salesforce.{table}"] = land_typed(warehouse, "raw_salesforce", table, path)
    return landed


def open_warehouse(built: BuiltWarehouse) -> Warehouse:
    """A connection to a built test warehouse, to land or plant rows."""
    if built.target == "postgres":
        return PostgresWarehouse(built.database)
    assert built.path is not None
    return DuckDBWarehouse(built.path)


@dataclass(frozen=True)
class Figures:
    """What one vendor table became: rows in it, rows mapped onto the contract, rows staged
    and quarantined by reason (of the mapped ones)."""

    rows_in: int
    mapped: int
    staged: int
    quarantined: dict[str, int]


def figures(
    built: BuiltWarehouse, contract_table: str, vendor_table: str, files: str | None = None
) -> Figures:
    """The figures of one vendor table (`raw_<vendor>.<table>`) mapped onto `contract_table`
    (crm_contacts, crm_companies or crm_deals). Its rows are told by their `_source_file`: the
    table's name for a connector's table, else the files `audience load` landed (`files`, a
    LIKE pattern)."""
    base = {
        "crm_contacts": "staging.base_crm__contacts",
        "crm_companies": "staging.base_crm__companies",
        "crm_deals": "staging.base_crm__deals",
    }[contract_table]
    rows_in = int(built.scalar(f"select count(*) from {vendor_table}"))
    source_file = f"_source_file like '{files}'" if files else f"_source_file = '{vendor_table}'"
    mapped = int(
        built.scalar(f"select count(*) from staging.landed__{contract_table} where {source_file}")
    )
    reasons = built.query(
        f"select coalesce(quarantine_reason, 'staged'), count(*) from {base} "
        f"where {source_file} group by 1"
    )
    counts = {reason: int(n) for reason, n in reasons}
    staged = counts.pop("staged", 0)
    return Figures(rows_in, mapped, staged, counts)
