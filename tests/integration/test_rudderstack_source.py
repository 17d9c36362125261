"""RudderStack's warehouse schema end to end, on a small export written from RudderStack's
warehouse-schema documentation (tests/fixtures/rudderstack): `tracks` with `event` as the
table name and `event_text` as sent, per-event tables, `pages` with `context_page_*` and
`context_session_id`, `screens`, `identifies` with the JavaScript SDK's `context_traits_*`,
`users`, `groups` and `rudder_discards`; plus an event table RudderStack wrote straight into
the warehouse, typed, with `uuid_ts` and no file (`_users`: an event named like one of its
own tables). Landed with `--source rudderstack` and built once on DuckDB as of 2024-07-01;
the same on PostgreSQL must give the same rows.

The people: Ana (r-101) browses, adds to cart and orders; Ben (r-102) signs up, requests a
demo (no row in its event table), orders (a row in the event table only: the destination
skipped the tracks table) and opens the app; Cy (r-103) is identified without an email, which
only the users table knows; Dan (r-104) is only in the users table; Eve browses anonymously
on the web and in the app (two anonymous ids, never identified)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from cdp_exports import COMPARED_BUILD, Export, build_from_exports, rebuild
from equality import assert_same_rows
from warehouse_state import capture, differences
from warehouses import FIXTURES, BuiltWarehouse, postgres_database

pytestmark = pytest.mark.slow

EXPORT = Export(FIXTURES / "rudderstack")
AS_OF = datetime(2024, 7, 1)


def write_users_event_table(warehouse: BuiltWarehouse) -> None:
    """An event called "Users": RudderStack names its table `_users`. Written by RudderStack
    into the warehouse, typed, not landed from a file."""
    stamp = "timestamp with time zone"
    warehouse.execute(
        "create table raw_rudderstack._users (id varchar(64), anonymous_id varchar(64), "
        f"user_id varchar(64), event varchar(64), event_text varchar(64), plan varchar(16), "
        f'seats integer, "timestamp" {stamp}, received_at {stamp}, uuid_ts {stamp})'
    )
    warehouse.execute(
        "insert into raw_rudderstack._users values ('r-t05', 'a-cy-1', 'r-103', 'users', "
        "'Users', 'team', 5, '2024-06-05 09:00:00+00', '2024-06-05 09:00:01+00', "
        "'2024-06-05 09:30:00+00')"
    )


def build(target: str, root: Path, database: str | None = None) -> BuiltWarehouse:
    return build_from_exports(
        target,
        [(EXPORT.folder, "rudderstack")],
        AS_OF,
        path=root / "rudderstack.duckdb" if target == "duckdb" else None,
        database=database,
        prepare=write_users_event_table,
        build=("build",) if target == "duckdb" else COMPARED_BUILD,
    )


@pytest.fixture(scope="module")
def rudder(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    return build("duckdb", tmp_path_factory.mktemp("rudderstack_duckdb"))


def contact_of(warehouse: BuiltWarehouse, identifier_type: str, identifier: str) -> str:
    rows = warehouse.query(
        "select contact_key from marts.identity_map "
        f"where identifier_type = '{identifier_type}' and identifier = '{identifier}'"
    )
    assert len(rows) == 1, f"{identifier_type} {identifier}: {rows}"
    return rows[0][0]


def tracks(warehouse: BuiltWarehouse) -> dict[str, tuple]:
    """Each track row of staging (good or set aside): name, properties, reason."""
    rows = warehouse.query(
        "select track_id, raw_event_name, properties, quarantine_reason, _source_row_number "
        "from staging.base_segment__tracks"
    )
    return {
        f"{r[0]}#{r[4]}": (r[1], None if r[2] is None else json.loads(r[2]), r[3]) for r in rows
    }


def test_every_track_row_is_staged_or_set_aside_with_its_reason(rudder: BuiltWarehouse) -> None:
    # 8 tracks rows, and the one order whose row is only in its event table
    assert EXPORT.track_rows() == 9
    staged = rudder.scalar("select count(*) from staging.stg_segment__tracks")
    set_aside = dict(
        rudder.query(
            "select record_id, quarantine_reason from marts.quarantine "
            "where source_table = 'tracks'"
        )
    )
    # "Users" is no event of the event map: set aside as unknown_event where the map refuses
    # unknown names, staged as an event of its own where they flow through
    users = set_aside.pop("r-t05", None)
    assert users in (None, "unknown_event")
    assert set_aside == {"r-t02": "duplicate_id", "r-t07": "invalid_timestamp"}
    assert staged + len(set_aside) + (users is not None) == 9


def test_properties_come_from_the_event_tables(rudder: BuiltWarehouse) -> None:
    staged = {
        r[0]: (r[1], None if r[2] is None else json.loads(r[2]), r[3], r[4], r[5])
        for r in rudder.query(
            "select track_id, raw_event_name, properties, revenue, coupon, product_id "
            "from staging.stg_segment__tracks"
        )
    }
    name, properties, revenue, coupon, _ = staged["r-t02"]
    assert (name, float(revenue), coupon, properties["currency"]) == (
        "Order Completed",
        89.5,
        "SUMMER10",
        "EUR",
    )
    assert json.loads(properties["products"]) == [{"product_id": "p-7", "quantity": 1}]
    # `name` and `position` are properties, whatever SQL and the call think of the words
    assert staged["r-t01"][1] == {
        "product_id": "p-7",
        "sku": "SKU-7",
        "category": "shoes",
        "name": "Trail Runner",
        "price": "89.5",
        "quantity": "1",
        "coupon": None,
        "position": "3",
    }
    assert staged["r-t01"][4] == "p-7"
    # an order in its event table only is a track of its own
    name, properties, revenue, _, _ = staged["r-t06"]
    assert (name, properties["order_id"], float(revenue)) == ("Order Completed", "o-5002", 230.0)
    # the demo request has no row in an event table: no properties
    assert staged["r-t04"][:2] == ("Demo Requested", None)
    assert staged["r-t03"][1] == {"type": "organic", "plan": "pro"}


def test_an_event_table_written_into_the_warehouse_is_read(rudder: BuiltWarehouse) -> None:
    # `_users`, typed, with uuid_ts and no file: its columns read as text, uuid_ts as the
    # arrival; the track keeps the lineage of its tracks row
    row = rudder.query(
        "select event, properties, timestamp, _source_file from staging.landed__tracks "
        "where id = 'r-t05'"
    )
    assert len(row) == 1
    event, properties, timestamp, source_file = row[0]
    assert {k: v for k, v in json.loads(properties).items() if v is not None} == {
        "plan": "team",
        "seats": "5",
    }
    assert (event, timestamp, Path(source_file).name) == (
        "Users",
        "2024-06-05T09:00:00.000Z",
        "tracks.csv",
    )


def test_the_event_tables_are_found_among_the_schema(rudder: BuiltWarehouse) -> None:
    # rudder_discards (no event column) and the CDP's own tables are not event tables
    read = rudder.query(
        "select distinct _source_file from staging.landed__tracks order by _source_file"
    )
    files = sorted(Path(f).name for (f,) in read)
    assert files == ["order_completed.csv", "tracks.csv"]
    assert rudder.scalar("select count(*) from raw_rudderstack.rudder_discards") == 1


def test_sessions_reach_the_landed_rows(rudder: BuiltWarehouse) -> None:
    sessions = dict(rudder.query("select id, session_id from staging.landed__pages"))
    assert sessions["r-p01"] == "1717408800000"
    assert sessions["r-s01"] == "1717664500000"
    tracked = dict(rudder.query("select id, session_id from staging.landed__tracks"))
    assert tracked["r-t06"] == "1717491600000"


def test_pages_fall_back_on_their_context_and_screens_are_pages(rudder: BuiltWarehouse) -> None:
    pages = {
        r[0]: r[1:]
        for r in rudder.query(
            "select page_view_id, url, path, title, page_category "
            "from staging.stg_segment__pages order by page_view_id"
        )
    }
    assert pages["r-p04"] == (
        "https://shop.example.com/demo",
        "/demo",
        "Book a demo",
        "demo_request",
    )
    assert pages["r-s01"] == (None, "/screen/pricing", "Pricing", "other")
    assert pages["r-s02"][1] == "/screen/home"
    assert len(pages) == 7


def test_emails_come_from_identify_context_traits_and_users(rudder: BuiltWarehouse) -> None:
    identifies = dict(
        rudder.query("select identify_id, email from staging.stg_segment__identifies")
    )
    assert identifies == {
        "r-i01": "ana.lima@example.com",
        "r-i02": "ben.ortiz@example.com",
        "r-i03": None,
        "users:r-101:2024-06-03T10:04:01.000Z": "ana.lima@example.com",
        "users:r-103:2024-06-05T10:00:01.000Z": "cy.tan@example.com",
        "users:r-104:2024-06-06T12:00:01.000Z": "dan.wu@example.com",
    }
    traits = json.loads(
        rudder.scalar(
            "select traits from staging.stg_segment__identifies where identify_id = 'r-i01'"
        )
    )
    assert {k: v for k, v in traits.items() if v is not None} == {
        "email": "ana.lima@example.com",
        "first_name": "Ana",
        "company": "Lima Labs",
    }
    traits = json.loads(
        rudder.scalar(
            "select traits from staging.stg_segment__identifies where identify_id = 'r-i02'"
        )
    )
    assert {k: v for k, v in traits.items() if v is not None} == {
        "email": "ben.ortiz@example.com",
        "name": "Ben Ortiz",
        "plan": "pro",
    }


def test_people_and_their_identifiers(rudder: BuiltWarehouse) -> None:
    people = {
        "ana": [
            ("user_id", "r-101"),
            ("anonymous_id", "a-ana-1"),
            ("email", "ana.lima@example.com"),
        ],
        "ben": [
            ("user_id", "r-102"),
            ("anonymous_id", "a-ben-1"),
            ("anonymous_id", "a-ben-2"),
            ("email", "ben.ortiz@example.com"),
        ],
        "cy": [("user_id", "r-103"), ("anonymous_id", "a-cy-1"), ("email", "cy.tan@example.com")],
        "dan": [("user_id", "r-104"), ("email", "dan.wu@example.com")],
        "eve (web)": [("anonymous_id", "a-eve-1")],
        "eve (app)": [("anonymous_id", "a-eve-2")],
    }
    keys = {}
    for person, identifiers in people.items():
        found = {contact_of(rudder, kind, value) for kind, value in identifiers}
        assert len(found) == 1, person
        keys[person] = found.pop()
    assert len(set(keys.values())) == len(people)
    assert rudder.query(
        "select count(*), count(case when is_identified then 1 end) from marts.contacts"
    ) == [(6, 4)]


def test_groups_are_not_read(rudder: BuiltWarehouse) -> None:
    assert rudder.scalar("select count(*) from raw_rudderstack.groups") == 1
    assert rudder.scalar("select count(*) from staging.landed__crm_companies") == 0


def test_a_second_build_changes_nothing(rudder: BuiltWarehouse) -> None:
    before = capture(rudder)
    rebuild(rudder)
    assert differences(capture(rudder), before) == []


@pytest.mark.postgres
def test_postgres_builds_the_same(
    rudder: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with postgres_database() as database:
        pg = build("postgres", tmp_path_factory.mktemp("rudderstack_pg"), database=database)
        for relation in ("marts.identity_map", "marts.contacts"):
            assert_same_rows(rudder, pg, relation)
        assert tracks(pg) == tracks(rudder)
        pages = "select page_view_id, url, path, page_category from staging.stg_segment__pages"
        assert sorted(pg.query(pages)) == sorted(rudder.query(pages))
