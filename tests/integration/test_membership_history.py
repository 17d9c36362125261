"""Membership history over a sequence of daily builds: enter, leave, re-enter, replay."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
from datetime import datetime

import pytest
from warehouses import BUILD, DAYS, FIXTURES, GENERATED_DAYS, build_days, environment

from audience.dbt import DbtError, run_dbt
from audience.loader import load_dir
from audience.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.slow


def spells(warehouse, contact_key: str, segment_id: str) -> list[tuple]:
    rows = warehouse.query(
        "select cast(valid_from as date), cast(valid_to as date), reason_at_entry "
        "from marts.segment_membership_history "
        f"where contact_key = '{contact_key}' and segment_id = '{segment_id}' "
        "order by valid_from"
    )
    return [(str(a), str(b) if b else None, r) for a, b, r in rows]


def members_from_history(warehouse, day: str) -> set[tuple[str, str]]:
    """(contact, segment) pairs the history says were members at midnight of `day`."""
    at = f"timestamp '{day} 00:00:00'"
    return set(
        warehouse.query(
            "select contact_key, segment_id from marts.segment_membership_history "
            f"where valid_from <= {at} and (valid_to is null or valid_to > {at})"
        )
    )


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    return build_days(tmp_path_factory.mktemp("history"))


def test_enter_leave_and_reenter_give_two_spells(history):
    warehouse, _, _, jane, _ = history
    assert spells(warehouse, jane, "demo_requested") == [
        ("2026-06-11", "2026-06-18", "requested a demo"),
        ("2026-06-26", None, "requested a demo"),
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
    assert members_from_history(warehouse, day) == memberships[day]


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


def test_a_build_older_than_the_history_sets_its_instant_and_keeps_the_others(history, tmp_path):
    """A backfill (or the daily build after a realtime one) between two builds the history
    holds: it used to be refused. Now the history at its instant is what it built, and at
    every other day what that day's build returned. On a copy of the module's warehouse."""
    warehouse, memberships, _, _, _ = history
    copy = dataclasses.replace(warehouse, path=tmp_path / "copy.duckdb")
    shutil.copy(warehouse.path, copy.path)
    with environment(AUDIENCE_DUCKDB_PATH=str(copy.path)):
        run_dbt(BUILD, target="duckdb", as_of=datetime(2026, 6, 20))
    built = set(copy.query("select contact_key, segment_id from marts.segment_membership"))
    assert members_from_history(copy, "2026-06-20") == built
    for day in DAYS:
        assert members_from_history(copy, day) == memberships[day], day


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


def test_a_member_stays_between_the_exit_and_the_entry_threshold(history):
    """Jane (fit 95) enters fit_and_intent on 2026-06-11 with intent over 50; by 06-18 her
    intent has decayed under 50 but not under 40, so she stays: one spell, no flapping."""
    warehouse, memberships, _, jane, _ = history
    assert [s[:2] for s in spells(warehouse, jane, "fit_and_intent")] == [("2026-06-11", None)]
    assert all((jane, "fit_and_intent") in memberships[day] for day in DAYS[1:])


@pytest.fixture(scope="module")
def history_with_dwell(tmp_path_factory):
    overrides = {"segments__setting_overrides": {"demo_requested": {"min_dwell_days": 10}}}
    return build_days(tmp_path_factory.mktemp("dwell"), extra_vars=overrides)


def test_minimum_dwell_time_holds_a_member_who_no_longer_qualifies(history_with_dwell):
    """With a 10-day dwell, Jane, who stopped qualifying for demo_requested on 06-18 (7 days
    after entering), is held until she qualifies again on 06-26: one spell instead of two."""
    warehouse, memberships, _, jane, _ = history_with_dwell
    assert [s[:2] for s in spells(warehouse, jane, "demo_requested")] == [("2026-06-11", None)]
    assert (jane, "demo_requested") in memberships["2026-06-18"]


@pytest.mark.parametrize("day", GENERATED_DAYS)
def test_generated_data_members_as_of_each_day_match_that_build(generated_history, day):
    warehouse, memberships, _, _, _ = generated_history
    from_history = members_from_history(warehouse, day)
    assert from_history == memberships[day]
    assert len(from_history) > 50


def test_generated_data_transitions_replay_the_daily_differences(generated_history):
    """Entries and exits on each day are exactly the set differences between builds."""
    warehouse, memberships, snapshot_rows, _, _ = generated_history
    transitions = warehouse.query(
        "select contact_key, segment_id, transition, cast(transitioned_at as date) "
        "from marts.segment_transitions"
    )
    for previous, day in itertools.pairwise(GENERATED_DAYS):
        entered = {(k, s) for k, s, t, d in transitions if t == "entered" and str(d) == day}
        exited = {(k, s) for k, s, t, d in transitions if t == "exited" and str(d) == day}
        assert entered == memberships[day] - memberships[previous]
        assert exited == memberships[previous] - memberships[day]
    assert any(t == "exited" for _, _, t, _ in transitions)
    # the last day was built twice: the replay added nothing
    assert (
        warehouse.scalar("select count(*) from snapshots.segment_membership_snapshot")
        == snapshot_rows[GENERATED_DAYS[-1]]
    )


def segment_ids_of_cadence(warehouse, cadence: str) -> set[str]:
    return {
        row[0]
        for row in warehouse.query(
            f"select segment_id from marts.segments where cadence = '{cadence}'"
        )
    }


def test_a_daily_build_between_weekly_runs_keeps_the_weekly_membership(generated_history, tmp_path):
    """The daily orchestration builds with segments__cadences [realtime, daily]: three days
    after the weekly build of 2026-06-30, the weekly segments keep that build's members
    (with their reason at entry), although their models (rebuilt as of the new day) now say
    otherwise; the daily and realtime segments are recomputed. On a copy of the module's
    warehouse."""
    warehouse, memberships, _, _, _ = generated_history
    copy = dataclasses.replace(warehouse, path=tmp_path / "copy.duckdb")
    shutil.copy(warehouse.path, copy.path)
    weekly = segment_ids_of_cadence(copy, "weekly")
    assert {"web_dormant_6m", "lapsed_lead_60_90", "email_dormant"} <= weekly
    before = {
        (key, segment, reason)
        for key, segment, reason in copy.query(
            "select contact_key, segment_id, reason from marts.segment_membership"
        )
    }
    with environment(AUDIENCE_DUCKDB_PATH=str(copy.path)):
        run_dbt(
            BUILD,
            target="duckdb",
            as_of=datetime(2026, 7, 3),
            extra_vars={"segments__cadences": ["realtime", "daily"]},
        )
    after = set(copy.query("select contact_key, segment_id, reason from marts.segment_membership"))
    # the same members, with the reason they entered with (the history keeps that one)
    assert {m[:2] for m in after if m[1] in weekly} == {m[:2] for m in before if m[1] in weekly}
    entry_reasons = set(
        copy.query(
            "select contact_key, segment_id, reason_at_entry from marts.segment_membership_history "
            "where valid_from <= timestamp '2026-06-30 00:00:00' "
            "and (valid_to is null or valid_to > timestamp '2026-06-30 00:00:00')"
        )
    )
    assert {m for m in after if m[1] in weekly} <= entry_reasons
    assert {m for m in before if m[1] in weekly}, "the demo data has weekly members"
    # the others moved on with the three days
    others_before = {m[:2] for m in before if m[1] not in weekly}
    others_after = {m[:2] for m in after if m[1] not in weekly}
    assert others_before != others_after
    # and the history says the weekly members never left
    at = "timestamp '2026-07-03 00:00:00'"
    in_history = set(
        copy.query(
            "select contact_key, segment_id from marts.segment_membership_history "
            f"where valid_from <= {at} and (valid_to is null or valid_to > {at})"
        )
    )
    assert {m[:2] for m in before if m[1] in weekly} <= in_history
    assert memberships["2026-06-30"] == {m[:2] for m in before}
    # what a weekly run as of the same day gives instead: other weekly members
    with environment(AUDIENCE_DUCKDB_PATH=str(copy.path)):
        run_dbt(
            ["run", "--select", "segment_membership"], target="duckdb", as_of=datetime(2026, 7, 3)
        )
    recomputed = set(copy.query("select contact_key, segment_id from marts.segment_membership"))
    assert {m for m in recomputed if m[1] in weekly} != {m[:2] for m in before if m[1] in weekly}
