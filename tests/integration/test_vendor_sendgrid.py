"""SendGrid's Event Webhook sample (366 events for 40 people) loaded with `audience load
--source sendgrid` (text, in raw_sendgrid), mapped by adapt_sendgrid__email_events and staged:
every event accounted for, bounce types, group unsubscribes and machine opens kept, and a
second build changes nothing. No contract table exists: the vendor's alone build."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from vendors import (
    AS_OF,
    SHARED_DATA,
    accounting,
    build_staging,
    by_event,
    connect,
    counts,
    snapshot,
)
from warehouses import DAILY_BUILD, BuiltWarehouse, environment, postgres_database

from audience.dbt import run_dbt
from audience.loader import load_dir

pytestmark = pytest.mark.slow

SAMPLE = SHARED_DATA / "vendor_shapes" / "sendgrid" / "sendgrid_events.jsonl"
BUILT = ("staging.landed__email_events", "staging.base_esp__email_events", "marts.quarantine")


def land_and_build(target: str, root: Path, database: str | None = None) -> BuiltWarehouse:
    path = root / "sendgrid.duckdb" if target == "duckdb" else None
    folder = root / "sendgrid"
    folder.mkdir()
    shutil.copyfile(SAMPLE, folder / SAMPLE.name)
    warehouse = connect(target, path, database)
    try:
        load_dir(folder, warehouse, source="sendgrid")
    finally:
        warehouse.close()
    built = BuiltWarehouse(target, root, AS_OF, path=path, database=database)
    build_staging(built)
    return built


@pytest.fixture(scope="module")
def sendgrid(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    return land_and_build("duckdb", tmp_path_factory.mktemp("sendgrid"))


def test_every_event_is_landed_once(sendgrid: BuiltWarehouse) -> None:
    assert sendgrid.scalar("select count(*) from raw_sendgrid.sendgrid_events") == 366
    assert sendgrid.scalar("select count(*) from staging.landed__email_events") == 366
    assert (
        sendgrid.scalar(
            "select count(distinct _source_file || ':' || _source_row_number) "
            "from staging.landed__email_events"
        )
        == 366
    )


def test_every_event_is_staged_or_quarantined(sendgrid: BuiltWarehouse) -> None:
    landed, good, bad = accounting(sendgrid, "email_events", "base_esp__email_events")
    assert (landed, good + bad) == (366, 366)
    reasons = counts(
        sendgrid,
        "select quarantine_reason, count(*) from marts.quarantine group by quarantine_reason",
    )
    # unix seconds are a valid time once staging reads epoch timestamps; before, every event
    # waits in quarantine as invalid_timestamp and nothing else is wrong with any of them
    assert set(reasons) <= {"invalid_timestamp"}


def test_every_event_maps_to_its_canonical_event(sendgrid: BuiltWarehouse) -> None:
    assert by_event(sendgrid, "base_esp__email_events", "email") == {
        "Email Processed": 120,
        "Email Delivered": 103,
        "Email Opened": 60,
        "Email Clicked": 31,
        "Email Deferred": 17,
        "Email Bounced": 13,
        # 6 unsubscribes and 6 group unsubscribes
        "Email Unsubscribed": 12,
        "Email Dropped": 4,
        "Email Marked as Spam": 3,
        # a group resubscribe takes the person back into the group
        "Email Resubscribed": 3,
    }


def test_bounces_are_hard_or_blocks(sendgrid: BuiltWarehouse) -> None:
    assert counts(
        sendgrid,
        "select bounce_type, count(*) from staging.landed__email_events "
        "where event = 'bounce' group by bounce_type",
    ) == {"hard": 5, "block": 8}


def test_unsubscribes_are_global_or_of_their_group(sendgrid: BuiltWarehouse) -> None:
    assert counts(
        sendgrid,
        "select event || ':' || coalesce(unsubscribe_group_id, 'global'), count(*) "
        "from staging.landed__email_events where event like '%subscribe' group by 1",
    ) == {"unsubscribe:global": 6, "group_unsubscribe:10": 6, "group_resubscribe:10": 3}


def test_machine_opens_are_flagged(sendgrid: BuiltWarehouse) -> None:
    assert counts(
        sendgrid,
        "select is_machine_open, count(*) from staging.base_esp__email_events "
        "where event_name = 'Email Opened' group by is_machine_open",
    ) == {True: 24, False: 36}


def test_messages_and_campaigns_tie_events_together(sendgrid: BuiltWarehouse) -> None:
    assert (
        sendgrid.scalar("select count(distinct message_id) from staging.base_esp__email_events")
        == 120
    )
    assert counts(
        sendgrid,
        "select campaign_id, count(*) from staging.base_esp__email_events group by campaign_id",
    ).keys() == {"12345", "12346", "12347"}


def test_drops_say_why(sendgrid: BuiltWarehouse) -> None:
    assert counts(
        sendgrid,
        "select reason, count(*) from staging.landed__email_events "
        "where event = 'dropped' group by reason",
    ) == {"Bounced Address": 4}


def test_a_second_build_changes_nothing(sendgrid: BuiltWarehouse) -> None:
    before = snapshot(sendgrid, BUILT)
    build_staging(sendgrid)
    assert snapshot(sendgrid, BUILT) == before


@pytest.mark.postgres
def test_postgres_stages_the_sample_as_duckdb_does(
    sendgrid: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with postgres_database() as database:
        pg = land_and_build("postgres", tmp_path_factory.mktemp("sendgrid_pg"), database)
        compared = (
            "select event_id, event, bounce_type, unsubscribe_group_id, machine_open, reason, "
            "_source_row_number from staging.landed__email_events order by _source_row_number"
        )
        assert pg.query(compared) == sendgrid.query(compared)
        staged = (
            "select email_event_id, email, event_name, is_machine_open, quarantine_reason "
            "from staging.base_esp__email_events order by email_event_id"
        )
        assert pg.query(staged) == sendgrid.query(staged)


def test_sendgrid_can_be_left_out(tmp_path: Path) -> None:
    """var sendgrid__enabled false takes the adapter out of the project."""
    with environment(AUDIENCE_DUCKDB_PATH=str(tmp_path / "off.duckdb")):
        result = run_dbt(
            ["ls", "--select", "adapt_sendgrid__email_events", "--output", "name"],
            target="duckdb",
            as_of=AS_OF,
            extra_vars={"sendgrid__enabled": False},
        )
    assert not [line for line in (result.result or []) if "adapt_sendgrid" in str(line)]


def test_the_whole_build_as_of_the_sample_passes_every_gate(sendgrid, tmp_path: Path) -> None:
    """The webhook sample alone (no contract table, no CRM), built end to end as of the
    instant after its last event (a replay of its day): every quality gate passes, so its
    syncs would run. As of the shared test instant, two years later, the raw freshness gate
    says the stream stopped: which is what it is for."""
    from datetime import datetime

    replay = BuiltWarehouse(
        "duckdb", sendgrid.data_dir, datetime(2024, 6, 20), path=tmp_path / "replay.duckdb"
    )
    sendgrid.execute("checkpoint")
    shutil.copyfile(sendgrid.path, replay.path)
    with environment(AUDIENCE_DUCKDB_PATH=str(replay.path)):
        run_dbt(DAILY_BUILD, target="duckdb", as_of=replay.as_of)
    assert replay.scalar("select count(*) from marts.contacts") == 40
    assert replay.failed_gates(tmp_path / "gates") == {}
