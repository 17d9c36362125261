"""Mailchimp as Fivetran lands it (Fivetran's dbt_mailchimp test data: one campaign of ten
recipients, their opens and clicks, the audience's members and one unsubscribe), mapped by
adapt_mailchimp__email_events and staged."""

from __future__ import annotations

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
from warehouses import BuiltWarehouse, postgres_database

pytestmark = pytest.mark.slow

SAMPLES = fivetran_tables(SHARED_DATA / "vendor_shapes" / "mailchimp")
BUILT = ("staging.landed__email_events", "staging.base_esp__email_events", "marts.quarantine")


def land_and_build(
    target: str, root: Path, database: str | None = None, unsubscribe_is_global: bool = False
) -> BuiltWarehouse:
    return land_fivetran_and_build(
        target,
        root,
        "raw_mailchimp",
        SAMPLES,
        database,
        {"mailchimp__unsubscribe_is_global": unsubscribe_is_global},
    )


@pytest.fixture(scope="module")
def mailchimp(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    return land_and_build("duckdb", tmp_path_factory.mktemp("mailchimp"))


def test_recipients_activity_and_unsubscribes_are_landed(mailchimp: BuiltWarehouse) -> None:
    assert counts(
        mailchimp,
        "select _source_file, count(*) from staging.landed__email_events group by 1",
    ) == {
        "raw_mailchimp.campaign_recipient": 10,
        "raw_mailchimp.campaign_recipient_activity": 17,
        "raw_mailchimp.unsubscribe": 1,
    }


def test_every_event_is_staged_or_quarantined_with_its_reason(mailchimp: BuiltWarehouse) -> None:
    landed, good, bad = accounting(mailchimp, "email_events", "base_esp__email_events")
    assert (landed, good, bad) == (28, 23, 5)
    # four recipients are not among the sample's members: no address for their delivery
    # and one open
    assert counts(
        mailchimp,
        "select quarantine_reason, count(*) from marts.quarantine group by 1",
    ) == {"missing_email": 5}


def test_recipients_are_deliveries_at_the_send_time(mailchimp: BuiltWarehouse) -> None:
    assert counts(
        mailchimp,
        "select event_name, count(*) from staging.stg_esp__email_events group by 1",
    ) == {
        "Email Delivered": 6,
        "Email Opened": 11,
        "Email Clicked": 5,
        "Email Unsubscribed": 1,
    }
    assert {
        str(row[0])
        for row in mailchimp.query(
            "select occurred_at from staging.stg_esp__email_events "
            "where event_name = 'Email Delivered'"
        )
    } == {"2019-11-27 16:59:27"}


def test_an_unsubscribe_leaves_its_list(mailchimp: BuiltWarehouse) -> None:
    assert mailchimp.query(
        "select email, unsubscribe_group_id, campaign_id from staging.landed__email_events "
        "where event = 'unsubscribe'"
    ) == [("dylan+testing@example.co", "8e423a4179", "b63e7b8aff")]


def test_opens_and_clicks_belong_to_their_delivery(mailchimp: BuiltWarehouse) -> None:
    orphans = mailchimp.scalar(
        "select count(*) from staging.stg_esp__email_events as engaged "
        "where engaged.event_name in ('Email Opened', 'Email Clicked') and not exists ("
        "select 1 from staging.stg_esp__email_events as delivered "
        "where delivered.event_name = 'Email Delivered' "
        "and delivered.message_id = engaged.message_id)"
    )
    assert orphans == 0


def test_a_second_build_changes_nothing(mailchimp: BuiltWarehouse) -> None:
    before = snapshot(mailchimp, BUILT)
    build_staging(mailchimp)
    assert snapshot(mailchimp, BUILT) == before


@pytest.mark.postgres
def test_postgres_with_global_unsubscribes(
    mailchimp: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On PostgreSQL, for an account of one audience: the same events, the unsubscribe global."""
    compared = (
        "select event_id, email, event, timestamp, message_id, url, _source_row_number "
        "from staging.landed__email_events order by event_id"
    )
    with postgres_database() as database:
        pg = land_and_build("postgres", tmp_path_factory.mktemp("mailchimp_pg"), database, True)
        assert pg.query(compared) == mailchimp.query(compared)
        assert pg.query(
            "select count(*) from staging.landed__email_events "
            "where event = 'unsubscribe' and unsubscribe_group_id is null"
        ) == [(1,)]
