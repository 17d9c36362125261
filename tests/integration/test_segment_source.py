"""Segment's warehouse schema end to end: the sample (tests/fixtures/samples/vendor_shapes/segment:
`tracks` without properties, one table per event with its properties as columns, `pages`,
`identifies` with traits as columns, `groups`; 40 people person000 ... person039) and, for the
tables the sample lacks, `users` and `screens` written from Segment's schema docs
(tests/fixtures/segment_docs), landed with `--source segment` and built once on DuckDB as of
2024-06-21 10:30, just after its newest row; the same on PostgreSQL must give the same rows."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from cdp_exports import COMPARED_BUILD, Export, build_from_exports, rebuild
from equality import assert_same_rows
from vendor_samples import SAMPLES, copy_sample
from warehouse_state import capture, differences
from warehouses import FIXTURES, BuiltWarehouse, postgres_database

pytestmark = pytest.mark.slow

DOCS = FIXTURES / "segment_docs"
AS_OF = datetime(2024, 6, 21, 10, 30)
CAST = [f"{n:03d}" for n in range(40)]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Export:
    return Export(copy_sample(SAMPLES["segment"], tmp_path_factory.mktemp("segment_sample")))


def build(target: str, sample: Export, root: Path, database: str | None = None) -> BuiltWarehouse:
    return build_from_exports(
        target,
        [(sample.folder, "segment"), (DOCS, "segment")],
        AS_OF,
        path=root / "segment.duckdb" if target == "duckdb" else None,
        database=database,
        build=("build",) if target == "duckdb" else COMPARED_BUILD,
    )


@pytest.fixture(scope="module")
def segment(sample: Export, tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    return build("duckdb", sample, tmp_path_factory.mktemp("segment_duckdb"))


def contact_of(warehouse: BuiltWarehouse, identifier_type: str, identifier: str) -> str:
    rows = warehouse.query(
        "select contact_key from marts.identity_map "
        f"where identifier_type = '{identifier_type}' and identifier = '{identifier}'"
    )
    assert len(rows) == 1, f"{identifier_type} {identifier}: {rows}"
    return rows[0][0]


def test_every_track_is_staged_or_quarantined(segment: BuiltWarehouse, sample: Export) -> None:
    # Segment writes every track to both tables: the per-event rows add no track of their own
    assert sample.untracked_rows() == []
    expected = sample.track_rows()
    staged = segment.scalar("select count(*) from staging.stg_segment__tracks")
    set_aside = segment.scalar(
        "select count(*) from marts.quarantine where source_table = 'tracks'"
    )
    assert (expected, staged + set_aside) == (360, 360)
    unexplained = segment.scalar(
        "select count(*) from staging.base_segment__tracks "
        "where quarantine_reason is null and track_id not in "
        "(select track_id from staging.stg_segment__tracks)"
    )
    assert unexplained == 0


def test_every_property_reaches_its_track(segment: BuiltWarehouse, sample: Export) -> None:
    expected = sample.properties()
    rows = segment.query("select track_id, properties from staging.base_segment__tracks")
    packed = {
        track_id: {k: v for k, v in json.loads(text).items() if v is not None}
        for track_id, text in rows
        if text is not None
    }
    assert len(rows) == 360
    assert packed == expected
    # revenue, product and coupon reach the staged columns
    revenue = sum(
        float(r["revenue"]) for r in sample.table("order_completed") if r["revenue"] is not None
    )
    staged = segment.query(
        "select sum(revenue), count(coupon), count(*) from staging.stg_segment__tracks "
        "where event_name = 'Order Completed'"
    )[0]
    coupons = sum(1 for r in sample.table("order_completed") if r["coupon"] is not None)
    assert (round(float(staged[0]), 2), staged[1], staged[2]) == (
        round(revenue, 2),
        coupons,
        len(sample.table("order_completed")),
    )
    products = dict(
        segment.query(
            "select track_id, product_id from staging.stg_segment__tracks "
            "where event_name = 'Product Added'"
        )
    )
    # a wishlist product added to the cart is a product added too (the event name map)
    added = [*sample.table("product_added"), *sample.table("wishlist_product_added_to_cart")]
    assert products == {r["id"]: r["product_id"] for r in added}


def test_the_event_is_named_as_sent(segment: BuiltWarehouse, sample: Export) -> None:
    names = dict(segment.query("select track_id, raw_event_name from staging.base_segment__tracks"))
    assert names == {r["id"]: r["event_text"] for r in sample.table("tracks")}


def test_pages_and_screens(segment: BuiltWarehouse, sample: Export) -> None:
    pages = {
        r[0]: r[1:]
        for r in segment.query(
            "select page_view_id, url, path, title, referrer, user_agent "
            "from staging.stg_segment__pages"
        )
    }
    for row in sample.table("pages"):
        assert pages[row["id"]] == (
            row["url"],
            row["path"],
            row["title"],
            row["referrer"],
            row["context_user_agent"],
        )
    screens = {r["id"]: r for r in Export(DOCS).table("screens")}
    for screen_id, screen in screens.items():
        assert pages[screen_id] == (
            None,
            f"/screen/{screen['name'].lower()}",
            screen["name"],
            None,
            None,
        )
    assert len(pages) == len(sample.table("pages")) + len(screens)
    assert segment.scalar("select count(*) from marts.quarantine where source_table = 'pages'") == 0


def test_identifies_carry_their_traits_and_users_rows(
    segment: BuiltWarehouse, sample: Export
) -> None:
    rows = {
        r[0]: r[1:]
        for r in segment.query(
            "select identify_id, user_id, email, first_name, last_name, traits "
            "from staging.stg_segment__identifies"
        )
    }
    for row in sample.table("identifies"):
        user_id, email, first, last, traits = rows[row["id"]]
        assert (user_id, email, first, last) == (
            row["user_id"],
            row["email"],
            row["first_name"],
            row["last_name"],
        )
        assert json.loads(traits) == {
            "email": row["email"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "plan": row["plan"],
        }
    for user in Export(DOCS).table("users"):
        user_id, email, _, _, traits = rows[f"users:{user['id']}:{user['received_at']}"]
        assert (user_id, email) == (user["id"], user["email"])
        assert json.loads(traits)["plan"] == user["plan"]
    assert len(rows) == len(sample.table("identifies")) + len(Export(DOCS).table("users"))


def test_the_forty_people_are_forty_contacts(segment: BuiltWarehouse, sample: Export) -> None:
    anonymous = {r["user_id"]: r["anonymous_id"] for r in sample.table("identifies")}
    contacts = set()
    for n in CAST:
        person = contact_of(segment, "email", f"person{n}@example.org")
        assert contact_of(segment, "user_id", f"u{n}") == person
        assert contact_of(segment, "anonymous_id", anonymous[f"u{n}"]) == person
        contacts.add(person)
    assert len(contacts) == 40
    assert segment.query(
        "select count(*), count(case when is_identified then 1 end) from marts.contacts"
    ) == [(40, 40)]


def test_groups_are_not_read(segment: BuiltWarehouse, sample: Export) -> None:
    assert segment.scalar("select count(*) from raw_segment.groups") == len(sample.table("groups"))
    assert segment.scalar("select count(*) from staging.landed__crm_companies") == 0
    assert (
        segment.scalar("select count(*) from marts.identity_map where identifier like 'acct%'") == 0
    )


def test_a_second_build_changes_nothing(segment: BuiltWarehouse) -> None:
    before = capture(segment)
    rebuild(segment)
    assert differences(capture(segment), before) == []


@pytest.mark.postgres
def test_postgres_builds_the_same(
    segment: BuiltWarehouse, sample: Export, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with postgres_database() as database:
        pg = build("postgres", sample, tmp_path_factory.mktemp("segment_pg"), database=database)
        for relation in ("marts.identity_map", "marts.contacts"):
            assert_same_rows(segment, pg, relation)
        set_aside = (
            "select source_table, record_id, quarantine_reason, source_file, source_row_number "
            "from marts.quarantine"
        )
        assert sorted(pg.query(set_aside)) == sorted(segment.query(set_aside))
        query = (
            "select track_id, raw_event_name, properties, occurred_at "
            "from staging.base_segment__tracks"
        )
        for warehouse in (segment, pg):
            rows = warehouse.query(query)
            assert len(rows) == 360
        duck_rows = {
            r[0]: (r[1], json.loads(r[2] or "null"), str(r[3])) for r in segment.query(query)
        }
        pg_rows = {r[0]: (r[1], json.loads(r[2] or "null"), str(r[3])) for r in pg.query(query)}
        assert pg_rows == duck_rows


def test_the_gates_pass(segment: BuiltWarehouse, tmp_path: Path) -> None:
    """Segment's tables alone (no CRM, ESP or product data landed): every quality gate
    passes, so the syncs run; a table that was never landed fails none."""
    assert segment.failed_gates(tmp_path) == {}
