"""Marketo as Fivetran lands it (Fivetran's dbt_marketo sample: real B2B email activity, one
table per activity type, and leads), mapped by adapt_marketo__email_events and
adapt_marketo__crm_contacts and staged.

The sample's activities name leads its lead table does not hold (independent samples), so no
activity finds its lead's address: each is staged as an event of its lead (the CRM contact
`marketo:<lead id>`), a contact of its own until the lead arrives; the adapters' unit tests
cover the joined case, and a test here lands a missing lead and sees its activities move to
its address."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from vendors import (
    SHARED_DATA,
    accounting,
    build_staging,
    counts,
    fivetran_tables,
    land_fivetran_and_build,
    snapshot,
)
from warehouses import DAILY_BUILD, BuiltWarehouse, environment, postgres_database

from audience.dbt import run_dbt

pytestmark = pytest.mark.slow

FOLDER = SHARED_DATA / "fivetran_marketo_b2b_email"
SAMPLES = fivetran_tables(FOLDER, strip_prefix="marketo_")
BUILT = (
    "staging.landed__email_events",
    "staging.base_esp__email_events",
    "staging.landed__crm_contacts",
    "staging.base_crm__contacts",
    "marts.quarantine",
)


def land_and_build(target: str, root: Path, database: str | None = None) -> BuiltWarehouse:
    return land_fivetran_and_build(target, root, "raw_marketo", SAMPLES, database)


@pytest.fixture(scope="module")
def marketo(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    return land_and_build("duckdb", tmp_path_factory.mktemp("marketo"))


def test_every_email_activity_is_landed(marketo: BuiltWarehouse) -> None:
    assert counts(
        marketo,
        "select _source_file, count(*) from staging.landed__email_events group by 1",
    ) == {
        "raw_marketo.activity_send_email": 100,
        "raw_marketo.activity_email_delivered": 100,
        "raw_marketo.activity_open_email": 100,
        "raw_marketo.activity_click_email": 100,
        "raw_marketo.activity_email_bounced": 100,
        "raw_marketo.activity_unsubscribe_email": 100,
    }


def test_every_activity_is_staged_or_quarantined_with_its_reason(
    marketo: BuiltWarehouse,
) -> None:
    landed, good, bad = accounting(marketo, "email_events", "base_esp__email_events")
    # the sample's leads are not the activities' leads, and a bounce's address is obfuscated
    # (a hash): every activity is still its lead's, by the lead's id
    assert (landed, good, bad) == (600, 600, 0)
    assert (
        marketo.scalar(
            "select count(*) from staging.stg_esp__email_events "
            "where email is null and crm_contact_id like 'marketo:%'"
        )
        == 600
    )
    assert (
        marketo.scalar(
            "select count(*) from staging.base_esp__email_events "
            "where raw_email is not null and email is null"
        )
        == 100
    )


def test_activity_types_map_to_canonical_events(marketo: BuiltWarehouse) -> None:
    assert counts(
        marketo,
        "select event_name, count(*) from staging.base_esp__email_events group by 1",
    ) == {
        "Email Processed": 98,
        # the two sends the flow skipped
        "Email Dropped": 2,
        "Email Delivered": 100,
        "Email Opened": 100,
        "Email Clicked": 100,
        "Email Bounced": 100,
        "Email Unsubscribed": 100,
    }


def test_bounces_are_hard_and_unsubscribes_global(marketo: BuiltWarehouse) -> None:
    assert counts(
        marketo,
        "select event || ':' || coalesce(bounce_type, '-') || ':' "
        "|| coalesce(unsubscribe_group_id, 'global'), count(*) "
        "from staging.landed__email_events "
        "where event in ('email bounced', 'unsubscribe email') group by 1",
    ) == {"email bounced:hard:global": 100, "unsubscribe email:-:global": 100}


def test_clicks_keep_their_link_and_events_their_message(marketo: BuiltWarehouse) -> None:
    assert (
        marketo.scalar(
            "select count(*) from staging.landed__email_events "
            "where event = 'click email' and url like 'https://%'"
        )
        # 49 of the sample's clicks have no link
        == 51
    )
    # 600 activities of 100 sends, deliveries, ... to about as many leads and emails
    assert (
        marketo.scalar("select count(distinct message_id) from staging.landed__email_events") < 600
    )


def test_leads_are_contacts(marketo: BuiltWarehouse) -> None:
    landed, good, bad = accounting(marketo, "crm_contacts", "base_crm__contacts")
    assert (landed, good, bad) == (100, 100, 0)
    assert (
        marketo.scalar(
            "select count(*) from staging.stg_crm__contacts "
            "where crm_contact_id like 'marketo:%' and email like '%@email.com'"
        )
        == 100
    )


def test_a_second_build_changes_nothing(marketo: BuiltWarehouse) -> None:
    before = snapshot(marketo, BUILT)
    build_staging(marketo)
    assert snapshot(marketo, BUILT) == before


def test_the_whole_build_passes_every_gate_and_a_late_lead_takes_its_activities(
    marketo: BuiltWarehouse, tmp_path: Path
) -> None:
    """The sample alone, built end to end as of the day after its activities: every gate
    passes (every activity is its lead's), a lead's unsubscribe and hard bounce suppress it,
    and when the lead table later holds a lead the activities named, its activities are the
    contact of its address: one person, no longer a contact of its own."""
    built = BuiltWarehouse(
        "duckdb", marketo.data_dir, datetime(2020, 6, 1), path=tmp_path / "whole.duckdb"
    )
    marketo.execute("checkpoint")
    shutil.copyfile(marketo.path, built.path)

    def build() -> None:
        with environment(AUDIENCE_DUCKDB_PATH=str(built.path)):
            run_dbt(DAILY_BUILD, target="duckdb", as_of=built.as_of)

    build()
    assert built.failed_gates(tmp_path / "gates") == {}
    # 100 leads of the lead table, and 446 leads known by their activities only
    assert built.scalar("select count(*) from marts.contacts") == 546
    assert counts(
        built,
        "select coalesce(email_suppression_reason, '-'), count(*) from marts.contacts "
        "where primary_email is null group by 1",
    ) == {"-": 248, "unsubscribed": 98, "hard_bounce": 100}

    lead = str(
        built.scalar(
            "select min(crm_contact_id) from staging.stg_esp__email_events "
            "where event_name = 'Email Unsubscribed'"
        )
    ).removeprefix("marketo:")
    contact_of_lead = (
        "select contact_key from marts.identity_map "
        f"where identifier_type = 'crm_contact_id' and identifier = 'marketo:{lead}'"
    )
    alone = built.scalar(contact_of_lead)
    events_of_lead = built.scalar(
        f"select count(*) from intermediate.int_events_unified where contact_key = '{alone}'"
    )
    assert events_of_lead >= 1

    built.execute(
        # Fivetran syncs the lead later: a new row, stamped with its sync
        "insert into raw_marketo.lead (id, email, created_at, updated_at, _fivetran_synced) "
        f"values ('{lead}', 'late.lead@example.org', '2020-05-01 00:00:00', "
        "'2020-05-01 00:00:00', current_timestamp)"
    )
    build()
    joined = built.scalar(contact_of_lead)
    assert joined == built.scalar(
        "select contact_key from marts.identity_map "
        "where identifier_type = 'email' and identifier = 'late.lead@example.org'"
    )
    assert built.query(
        f"select primary_email, email_suppression_reason from marts.contacts "
        f"where contact_key = '{joined}'"
    ) == [("late.lead@example.org", "unsubscribed")]
    assert (
        built.scalar(
            f"select count(*) from intermediate.int_events_unified where contact_key = '{joined}'"
        )
        == events_of_lead
    )
    assert built.scalar("select count(*) from marts.contacts") == 546
    assert built.failed_gates(tmp_path / "gates_after") == {}


@pytest.mark.postgres
def test_postgres_lands_and_stages_as_duckdb_does(
    marketo: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> None:
    compared = (
        "select event_id, event, timestamp, campaign_id, message_id, url, bounce_type, reason, "
        "_source_file, _source_row_number "
        "from staging.landed__email_events order by _source_file, _source_row_number"
    )
    contacts = "select * from staging.stg_crm__contacts order by crm_contact_id"
    with postgres_database() as database:
        pg = land_and_build("postgres", tmp_path_factory.mktemp("marketo_pg"), database)
        assert pg.query(compared) == marketo.query(compared)
        assert pg.query(contacts) == marketo.query(contacts)
