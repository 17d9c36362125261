"""End to end on the hand-made fixture: every outcome is known row by row."""

from __future__ import annotations

import pytest
from warehouses import DAILY_BUILD, assert_no_raw_row_lost

pytestmark = pytest.mark.slow


def contact_of(warehouse, identifier_type: str, identifier: str) -> str:
    rows = warehouse.query(
        "select contact_key from marts.identity_map "
        f"where identifier_type = '{identifier_type}' and identifier = '{identifier}'"
    )
    assert len(rows) == 1, f"{identifier_type} {identifier}: {rows}"
    return rows[0][0]


def test_every_bad_row_is_in_quarantine_with_its_reason(tiny_warehouse):
    rows = tiny_warehouse.query(
        "select source_table, record_id, quarantine_reason, source_row_number "
        "from marts.quarantine order by source_table, source_row_number"
    )
    assert rows == [
        ("crm_contacts", "K1", "duplicate_id", 2),
        ("crm_contacts", None, "missing_id", 6),
        ("email_events", "e4", "duplicate_id", 5),
        ("email_events", "e5", "missing_email", 6),
        ("identifies", "i7", "malformed_json", 7),
        ("pages", "p3", "duplicate_id", 4),
        ("pages", None, "missing_id", 8),
        ("pages", "p8", "missing_identity", 9),
        ("pages", "p9", "invalid_timestamp", 10),
        ("pages", "p10", "future_timestamp", 11),
        ("tracks", "t5", "malformed_json", 5),
    ]


def test_event_names_the_map_does_not_know_flow_through_unmapped(tiny_warehouse):
    """xyz_debug (tracks) and bounced_twice (ESP) are in no seed: they are staged under their
    normalized names, score nothing, and report_unmapped_events lists them."""
    staged = tiny_warehouse.query(
        "select track_id, event_name, is_unmapped_event from staging.stg_segment__tracks "
        "where track_id in ('t3', 't4') order by track_id"
    )
    assert staged == [("t3", "Order Completed", False), ("t4", "xyz_debug", True)]
    report = tiny_warehouse.query(
        "select source_table, event_name, map_event_source, events, contacts, "
        "cast(first_seen_at as varchar), cast(last_seen_at as varchar) "
        "from marts.report_unmapped_events order by source_table"
    )
    assert [row[:5] for row in report] == [
        ("email_events", "bounced_twice", "email", 1, 1),
        ("tracks", "xyz_debug", "tracks", 1, 1),
    ]
    assert [row[5][:19] for row in report] == ["2026-06-05 08:00:00", "2026-06-15 12:01:00"]
    john = contact_of(tiny_warehouse, "user_id", "u2")
    assert (
        tiny_warehouse.scalar(
            "select count(*) from marts.contact_score_signals "
            f"where contact_key = '{john}' and signal = 'xyz_debug'"
        )
        == 0
    )


def test_no_raw_row_is_lost(tiny_warehouse):
    assert_no_raw_row_lost(tiny_warehouse)


def test_duplicates_keep_the_first_received_and_latest_crm_version(tiny_warehouse):
    received = tiny_warehouse.scalar(
        "select received_at from staging.stg_segment__pages where page_view_id = 'p3'"
    )
    assert str(received) == "2026-06-10 10:00:01"
    title = tiny_warehouse.scalar(
        "select job_title from staging.stg_crm__contacts where crm_contact_id = 'K1'"
    )
    assert title == "VP Marketing"


def test_timestamps_are_utc_and_pages_categorized(tiny_warehouse):
    rows = tiny_warehouse.query(
        "select page_view_id, occurred_at, page_category, funnel_stage "
        "from staging.stg_segment__pages where page_view_id in ('p1', 'p2', 'p4', 'p6') "
        "order by page_view_id"
    )
    assert [(r[0], str(r[1]), r[2], r[3]) for r in rows] == [
        ("p1", "2026-06-01 09:00:00", "blog", "awareness"),
        ("p2", "2026-06-01 07:05:00", "pricing", "decision"),
        ("p4", "2026-06-11 10:00:00", "careers", "awareness"),
        ("p6", "2026-06-12 11:00:00", "other", "awareness"),
    ]


def test_one_person_with_several_emails_and_anonymous_history_is_one_contact(tiny_warehouse):
    jane = contact_of(tiny_warehouse, "anonymous_id", "a1")
    for identifier_type, identifier in [
        ("user_id", "u1"),
        ("email", "jane.doe@acme.com"),
        ("email", "jane.doe+news@acme.com"),
        ("crm_contact_id", "K1"),
        ("crm_contact_id", "K4"),
    ]:
        assert contact_of(tiny_warehouse, identifier_type, identifier) == jane
    history = tiny_warehouse.query(
        "select event_id from intermediate.int_events_unified "
        f"where contact_key = '{jane}' order by occurred_at"
    )
    # anonymous visits and form start before the identify, email, then signed-in events;
    # p11 happened after as_of and p12 arrived after it: neither is counted
    assert [r[0] for r in history] == [
        "page:p2",
        "page:p1",
        "track:t1",
        "email:e1",
        "email:e2",
        "email:e3",
        "email:e4",
        "page:p3",
        "track:t2",
    ]
    row = tiny_warehouse.query(
        "select primary_email, crm_contact_id, user_id, company_id, email_count, "
        f"crm_contact_count, last_activity_at from marts.contacts where contact_key = '{jane}'"
    )[0]
    assert row[:6] == ("jane.doe@acme.com", "K1", "u1", "C1", 2, 2)
    assert str(row[6]) == "2026-06-10 10:01:00"


def test_gmail_variants_merge(tiny_warehouse):
    john = contact_of(tiny_warehouse, "crm_contact_id", "K2")
    assert contact_of(tiny_warehouse, "email", "j.smith@googlemail.com") == john
    assert contact_of(tiny_warehouse, "user_id", "u2") == john


def test_guards_against_over_merging(tiny_warehouse):
    # a shared mailbox keeps its CRM record but merges no person into it
    mailbox = contact_of(tiny_warehouse, "email", "info@acme.com")
    assert contact_of(tiny_warehouse, "crm_contact_id", "K3") == mailbox
    assert contact_of(tiny_warehouse, "user_id", "u3") != mailbox
    # a shared device stays with the first person identified on it
    ann = contact_of(tiny_warehouse, "user_id", "u4")
    bob = contact_of(tiny_warehouse, "user_id", "u5")
    assert ann != bob
    assert contact_of(tiny_warehouse, "anonymous_id", "a4") == ann
    # placeholders are not identifiers
    assert (
        tiny_warehouse.query(
            "select * from marts.identity_map where identifier in ('null', 'anonymous')"
        )
        == []
    )
    outcomes = dict(
        tiny_warehouse.query(
            "select identifier_a || '>' || identifier_b, link_outcome "
            "from marts.identity_merge_audit where link_outcome <> 'merged'"
        )
    )
    assert outcomes == {
        "a3>null": "refused_invalid_identifier",
        "a8>anonymous": "refused_invalid_identifier",
        "a4>u5": "refused_shared_device",
        "u3>info@acme.com": "refused_shared_identifier",
    }


def test_contacts_and_identifiers(tiny_warehouse):
    assert tiny_warehouse.scalar("select count(*) from marts.contacts") == 11
    assert tiny_warehouse.scalar("select count(*) from marts.contacts where not is_identified") == 3
    assert tiny_warehouse.scalar("select count(distinct as_of) from marts.contacts") == 1


@pytest.mark.parametrize("tiny_warehouse", ["duckdb"], indirect=True)
def test_an_upgrade_that_grows_an_incremental_model_builds_without_a_full_refresh(
    tiny_warehouse, tmp_path
):
    """A warehouse whose incremental tables an earlier version built (here: before pages had
    last_active_at) takes the next build: the tables gain the new column (null in the rows
    they held) instead of the build failing on it (on_schema_change: append_new_columns)."""
    import shutil

    # one engine shows it (the setting is dbt's, the same on every adapter): a copy of the
    # DuckDB file is a warehouse built by the earlier version
    from audience.dbt import run_dbt
    from audience.project import environment
    from audience.warehouse import DuckDBWarehouse

    tiny_warehouse.execute("checkpoint")
    path = tmp_path / "upgraded.duckdb"
    shutil.copy(tiny_warehouse.path, path)
    warehouse = DuckDBWarehouse(path)
    try:
        grown = warehouse.query(
            "select columns.table_schema, columns.table_name from information_schema.columns "
            "inner join information_schema.tables on columns.table_schema = tables.table_schema "
            "and columns.table_name = tables.table_name "
            "where column_name = 'last_active_at' and table_type = 'BASE TABLE' "
            "and columns.table_schema <> 'raw'"
        )
        assert len(grown) >= 3  # the base pages and both event tables
        for schema, table in grown:
            warehouse.execute(f"alter table {schema}.{table} drop column last_active_at")
    finally:
        warehouse.close()
    with environment(AUDIENCE_DUCKDB_PATH=str(path)):
        run_dbt(DAILY_BUILD, target="duckdb", as_of=tiny_warehouse.as_of)
    warehouse = DuckDBWarehouse(path)
    try:
        for schema, table in grown:
            assert "last_active_at" in warehouse.column_names(schema, table), table
    finally:
        warehouse.close()
