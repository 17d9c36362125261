"""HubSpot's email events as Fivetran lands them (Fivetran's dbt_hubspot sample: email_event
and one table per event type, typed), mapped by adapt_hubspot__email_events and staged.

The sample's recipients are obfuscated (base64, not addresses) and its per-type rows do not
join its events (independent samples): every event is set aside, with its reason, and the
mapping is seen on the landed rows; the adapter's unit test covers the joined case."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from vendors import (
    OWN_SIGNAL,
    SHARED_DATA,
    accounting,
    build_staging,
    by_event,
    connect,
    counts,
    fivetran_tables,
    land_fivetran_and_build,
    land_fivetran_csv,
    snapshot,
)
from warehouses import DAILY_BUILD, BuiltWarehouse, environment, postgres_database

from audience.dbt import run_dbt

pytestmark = pytest.mark.slow

FOLDER = SHARED_DATA / "fivetran_hubspot_crm_email"
SAMPLES = [t for t in fivetran_tables(FOLDER) if t.table.startswith("email_event")]
BUILT = ("staging.landed__email_events", "staging.base_esp__email_events", "marts.quarantine")


def land_and_build(target: str, root: Path, database: str | None = None) -> BuiltWarehouse:
    return land_fivetran_and_build(target, root, "raw_hubspot", SAMPLES, database)


@pytest.fixture(scope="module")
def hubspot(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    return land_and_build("duckdb", tmp_path_factory.mktemp("hubspot"))


def test_every_event_and_every_type_row_is_landed(hubspot: BuiltWarehouse) -> None:
    assert sorted(t.table for t in SAMPLES) == [
        "email_event",
        "email_event_bounce",
        "email_event_click",
        "email_event_deferred",
        "email_event_delivered",
        "email_event_dropped",
        "email_event_forward",
        "email_event_open",
        "email_event_print",
        "email_event_sent",
        "email_event_spam_report",
        "email_event_status_change",
    ]
    # 100 events, and 937 per-type rows none of which has its event in the sample
    assert counts(
        hubspot,
        "select _source_file, count(*) from staging.landed__email_events group by 1",
    ) == {
        "raw_hubspot.email_event": 100,
        "raw_hubspot.email_event_bounce": 100,
        "raw_hubspot.email_event_click": 100,
        "raw_hubspot.email_event_deferred": 100,
        "raw_hubspot.email_event_delivered": 100,
        "raw_hubspot.email_event_dropped": 100,
        "raw_hubspot.email_event_forward": 100,
        "raw_hubspot.email_event_open": 100,
        "raw_hubspot.email_event_print": 5,
        "raw_hubspot.email_event_sent": 100,
        "raw_hubspot.email_event_spam_report": 32,
        "raw_hubspot.email_event_status_change": 100,
    }


def test_every_row_is_staged_or_quarantined_with_its_reason(hubspot: BuiltWarehouse) -> None:
    landed, good, bad = accounting(hubspot, "email_events", "base_esp__email_events")
    assert (landed, good, bad) == (1037, 0, 1037)
    assert counts(
        hubspot,
        "select quarantine_reason, count(*) from marts.quarantine group by quarantine_reason",
    ) == {
        # the events' recipients are obfuscated: not addresses
        "invalid_email": 100,
        # the per-type rows without their event have no recipient
        "missing_email": 937,
    }


def test_types_map_to_canonical_events(hubspot: BuiltWarehouse) -> None:
    assert by_event(hubspot, "base_esp__email_events", "email") == {
        "Email Opened": 190,
        "Email Processed": 107,
        "Email Delivered": 103,
        "Email Bounced": 100,
        "Email Clicked": 100,
        "Email Deferred": 100,
        "Email Dropped": 100,
        "Email Unsubscribed": 100,
        "Email Marked as Spam": 32,
        # forward and print: signals of their own
        OWN_SIGNAL: 105,
    }


def test_status_changes_are_global_unsubscribes(hubspot: BuiltWarehouse) -> None:
    assert counts(
        hubspot,
        "select event || ':' || coalesce(unsubscribe_group_id, 'global'), count(*) "
        "from staging.landed__email_events "
        "where _source_file = 'raw_hubspot.email_event_status_change' group by 1",
    ) == {"unsubscribe:global": 100}


def test_bounce_categories_give_hard_and_soft(hubspot: BuiltWarehouse) -> None:
    assert counts(
        hubspot,
        "select bounce_type, count(*) from staging.landed__email_events "
        "where event = 'bounce' group by 1",
    ) == {"hard": 1, "soft": 99}


def test_drops_keep_hubspots_reason(hubspot: BuiltWarehouse) -> None:
    assert counts(
        hubspot,
        "select reason, count(*) from staging.landed__email_events "
        "where event = 'dropped' group by 1",
    ) == {
        "PREVIOUSLY_BOUNCED": 67,
        "PREVIOUSLY_UNSUBSCRIBED_PORTAL": 28,
        "PREVIOUSLY_UNSUBSCRIBED_MESSAGE": 3,
        "PREVIOUS_SPAM": 1,
        "INVALID_TO_ADDRESS": 1,
    }


def test_opens_carry_the_filter_flag_and_messages_their_sent_event(
    hubspot: BuiltWarehouse,
) -> None:
    assert counts(
        hubspot,
        "select machine_open, count(*) from staging.landed__email_events "
        "where _source_file = 'raw_hubspot.email_event' and event = 'open' group by 1",
    ) == {"false": 90}
    assert (
        hubspot.scalar(
            "select count(*) from staging.landed__email_events "
            "where _source_file = 'raw_hubspot.email_event' and message_id is null"
        )
        == 0
    )


def test_a_second_build_changes_nothing(hubspot: BuiltWarehouse) -> None:
    before = snapshot(hubspot, BUILT)
    build_staging(hubspot)
    assert snapshot(hubspot, BUILT) == before


def test_the_whole_portal_passes_the_gates_once_its_unattributable_email_is_left_out(
    tmp_path: Path,
) -> None:
    """The whole sample (CRM and email), built end to end as of a week after its contacts
    were created. Its email events name no one (obfuscated recipients, per-type rows without
    their event): the staging gate says so, and it is the one gate that fails. Leaving the
    portal's email out (var hubspot__email_events__enabled: false) keeps its CRM, and every
    gate passes."""
    as_of = datetime(2021, 4, 8)
    landed = tmp_path / "landed.duckdb"
    warehouse = connect("duckdb", landed, None)
    try:
        for table in fivetran_tables(FOLDER):
            land_fivetran_csv(warehouse, "raw_hubspot", table)
    finally:
        warehouse.close()

    def build(name: str, extra_vars: dict[str, object] | None = None) -> BuiltWarehouse:
        built = BuiltWarehouse("duckdb", tmp_path, as_of, path=tmp_path / f"{name}.duckdb")
        built.path.write_bytes(landed.read_bytes())
        with environment(AUDIENCE_DUCKDB_PATH=str(built.path)):
            run_dbt(DAILY_BUILD, target="duckdb", as_of=as_of, extra_vars=extra_vars)
        return built

    with_email = build("with_email")
    failed = with_email.failed_gates(tmp_path / "gates")
    assert list(failed) == [("staging_volume", "email_events")]
    assert "quarantined_rows=1037" in failed[("staging_volume", "email_events")]

    crm_only = build("crm_only", {"hubspot__email_events__enabled": False})
    assert crm_only.failed_gates(tmp_path / "gates_crm") == {}
    assert crm_only.scalar("select count(*) from staging.landed__email_events") == 0
    assert crm_only.scalar("select count(*) from marts.contacts") == with_email.scalar(
        "select count(*) from marts.contacts"
    )


@pytest.mark.postgres
def test_postgres_lands_and_stages_as_duckdb_does(
    hubspot: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> None:
    compared = (
        "select event_id, event, timestamp, campaign_id, message_id, machine_open, bounce_type, "
        "unsubscribe_group_id, reason, _source_file, _source_row_number "
        "from staging.landed__email_events order by _source_file, _source_row_number"
    )
    with postgres_database() as database:
        pg = land_and_build("postgres", tmp_path_factory.mktemp("hubspot_pg"), database)
        assert pg.query(compared) == hubspot.query(compared)
