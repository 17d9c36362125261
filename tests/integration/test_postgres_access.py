"""Least privilege on PostgreSQL: a reader role sees the public marts and nothing else."""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg2
import pytest
from warehouses import FIXTURES, environment, postgres_database

from audience.dbt import run_dbt
from audience.loader import load_dir
from audience.warehouse import PostgresWarehouse, postgres_params

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    """A login role on the cluster, given read access by the build, dropped afterwards."""
    role = f"audience_reader_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(**postgres_params())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'create role "{role}" login')
    try:
        with postgres_database() as database, environment(PGDATABASE=database):
            warehouse = PostgresWarehouse(database)
            try:
                load_dir(FIXTURES / "tiny", warehouse)
            finally:
                warehouse.close()
            run_dbt(
                ["build", "--exclude", "resource_type:test", "resource_type:unit_test"],
                target="postgres",
                as_of=datetime(2026, 6, 30),
                extra_vars={"grants__reader_roles": [role]},
            )
            yield role, database
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop role if exists "{role}"')
        admin.close()


def query_as(role: str, database: str, sql: str) -> list[tuple]:
    params = {**postgres_params(database), "user": role, "password": ""}
    con = psycopg2.connect(**params)
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        con.close()


@pytest.mark.parametrize(
    "relation",
    ["marts.contacts", "marts.segment_membership", "marts.segments", "marts.report_hygiene"],
)
def test_reader_selects_the_public_marts(reader, relation):
    role, database = reader
    assert query_as(role, database, f"select count(*) from {relation}")[0][0] >= 0


@pytest.mark.parametrize(
    "relation",
    [
        "raw.pages",
        "raw.crm_contacts",
        "staging.stg_crm__contacts",
        "staging.base_segment__pages",
        "intermediate.int_contact_profiles",
        "segments.customer",
        "snapshots.segment_membership_snapshot",
    ],
)
def test_reader_cannot_read_raw_staging_or_internal_models(reader, relation):
    role, database = reader
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        query_as(role, database, f"select count(*) from {relation}")


def test_reader_cannot_write_the_marts(reader):
    role, database = reader
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        query_as(role, database, "delete from marts.contacts returning contact_key")


def test_membership_lookups_are_indexed(reader):
    _, database = reader
    warehouse = PostgresWarehouse(database)
    try:
        indexes = warehouse.query(
            "select tablename, indexdef from pg_indexes where schemaname = 'marts'"
        )
    finally:
        warehouse.close()
    definitions = [f"{table}: {definition}" for table, definition in indexes]
    assert any("segment_membership" in d and "(contact_key)" in d for d in definitions)
    assert any("segment_membership" in d and "(segment_id)" in d for d in definitions)
    assert any("identity_map" in d and "UNIQUE" in d for d in definitions)
