"""Membership history over a sequence of daily builds: enter, leave, re-enter, replay."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest
from warehouses import FIXTURES, BuiltWarehouse, environment

from audience.dbt import DbtError, run_dbt
from audience.loader import load_dir
from audience.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.slow

#: Jane (tiny fixture) requests a demo on 2026-06-10; a second request lands on 2026-06-25.
SECOND_REQUEST = (
    "id,anonymous_id,user_id,event,timestamp,received_at,properties\n"
    't100,a1,u1,Demo Requested,2026-06-25T09:00:00Z,2026-06-25T09:00:01Z,"{}"\n'
)
DAYS = ["2026-06-09", "2026-06-11", "2026-06-14", "2026-06-18", "2026-06-26"]
#: the day-by-day builds skip the data tests (the other suites run them): models and snapshots
BUILD = ["build", "--exclude", "resource_type:test", "resource_type:unit_test"]


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    root = tmp_path_factory.mktemp("history")
    later = root / "later"
    later.mkdir()
    (later / "tracks.csv").write_text(SECOND_REQUEST)
    path = root / "history.duckdb"
    warehouse = BuiltWarehouse("duckdb", FIXTURES / "tiny", datetime(2026, 6, 26), path=path)
    with environment(AUDIENCE_DUCKDB_PATH=str(path)):
        loader = DuckDBWarehouse(path)
        try:
            # everything is loaded up front: each build sees only what it knew by its as_of
            load_dir(FIXTURES / "tiny", loader)
            load_dir(later, loader)
        finally:
            loader.close()
        memberships: dict[str, set[tuple[str, str]]] = {}
        snapshot_rows: dict[str, int] = {}
        for day in [*DAYS, DAYS[-1]]:
            run_dbt(BUILD, target="duckdb", as_of=datetime.fromisoformat(day))
            memberships[day] = set(
                warehouse.query("select contact_key, segment_id from marts.segment_membership")
            )
            snapshot_rows[day] = warehouse.scalar(
                "select count(*) from snapshots.segment_membership_snapshot"
            )
    jane = warehouse.scalar(
        "select contact_key from marts.identity_map "
        "where identifier_type = 'user_id' and identifier = 'u1'"
    )
    return warehouse, memberships, snapshot_rows, jane, root


def test_enter_leave_and_reenter_give_two_spells(history):
    warehouse, _, _, jane, _ = history
    spells = warehouse.query(
        "select cast(valid_from as date), cast(valid_to as date), is_current, reason_at_entry "
        "from marts.segment_membership_history "
        f"where contact_key = '{jane}' and segment_id = 'demo_requested' order by valid_from"
    )
    assert [(str(a), str(b) if b else None, c, r) for a, b, c, r in spells] == [
        ("2026-06-11", "2026-06-18", False, "requested a demo"),
        ("2026-06-26", None, True, "requested a demo"),
    ]
    transitions = warehouse.query(
        "select transition, cast(transitioned_at as date) from marts.segment_transitions "
        f"where contact_key = '{jane}' and segment_id = 'demo_requested' "
        "order by transitioned_at, transition"
    )
    assert [(t, str(d)) for t, d in transitions] == [
        ("entered", "2026-06-11"),
        ("exited", "2026-06-18"),
        ("entered", "2026-06-26"),
    ]


def test_entered_at_is_the_build_that_started_the_spell(history):
    warehouse, _, _, jane, _ = history
    entered = warehouse.scalar(
        "select cast(entered_at as date) from marts.segment_membership "
        f"where contact_key = '{jane}' and segment_id = 'demo_requested'"
    )
    assert str(entered) == "2026-06-26"
    # a membership that lasted across builds keeps its first day
    kept = warehouse.query(
        "select count(*) from marts.segment_membership as membership "
        "inner join marts.segment_membership_history as history "
        "on membership.contact_key = history.contact_key "
        "and membership.segment_id = history.segment_id and history.is_current "
        "where membership.entered_at <> history.valid_from"
    )
    assert kept == [(0,)]


def test_replaying_a_build_adds_no_history(history):
    _, _, snapshot_rows, _, _ = history
    assert snapshot_rows[DAYS[-1]] > snapshot_rows[DAYS[0]]
    # the last day was built twice; the second build is what the dict holds
    warehouse = history[0]
    assert (
        warehouse.scalar("select count(*) from snapshots.segment_membership_snapshot")
        == snapshot_rows[DAYS[-1]]
    )
    assert (
        warehouse.query(
            "select contact_key, segment_id, count(*) from marts.segment_membership_history "
            "where is_current group by 1, 2 having count(*) > 1"
        )
        == []
    )


@pytest.mark.parametrize("day", DAYS)
def test_members_as_of_a_day_is_what_that_build_returned(history, day):
    warehouse, memberships, _, _, _ = history
    at = f"timestamp '{day} 00:00:00'"
    from_history = set(
        warehouse.query(
            "select contact_key, segment_id from marts.segment_membership_history "
            f"where valid_from <= {at} and (valid_to is null or valid_to > {at})"
        )
    )
    assert from_history == memberships[day]


def test_members_as_of_macro_answers_from_history(history):
    warehouse, memberships, _, jane, _ = history
    with environment(AUDIENCE_DUCKDB_PATH=str(warehouse.path)):
        result = run_dbt(
            [
                "show",
                "--inline",
                "{{ segment_members_as_of('demo_requested', \"timestamp '2026-06-14'\") }}",
                "--output",
                "json",
            ],
            target="duckdb",
            as_of=datetime(2026, 6, 26),
        )
    rows = result.result.results[0].agate_table.rows
    assert (
        {row["contact_key"] for row in rows}
        == {key for key, segment in memberships["2026-06-14"] if segment == "demo_requested"}
        == {jane}
    )


def test_an_emptied_upstream_does_not_end_date_every_membership(history, tmp_path):
    warehouse, _, snapshot_rows, _, _ = history
    empty = tmp_path / "empty"
    empty.mkdir()
    for name in ("pages", "tracks", "identifies", "email_events", "crm_contacts"):
        header = (FIXTURES / "tiny" / f"{name}.csv").read_text().splitlines()[0]
        (empty / f"{name}.csv").write_text(header + "\n")
    with environment(AUDIENCE_DUCKDB_PATH=str(warehouse.path)):
        loader = DuckDBWarehouse(warehouse.path)
        try:
            load_dir(empty, loader, replace=True)
        finally:
            loader.close()
        with pytest.raises(DbtError, match="Refusing to snapshot"):
            run_dbt(BUILD, target="duckdb", as_of=datetime(2026, 6, 27))
    assert warehouse.scalar(
        "select count(*) from snapshots.segment_membership_snapshot where dbt_valid_to is null"
    ) == warehouse.scalar("select count(*) from marts.segment_membership_history where is_current")
    assert (
        warehouse.scalar("select count(*) from snapshots.segment_membership_snapshot")
        == snapshot_rows[DAYS[-1]]
    )
    shutil.rmtree(empty)
