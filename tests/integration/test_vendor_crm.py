"""The CRM adapters on the vendors' samples: HubSpot's and Salesforce's tables as Fivetran
lands them (typed), and a few Salesforce records planted beside them that the samples lack (a
contact merged into another, a deleted contact, account and opportunity, a converted lead).
The HubSpot sample's tables do not join one another: the mapping is tested, not the joins.

One DuckDB warehouse built twice (the second build changes nothing), and the same vendor
tables staged on PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from crm_vendors import figures, land_samples, open_warehouse
from warehouses import DAILY_BUILD, BuiltWarehouse, environment, postgres_database

from audience.dbt import run_dbt
from audience.warehouse import Warehouse

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 6, 30)
#: what the PostgreSQL twin builds: the staging models and the quarantine mart
STAGING = [*DAILY_BUILD, "--select", "+quarantine", "+path:models/staging"]

SF = "raw_salesforce"
MERGED_CONTACT = "0035e00000Con900AAA"  # deleted, merged into Con001
DELETED_CONTACT = "0035e00000Con901AAA"  # deleted, merged into nothing
CONVERTED_LEAD = "00Q5e00000Lea900AAA"  # converted into Con002
DELETED_ACCOUNT = "0015e00000Acc900AAA"
DELETED_OPPORTUNITY = "0065e00000Opp900AAA"

#: every staged CRM relation and its key, as the second build and PostgreSQL must leave it
STAGED = {
    "staging.stg_crm__contacts": "crm_contact_id",
    "staging.stg_crm__companies": "company_id",
    "staging.stg_crm__deals": "deal_id",
    "marts.quarantine": "quarantine_id",
}


def plant(warehouse: Warehouse) -> None:
    """Salesforce records the sample lacks, in Fivetran's shape."""
    stamp = "'2024-06-02T12:00:00.000+0000'"
    warehouse.execute(f"alter table {SF}.contact add column master_record_id varchar")
    warehouse.execute(
        f"insert into {SF}.contact (id, account_id, email, has_opted_out_of_email, "
        "created_date, last_modified_date, is_deleted, master_record_id) values "
        f"('{MERGED_CONTACT}', '0015e00000Acc001AAA', 'person001.old@example.org', false, "
        f"{stamp}, {stamp}, true, '0035e00000Con001AAA'), "
        f"('{DELETED_CONTACT}', '0015e00000Acc001AAA', 'gone@example.org', false, "
        f"{stamp}, {stamp}, true, null)"
    )
    warehouse.execute(
        f"insert into {SF}.lead (id, email, first_name, last_name, company, status, "
        "is_converted, converted_contact_id, created_date, last_modified_date, is_deleted) "
        f"values ('{CONVERTED_LEAD}', 'person002@example.org', 'First2', 'Last2', 'Account 2', "
        f"'Closed - Converted', true, '0035e00000Con002AAA', {stamp}, {stamp}, false)"
    )
    warehouse.execute(
        f"insert into {SF}.account (id, name, website, created_date, last_modified_date, "
        f"is_deleted) values ('{DELETED_ACCOUNT}', 'Gone', 'gone.example', {stamp}, {stamp}, true)"
    )
    warehouse.execute(
        f"insert into {SF}.opportunity (id, account_id, name, stage_name, created_date, "
        f"is_closed, is_won, is_deleted) values ('{DELETED_OPPORTUNITY}', "
        f"'0015e00000Acc001AAA', 'Gone', 'Prospecting', {stamp}, false, false, true)"
    )


def land(built: BuiltWarehouse) -> dict[str, int]:
    warehouse = open_warehouse(built)
    try:
        landed = land_samples(warehouse)
        plant(warehouse)
    finally:
        warehouse.close()
    return landed


def staged_rows(built: BuiltWarehouse) -> dict[str, list[tuple]]:
    """Every row of the staged CRM relations, by key (floats rounded, so engines compare)."""
    tables = {}
    for relation, key in STAGED.items():
        rows = built.query(f"select * from {relation} order by {key}")
        tables[relation] = [
            tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows
        ]
    return tables


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuiltWarehouse, dict]:
    """The samples landed, built, and what the second build changed (nothing, it should)."""
    root: Path = tmp_path_factory.mktemp("crm")
    built = BuiltWarehouse("duckdb", root, AS_OF, path=root / "crm.duckdb")
    with environment(AUDIENCE_DUCKDB_PATH=str(built.path)):
        land(built)
        run_dbt(DAILY_BUILD, target="duckdb", as_of=AS_OF)
        first = staged_rows(built)
        first_contacts = built.query(
            "select * exclude (build_id) from marts.contacts order by contact_key"
        )
        run_dbt(DAILY_BUILD, target="duckdb", as_of=AS_OF)
        changed = {
            relation: rows
            for relation, rows in staged_rows(built).items()
            if rows != first[relation]
        }
        if (
            built.query("select * exclude (build_id) from marts.contacts order by contact_key")
            != first_contacts
        ):
            changed["marts.contacts"] = []
    return built, changed


def contact_of(built: BuiltWarehouse, identifier_type: str, identifier: str) -> str:
    return str(
        built.scalar(
            "select contact_key from marts.identity_map "
            f"where identifier_type = '{identifier_type}' and identifier = '{identifier}'"
        )
    )


def test_every_vendor_row_is_staged_quarantined_or_left_out_on_purpose(crm):
    built, _ = crm
    # (contract table, vendor table): (rows in, deliberately not mapped, staged, quarantined)
    expected = {
        ("crm_contacts", "raw_hubspot.contact"): (22, 0, 22, {}),
        ("crm_companies", "raw_hubspot.company"): (24, 0, 24, {}),
        ("crm_deals", "raw_hubspot.deal"): (44, 0, 44, {}),
        ("crm_contacts", f"{SF}.contact"): (30, 1, 29, {}),
        ("crm_contacts", f"{SF}.lead"): (13, 0, 13, {}),
        ("crm_companies", f"{SF}.account"): (8, 1, 7, {}),
        ("crm_deals", f"{SF}.opportunity"): (11, 1, 10, {}),
    }
    for (contract_table, vendor_table), (rows_in, left_out, staged, bad) in expected.items():
        found = figures(built, contract_table, vendor_table)
        assert (found.rows_in, found.rows_in - found.mapped, found.staged, found.quarantined) == (
            rows_in,
            left_out,
            staged,
            bad,
        ), vendor_table
        assert found.mapped == found.staged + sum(found.quarantined.values()), vendor_table


def test_the_second_build_changes_nothing(crm):
    _, changed = crm
    assert changed == {}


def test_deleted_records_are_no_live_records(crm):
    built, _ = crm
    for relation, column, record in [
        ("staging.stg_crm__contacts", "crm_contact_id", DELETED_CONTACT),
        ("staging.stg_crm__companies", "company_id", DELETED_ACCOUNT),
        ("staging.stg_crm__deals", "deal_id", DELETED_OPPORTUNITY),
        ("marts.identity_map", "identifier", DELETED_CONTACT),
    ]:
        assert built.scalar(f"select count(*) from {relation} where {column} = '{record}'") == 0


def test_salesforce_leads_are_contacts_at_the_lead_stage_with_their_company(crm):
    built, _ = crm
    rows = built.query(
        "select crm_contact_id, email, company_id, company_name, lifecycle_stage "
        "from staging.stg_crm__contacts where crm_contact_id like '00Q%' "
        "order by crm_contact_id limit 2"
    )
    assert rows == [
        ("00Q5e00000Lea028AAA", "person028@example.org", None, "Lead Co 28", "lead"),
        ("00Q5e00000Lea029AAA", "person029@example.org", None, "Lead Co 29", "lead"),
    ]
    assert (
        built.scalar(
            "select count(*) from staging.stg_crm__contacts where lifecycle_stage = 'lead'"
        )
        == 13
    )


def test_salesforce_accounts_take_their_website_domain_and_opportunities_close_when_closed(crm):
    built, _ = crm
    assert built.query(
        "select domain, employee_count, annual_revenue from staging.stg_crm__companies "
        "where company_id = '0015e00000Acc000AAA'"
    ) == [("acct0.example.com", 50, 1000000.0)]
    rows = built.query(
        "select deal_id, crm_contact_id, stage, is_won, is_closed, cast(closed_at as date) "
        "from staging.stg_crm__deals where deal_id in "
        "('0065e00000Opp001AAA', '0065e00000Opp002AAA', '0065e00000Opp003AAA') order by deal_id"
    )
    assert [(r[0][-6:-3], *r[1:4], r[4], str(r[5])) for r in rows] == [
        ("001", "0035e00000Con001AAA", "closed won", True, True, "2024-06-15"),
        ("002", "0035e00000Con002AAA", "closed lost", False, True, "2024-06-15"),
        ("003", "0035e00000Con003AAA", "negotiation/review", False, False, "None"),
    ]
    # a won deal makes its account's people customers
    customers = dict(
        built.query(
            "select primary_email, is_customer from marts.contacts where primary_email in "
            "('person001@example.org', 'person005@example.org')"
        )
    )
    assert customers == {"person001@example.org": True, "person005@example.org": False}


def test_a_crm_opt_out_suppresses_email(crm):
    built, _ = crm
    rows = built.query(
        "select primary_email, is_email_suppressed from marts.contacts "
        "where email_suppression_reason = 'crm_opt_out' order by primary_email"
    )
    assert rows == [
        ("person000@example.org", True),
        ("person009@example.org", True),
        ("person018@example.org", True),
        ("person027@example.org", True),
    ]


def test_merges_and_converted_leads_are_identity_links(crm):
    built, _ = crm
    assert contact_of(built, "crm_contact_id", MERGED_CONTACT) == contact_of(
        built, "crm_contact_id", "0035e00000Con001AAA"
    )
    assert contact_of(built, "email", "person001.old@example.org") == contact_of(
        built, "email", "person001@example.org"
    )
    assert contact_of(built, "crm_contact_id", CONVERTED_LEAD) == contact_of(
        built, "crm_contact_id", "0035e00000Con002AAA"
    )
    links = built.query(
        "select identifier_a, identifier_b, link_outcome from marts.identity_merge_audit "
        "where link_rule = 'crm_merge' order by identifier_a"
    )
    assert links == [
        ("0035e00000Con900AAA", "0035e00000Con001AAA", "merged"),
        ("00Q5e00000Lea900AAA", "0035e00000Con002AAA", "merged"),
        ("46897301", "78971951", "merged"),
        ("76226001", "78971951", "merged"),
        ("76340251", "78971951", "merged"),
    ]
    # the survivor's record speaks for the person, not the merged one nor the lead
    assert built.query(
        "select crm_contact_id, crm_contact_count from marts.contacts "
        "where primary_email in ('person001@example.org', 'person002@example.org') "
        "order by crm_contact_id"
    ) == [("0035e00000Con001AAA", 2), ("0035e00000Con002AAA", 2)]


def test_hubspot_contacts_merged_into_one_are_one_person(crm):
    built, _ = crm
    people = built.scalar(
        "select count(distinct contact_key) from marts.identity_map "
        "where identifier_type = 'crm_contact_id' and identifier not like '00%'"
    )
    assert people == 22 - 3
    # the sample's emails are hashes: each contact stays, known by its id, without one
    assert (
        built.scalar(
            "select count(*) from staging.stg_crm__contacts "
            "where has_rejected_email and crm_contact_id not like '00%'"
        )
        == 22
    )


@pytest.fixture(scope="module")
def postgres_twin(crm) -> Iterator[tuple[BuiltWarehouse, BuiltWarehouse]]:
    duck, _ = crm
    with postgres_database() as database:
        pg = BuiltWarehouse("postgres", duck.data_dir, AS_OF, database=database)
        with environment(PGDATABASE=database):
            land(pg)
            run_dbt(STAGING, target="postgres", as_of=AS_OF)
        yield duck, pg


@pytest.mark.postgres
def test_postgres_stages_the_vendor_tables_as_duckdb_does(postgres_twin):
    duck, pg = postgres_twin
    left, right = staged_rows(duck), staged_rows(pg)
    for relation in STAGED:
        assert left[relation] == right[relation], relation


def test_the_gates_pass(crm, tmp_path: Path) -> None:
    """HubSpot's and Salesforce's CRM tables alone, exported weeks apart (no events, no ESP):
    every quality gate passes. A CRM export is a snapshot, not a stream: it is not held to an
    event stream's freshness or volume."""
    built, _ = crm
    assert built.failed_gates(tmp_path) == {}
