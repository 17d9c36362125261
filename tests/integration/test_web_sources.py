"""Snowplow's atomic events and a GA4 export day, landed in their own shape (`load --source`)
and built once: every vendor row is a page view, a tracked event, set aside with its reason,
or deliberately no event of its own (Snowplow's page pings, but the first ping of a page in a
session it was not viewed in, which continues the page view there, and a page view sent twice
under two event ids); a second build changes nothing; PostgreSQL builds the same.

Snowplow's sample comes with what Snowplow's dbt web package made of it (expected/: page
views, sessions, users). The project's page views, device visits (its sessions) and devices
(its users) are compared with them field by field; the figures are printed (`pytest -s`),
and every session or user that differs must be one of the differences the rules explain
(KNOWN_SESSION_DIFFERENCES, KNOWN_USER_DIFFERENCES).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from vendor_samples import SAMPLES, SHARED, copy_sample
from warehouse_state import capture, differences
from warehouses import DAILY_BUILD, BuiltWarehouse, environment, postgres_database

from audience.dbt import run_dbt
from audience.loader import load_dir
from audience.warehouse import DuckDBWarehouse, PostgresWarehouse

pytestmark = pytest.mark.slow

AS_OF = datetime(2024, 7, 1)
#: the web package's sample is named after its seed, not Snowplow's atomic.events
VARS = {"snowplow__events_identifier": "snowplow_web_events"}
EXPECTED = SHARED / "snowplow_web_b2b" / "expected"
SNOWPLOW_FILE = "snowplow_web_events.csv"
GA4_FILE = "events_20240601.parquet"

#: Expected sessions the project's device visits differ from, and why: none (a session ends at
#: its last page ping, a session of pings alone is the page view continued there, a session
#: belongs to the device it started on, and one without a device id is a visit of no device).
KNOWN_SESSION_DIFFERENCES: dict[str, str] = {}
#: Expected users (domain_userid) whose device's visits add up otherwise, and why.
KNOWN_USER_DIFFERENCES = {
    "4f011c929234934761dfff0bca3b5509a1b6d139560439e894a8d26a363654ad": (
        "its session id lasts 9 days: the package drops its events after 3 days, the project "
        "makes them a visit of their own (var visits__max_session_days)"
    ),
    "12c98e1f5869e3f298fef62699ad9bbe5410d1685e8344a1a1f86e92029685f0": (
        "its session id comes back 8 months later: the package drops that page view, the "
        "project makes it a visit of its own"
    ),
}


def expected(name: str) -> list[dict[str, str]]:
    path = EXPECTED / f"snowplow_web_{name}_expected.csv"
    if not path.exists():
        pytest.skip(f"the shared sample data is not on this machine ({path})")
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def number(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


def load_samples(root: Path, warehouse: DuckDBWarehouse | PostgresWarehouse) -> None:
    for name in ("snowplow", "ga4"):
        data = copy_sample(SAMPLES[name], root / name)
        report = load_dir(data, warehouse, source=name)
        assert report.errors == []


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """Both samples loaded and built (models, snapshots, data tests) on DuckDB."""
    root = tmp_path_factory.mktemp("web")
    path = root / "web.duckdb"
    with environment(AUDIENCE_DUCKDB_PATH=str(path)):
        warehouse = DuckDBWarehouse(path)
        try:
            load_samples(root, warehouse)
        finally:
            warehouse.close()
        run_dbt(DAILY_BUILD, target="duckdb", as_of=AS_OF, extra_vars=VARS)
    return BuiltWarehouse("duckdb", root, AS_OF, path=path)


def file_rows(web: BuiltWarehouse, relation: str, file: str) -> dict[str | None, int]:
    """Rows of a staging base model from one landed file, by quarantine reason."""
    rows = web.query(
        f"select quarantine_reason, count(*) from staging.{relation} "
        f"where _source_file like '%{file}' group by quarantine_reason"
    )
    return {reason: int(count) for reason, count in rows}


def test_every_snowplow_row_is_a_page_view_a_track_set_aside_or_no_event(web) -> None:
    landed = "raw_snowplow.snowplow_web_events"
    raw = web.scalar(f"select count(*) from {landed}")
    pings = web.scalar(f"select count(*) from {landed} where event_name = 'page_ping'")
    page_view_rows = web.scalar(f"select count(*) from {landed} where event_name = 'page_view'")
    pages = file_rows(web, "base_segment__pages", SNOWPLOW_FILE)
    tracks = file_rows(web, "base_segment__tracks", SNOWPLOW_FILE)
    # a page view continued in a later session (its first ping there): <page view id>|<session>
    continued = web.scalar(
        "select count(*) from staging.base_segment__pages "
        f"where _source_file like '%{SNOWPLOW_FILE}' and page_view_id like '%|%'"
    )
    repeated_views = page_view_rows - (sum(pages.values()) - continued)
    print(
        f"\nSnowplow: {raw} events in; pages {pages}; tracks {tracks}; "
        f"{pings} page pings (engaged time, no events; {continued} of them continue their "
        f"page view in a later session); "
        f"{repeated_views} page view sent again under another event id"
    )
    assert raw == 160
    assert (pings, continued, repeated_views) == (8, 3, 1)
    assert raw == sum(pages.values()) - continued + sum(tracks.values()) + pings + repeated_views
    # the planted duplicates of an event id: the first received stays
    assert pages == {None: 51, "duplicate_id": 1}
    assert tracks == {None: 100, "duplicate_id": 2}


def test_every_ga4_row_is_a_page_view_or_a_track(web) -> None:
    raw = web.scalar("select count(*) from raw_ga4.events")
    pages = file_rows(web, "base_segment__pages", GA4_FILE)
    tracks = file_rows(web, "base_segment__tracks", GA4_FILE)
    print(f"\nGA4: {raw} events in; pages {pages}; tracks {tracks}")
    assert raw == 368
    assert pages == {None: 55}
    assert tracks == {None: 313}
    # a session per device and ga_session_id; every page view has one and its engaged time
    assert web.query(
        "select count(*), count(session_id), count(engaged_seconds), min(engaged_seconds) "
        "from staging.stg_segment__pages where url like 'https://www.example.com/%'"
    ) == [(55, 55, 55, 0)]


def test_page_views_agree_with_the_web_package(web) -> None:
    ours = {
        row[0]: row[1:]
        for row in web.query(
            "select page_view_id, occurred_at, session_id, anonymous_id, engaged_seconds "
            "from staging.stg_segment__pages"
        )
    }
    rows = expected("page_views")
    agreeing = [
        row
        for row in rows
        if ours.get(row["event_id"])
        == (
            instant(row["derived_tstamp"]),
            row["domain_sessionid"],
            # the package gives a page view its session's device; the device it came from:
            row["original_domain_userid"] or None,
            number(row["engaged_time_in_s"]),
        )
    ]
    print(f"\npage views agreeing with the web package: {len(agreeing)} of {len(rows)}")
    assert len(agreeing) == len(rows) == 43


def session_differences(web: BuiltWarehouse) -> tuple[int, dict[str, str]]:
    visits: dict[str, list[tuple]] = {}
    for row in web.query(
        "select session_id, page_views, visit_started_at, visit_ended_at, engaged_seconds "
        "from intermediate.int_device_visits where session_id is not null "
        "order by visit_started_at"
    ):
        visits.setdefault(row[0], []).append(row[1:])
    rows = expected("sessions")
    differing = {}
    for row in rows:
        session = row["domain_sessionid"]
        theirs = (
            int(row["page_views"]),
            instant(row["start_tstamp"]),
            instant(row["end_tstamp"]),
            number(row["engaged_time_in_s"]),
        )
        mine = visits.get(session, [])
        if not mine:
            differing[session] = f"no device visit; the package: {theirs}"
        elif mine[0] != theirs:
            differing[session] = f"{len(mine)} visit(s), the first {mine[0]}; the package: {theirs}"
    return len(rows), differing


def test_sessions_agree_with_the_web_package(web) -> None:
    total, differing = session_differences(web)
    print(f"\nsessions agreeing with the web package: {total - len(differing)} of {total}")
    for session, difference in differing.items():
        print(f"  {session[:12]}: {difference}")
    assert set(differing) == set(KNOWN_SESSION_DIFFERENCES)


def test_the_two_sessions_without_one_device_agree_as_the_contacts_visits(web) -> None:
    for session in ("540b6c4f7c15", "b5c4939c16dd"):
        rows = [row for row in expected("sessions") if row["domain_sessionid"].startswith(session)]
        assert len(rows) == 1
        theirs = (
            int(rows[0]["page_views"]),
            instant(rows[0]["start_tstamp"]),
            instant(rows[0]["end_tstamp"]),
        )
        assert web.query(
            "select page_views, visit_started_at, visit_ended_at "
            f"from intermediate.int_contact_visits where session_id like '{session}%'"
        ) == [theirs]


def test_users_agree_with_the_web_package(web) -> None:
    ours = {
        row[0]: row[1:]
        for row in web.query(
            "select anonymous_id, sum(page_views), count(distinct session_id), "
            "min(visit_started_at), max(visit_ended_at), sum(engaged_seconds) "
            "from intermediate.int_device_visits group by anonymous_id"
        )
    }
    rows = expected("users")
    differing = {}
    for row in rows:
        theirs = (
            int(row["page_views"]),
            int(row["sessions"]),
            instant(row["start_tstamp"]),
            instant(row["end_tstamp"]),
            number(row["engaged_time_in_s"]),
        )
        mine = ours.get(row["domain_userid"])
        if mine != theirs:
            differing[row["domain_userid"]] = f"{mine}; the package: {theirs}"
    agreeing = len(rows) - len(differing)
    print(f"\nusers (devices) agreeing with the web package: {agreeing} of {len(rows)}")
    for device, difference in differing.items():
        print(f"  {device[:12]}: {difference}")
    assert set(differing) == set(KNOWN_USER_DIFFERENCES)


def test_a_device_belongs_to_the_first_user_identified_on_it(web) -> None:
    """User stitching: the package's users name the user id of a device's first session;
    the identity map gives each device to the first person identified on it (a later user id
    on the same device is a person of their own, never merged into the first)."""
    for row in expected("users"):
        if not row["domain_userid"]:
            continue
        contacts = web.query(
            "select identifier_type, contact_key from marts.identity_map "
            f"where (identifier_type = 'anonymous_id' and identifier = '{row['domain_userid']}') "
            f"or (identifier_type = 'user_id' and identifier = '{row['user_id']}')"
        )
        assert len(contacts) == 2 and contacts[0][1] == contacts[1][1], row["user_id"]
    stitched = web.scalar(
        "select count(distinct contact_key) from marts.identity_map "
        "where identifier_type = 'user_id' and identifier like 'user stitch - %'"
    )
    assert stitched == 10


def test_a_second_build_changes_nothing(web) -> None:
    assert web.path is not None
    with environment(AUDIENCE_DUCKDB_PATH=str(web.path)):
        before = capture(web)
        run_dbt(
            ["build", "--exclude", "resource_type:test", "resource_type:unit_test"],
            target="duckdb",
            as_of=AS_OF,
            extra_vars=VARS,
        )
        assert differences(capture(web), before) == []


#: relation -> (order, columns) compared between the engines: the adapters' rows, and what
#: staging and the visits make of them (properties' JSON text is each engine's own spelling
#: of the same object: its values are compared through staging's reading of them)
SAME_ON_POSTGRES = {
    "staging.adapt_snowplow__pages": (
        "_source_row_number",
        "id, anonymous_id, user_id, timestamp, received_at, path, session_id, engaged_seconds, "
        "last_active_at",
    ),
    "staging.adapt_snowplow__tracks": (
        "_source_row_number",
        "id, anonymous_id, user_id, event, timestamp, received_at, session_id",
    ),
    "staging.adapt_ga4__pages": (
        "_source_row_number",
        "id, anonymous_id, user_id, timestamp, url, path, title, session_id, engaged_seconds",
    ),
    "staging.adapt_ga4__tracks": (
        "_source_row_number",
        "id, anonymous_id, user_id, event, timestamp, session_id",
    ),
    "staging.stg_segment__pages": (
        "page_view_id",
        "anonymous_id, user_id, path, session_id, engaged_seconds, last_active_at, occurred_at, "
        "received_at",
    ),
    "staging.stg_segment__tracks": (
        "track_id",
        "anonymous_id, user_id, raw_event_name, event_name, session_id, occurred_at, "
        "order_id, revenue",
    ),
    "intermediate.int_device_visits": (
        "visit_id",
        "session_id, page_views, engaged_seconds, visit_started_at, visit_ended_at",
    ),
    "intermediate.int_contact_visits": (
        "visit_id",
        "session_id, page_views, engaged_seconds, visit_started_at, visit_ended_at",
    ),
}


@pytest.fixture(scope="module")
def postgres_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    root = tmp_path_factory.mktemp("web_pg")
    with postgres_database() as database, environment(PGDATABASE=database):
        warehouse = PostgresWarehouse(database)
        try:
            load_samples(root, warehouse)
        finally:
            warehouse.close()
        run_dbt(
            ["build", "--exclude", "resource_type:test"],
            target="postgres",
            as_of=AS_OF,
            extra_vars=VARS,
        )
        yield BuiltWarehouse("postgres", root, AS_OF, database=database)


@pytest.mark.postgres
@pytest.mark.parametrize("relation", sorted(SAME_ON_POSTGRES))
def test_postgres_builds_the_same(web, postgres_web, relation: str) -> None:
    order, columns = SAME_ON_POSTGRES[relation]
    query = f"select {order}, {columns} from {relation} order by {order}"
    duck = web.query(query)
    assert duck
    assert postgres_web.query(query) == duck


def test_the_gates_stop_only_the_stream_that_stopped(web: BuiltWarehouse, tmp_path: Path) -> None:
    """Two web samples and nothing else landed (no CRM, no ESP, no product data). As of
    2024-07-01 the Snowplow stream is fresh, but GA4's export day ends on 2024-06-21, past its
    96-hour error window: the only failed gates are GA4's freshness and volume, and no gate
    fails for a table that was never landed."""
    failed = web.failed_gates(tmp_path)
    ga4_newest = duckdb.sql(
        f"select to_timestamp(max(event_timestamp) / 1e6) at time zone 'UTC' "
        f"from '{SHARED / SAMPLES['ga4'].copy}'"
    ).fetchall()[0][0]
    assert (AS_OF - ga4_newest).total_seconds() / 3600 > 96
    assert set(failed) == {("raw_freshness", "ga4.events"), ("raw_volume", "ga4.events")}
