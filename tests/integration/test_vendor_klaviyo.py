"""Klaviyo as Fivetran lands it (20 people, 240 events of 13 metrics): its email metrics as
email events of the person's address, every other metric as a tracked event of user
`klaviyo:<person id>`, and one identify per person tying that user id to the address."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from vendors import (
    OWN_SIGNAL,
    SHARED_DATA,
    accounting,
    build_staging,
    by_event,
    counts,
    fivetran_tables,
    land_fivetran_and_build,
    snapshot,
)
from warehouses import BuiltWarehouse, postgres_database

pytestmark = pytest.mark.slow

FOLDER = SHARED_DATA / "vendor_shapes" / "klaviyo"
SAMPLES = fivetran_tables(FOLDER)
EMAIL_METRICS = {
    "Received Email": "Email Delivered",
    "Opened Email": "Email Opened",
    "Clicked Email": "Email Clicked",
    "Bounced Email": "Email Bounced",
    "Dropped Email": "Email Dropped",
    "Marked Email as Spam": "Email Marked as Spam",
    "Unsubscribed": "Email Unsubscribed",
}
COMMERCE_METRICS = {
    "Placed Order": "Order Completed",
    "Viewed Product": "Product Viewed",
    "Started Checkout": "Checkout Started",
    "Added to Cart": "Product Added",
}
BUILT = (
    "staging.landed__email_events",
    "staging.base_esp__email_events",
    "staging.landed__tracks",
    "staging.base_segment__tracks",
    "staging.landed__identifies",
    "staging.base_segment__identifies",
    "marts.quarantine",
)


def metrics() -> Counter[str]:
    with (FOLDER / "event.csv").open(newline="") as handle:
        return Counter(row["type"] for row in csv.DictReader(handle))


def land_and_build(target: str, root: Path, database: str | None = None) -> BuiltWarehouse:
    return land_fivetran_and_build(target, root, "raw_klaviyo", SAMPLES, database)


@pytest.fixture(scope="module")
def klaviyo(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    return land_and_build("duckdb", tmp_path_factory.mktemp("klaviyo"))


def test_every_event_is_an_email_event_or_a_track(klaviyo: BuiltWarehouse) -> None:
    sample = metrics()
    assert sum(sample.values()) == 240
    emails = sum(n for metric, n in sample.items() if metric in EMAIL_METRICS)
    assert klaviyo.scalar("select count(*) from staging.landed__email_events") == emails
    assert klaviyo.scalar("select count(*) from staging.landed__tracks") == 240 - emails


def test_email_events_are_staged_by_canonical_event(klaviyo: BuiltWarehouse) -> None:
    sample = metrics()
    landed, good, bad = accounting(klaviyo, "email_events", "base_esp__email_events")
    assert (good, bad) == (landed, 0)
    assert counts(
        klaviyo, "select event_name, count(*) from staging.stg_esp__email_events group by 1"
    ) == {EMAIL_METRICS[m]: n for m, n in sample.items() if m in EMAIL_METRICS}
    # every email event of a campaign is of the person's message of it
    assert (
        klaviyo.scalar(
            "select count(*) from staging.stg_esp__email_events "
            "where message_id is null or email not like 'shopper%@example.net'"
        )
        == 0
    )


def test_unsubscribes_are_global(klaviyo: BuiltWarehouse) -> None:
    assert (
        klaviyo.scalar(
            "select count(*) from staging.landed__email_events where event = 'Unsubscribed'"
        )
        == metrics()["Unsubscribed"]
    )
    assert (
        klaviyo.scalar(
            "select count(*) from staging.landed__email_events "
            "where unsubscribe_group_id is not null"
        )
        == 0
    )


def test_commerce_metrics_are_tracks_the_rest_signals_of_their_own(
    klaviyo: BuiltWarehouse,
) -> None:
    sample = metrics()
    others = {m: n for m, n in sample.items() if m not in EMAIL_METRICS}
    landed, good, bad = accounting(klaviyo, "tracks", "base_segment__tracks")
    assert landed == sum(others.values()) and landed == good + bad
    assert by_event(klaviyo, "base_segment__tracks", "tracks") == {
        **{COMMERCE_METRICS[m]: n for m, n in others.items() if m in COMMERCE_METRICS},
        # Ordered Product (a line of an order) and Active on Site have no canonical event
        OWN_SIGNAL: sum(n for m, n in others.items() if m not in COMMERCE_METRICS),
    }
    revenue = klaviyo.scalar(
        "select sum(revenue) from staging.stg_segment__tracks where event_name = 'Order Completed'"
    )
    assert float(revenue) == 59.0 * sample["Placed Order"]


def test_every_tracked_person_is_identified_by_email(klaviyo: BuiltWarehouse) -> None:
    landed, good, bad = accounting(klaviyo, "identifies", "base_segment__identifies")
    assert (landed, good, bad) == (20, 20, 0)
    unidentified = klaviyo.scalar(
        "select count(*) from staging.stg_segment__tracks as tracks where not exists ("
        "select 1 from staging.stg_segment__identifies as identifies "
        "where identifies.user_id = tracks.user_id and identifies.email is not null)"
    )
    assert unidentified == 0


def test_a_second_build_changes_nothing(klaviyo: BuiltWarehouse) -> None:
    before = snapshot(klaviyo, BUILT)
    build_staging(klaviyo)
    assert snapshot(klaviyo, BUILT) == before


@pytest.mark.postgres
def test_postgres_lands_and_stages_as_duckdb_does(
    klaviyo: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> None:
    compared = {
        "email": "select email_event_id, email, event_name, message_id, quarantine_reason "
        "from staging.base_esp__email_events order by 1",
        # properties compare as what staging reads of them: a typed number is text of each
        # engine's own spelling (59.0, 59), and each engine spaces JSON its own way
        "tracks": "select track_id, user_id, event_name, quarantine_reason "
        "from staging.base_segment__tracks order by 1",
        "revenue": "select track_id, revenue from staging.stg_segment__tracks order by 1",
        "identifies": "select identify_id, user_id, email, first_name "
        "from staging.stg_segment__identifies order by 1",
    }
    with postgres_database() as database:
        pg = land_and_build("postgres", tmp_path_factory.mktemp("klaviyo_pg"), database)
        for sql in compared.values():
            assert pg.query(sql) == klaviyo.query(sql)
