"""Holdout groups and measured lift: a planted treatment effect is recovered by
report_segment_lift, and no control member reaches a destination.

Demo data is built as of ENTRY (the members enter their segments then), the members of one
segment get planted orders in the fortnight after (treated members more often than its
controls), and the warehouse is built again once that window has passed.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from warehouses import BUILD, DAILY_BUILD, BuiltWarehouse, load_duckdb

from audience.dbt import run_dbt
from audience.generator import generate
from audience.project import environment
from audience.treatment import Member, PlantedEffect, TreatmentEffect, is_control, plant_orders

ENTRY = datetime(2026, 6, 16)
AS_OF = datetime(2026, 6, 30)  # ENTRY + the outcome window: the entries of ENTRY matured
WINDOW_DAYS = 14
SEGMENT = "buying_committee"
#: the segments given a control group for this test (none has one in its YAML)
HOLDOUTS = {
    SEGMENT: 0.5,
    "early_intent_account": 0.2,
    "email_dormant": 0.2,
    "customer": 0.2,
    "mql_routed": 0.3,
    "topic_page_visitor": 0.2,
}
EFFECT = TreatmentEffect(treated_rate=0.6, control_rate=0.1, window_days=WINDOW_DAYS, seed=5)

#: every export row that names a contact as a member of a segment: (model, segment column)
MEMBER_EXPORTS = {
    "marts.export_audience_members": "sent.segment_id",
    "marts.export_sequence_enrollments": "sent.segment_id",
    "marts.export_crm_contacts": "sent.primary_segment_id",
    "marts.contacts": "sent.primary_segment_id",
    "marts.mql_routing_queue": "'mql_routed'",
    "marts.export_lead_notifications": "'mql_routed'",
}


@pytest.fixture(scope="module")
def lift_warehouse(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[BuiltWarehouse, PlantedEffect]:
    root = tmp_path_factory.mktemp("lift")
    generate(root / "data", people=800, seed=11, as_of=AS_OF)
    path = root / "lift.duckdb"
    extra_vars = {
        "segments__setting_overrides": {s: {"holdout": share} for s, share in HOLDOUTS.items()},
        "reports__outcome_window_days": WINDOW_DAYS,
    }
    warehouse = BuiltWarehouse("duckdb", root / "data", AS_OF, path=path)
    with environment(AUDIENCE_DUCKDB_PATH=str(path)):
        load_duckdb(path, root / "data")
        # the members enter as of ENTRY (models and snapshots only: the build below tests)
        run_dbt(BUILD, target="duckdb", as_of=ENTRY, extra_vars=extra_vars)
        rows = warehouse.query(
            f"""
            select
                membership.contact_key,
                membership.is_control,
                min(case when ids.identifier_type = 'user_id' then ids.identifier end),
                min(case when ids.identifier_type = 'anonymous_id' then ids.identifier end)
            from marts.segment_membership as membership
            left join marts.identity_map as ids on membership.contact_key = ids.contact_key
            where membership.segment_id = '{SEGMENT}'
            group by membership.contact_key, membership.is_control
            """
        )
        members = [Member(key, bool(control), uid, anon) for key, control, uid, anon in rows]
        planted = plant_orders(members, EFFECT, ENTRY, root / "planted")
        load_duckdb(path, root / "planted")
        # after the window, with every test (the singular holdout tests among them)
        run_dbt(DAILY_BUILD, target="duckdb", as_of=AS_OF, extra_vars=extra_vars)
    return warehouse, planted


def lift_row(warehouse: BuiltWarehouse, outcome: str) -> dict[str, object]:
    columns = (
        "treated_entrants, control_entrants, treated_with_outcome, control_with_outcome, "
        "treated_rate, control_rate, lift, lift_ci_low, lift_ci_high, is_significant, "
        "needed_per_group"
    )
    rows = warehouse.query(
        f"select {columns} from marts.report_segment_lift "
        f"where segment_id = '{SEGMENT}' and outcome = '{outcome}'"
    )
    assert len(rows) == 1, rows
    return dict(zip([c.strip() for c in columns.split(",")], rows[0], strict=True))


def test_the_planted_groups_are_large_enough(lift_warehouse):
    _, planted = lift_warehouse
    assert planted.unreachable == 0
    assert planted.treated >= 40 and planted.controls >= 40, planted


def test_the_planted_lift_lies_in_the_reported_interval(lift_warehouse):
    warehouse, planted = lift_warehouse
    row = lift_row(warehouse, "order")
    assert (row["treated_entrants"], row["control_entrants"]) == (
        planted.treated,
        planted.controls,
    )
    print(
        f"planted lift {EFFECT.lift} (realised {planted.realised_lift:.4f}); reported "
        f"{row['lift']} [{row['lift_ci_low']}, {row['lift_ci_high']}], "
        f"n {row['treated_entrants']}/{row['control_entrants']}, "
        f"needed per group {row['needed_per_group']}"
    )
    assert row["lift_ci_low"] <= EFFECT.lift <= row["lift_ci_high"]
    assert row["lift_ci_low"] > 0 and row["is_significant"]
    # the report counts at least the planted orders (a member may have ordered anyway)
    assert row["treated_with_outcome"] >= planted.treated_orders
    assert row["control_with_outcome"] >= planted.control_orders
    assert row["needed_per_group"] is not None and row["needed_per_group"] > 0


@pytest.mark.parametrize("outcome", ["unsubscribe", "opportunity"])
def test_an_outcome_without_an_effect_has_an_interval_around_zero(lift_warehouse, outcome):
    warehouse, _ = lift_warehouse
    row = lift_row(warehouse, outcome)
    assert row["lift_ci_low"] <= 0 <= row["lift_ci_high"], row
    assert not row["is_significant"]


def test_only_segments_with_controls_are_reported(lift_warehouse):
    warehouse, _ = lift_warehouse
    reported = {r[0] for r in warehouse.query("select segment_id from marts.report_segment_lift")}
    assert SEGMENT in reported
    assert reported <= set(HOLDOUTS)
    outcomes = warehouse.query(
        f"select outcome from marts.report_segment_lift where segment_id = '{SEGMENT}'"
    )
    assert sorted(r[0] for r in outcomes) == ["opportunity", "order", "unsubscribe", "won_deal"]


def test_no_control_reaches_a_destination(lift_warehouse):
    warehouse, _ = lift_warehouse
    controls = warehouse.scalar(
        "select count(*) from marts.segment_membership_history where is_control"
    )
    assert controls > 0
    for model, segment in MEMBER_EXPORTS.items():
        leaked = warehouse.query(
            f"""
            select sent.contact_key, {segment}
            from {model} as sent
            inner join marts.segment_membership_history as controls
                on sent.contact_key = controls.contact_key and {segment} = controls.segment_id
            where controls.is_control
            """
        )
        assert leaked == [], model
    listed = warehouse.scalar(
        """
        select count(*)
        from marts.export_crm_contacts as crm
        inner join marts.segment_membership as controls
            on crm.contact_key = controls.contact_key and controls.is_control
        where ',' || crm.segment_list || ',' like '%,' || controls.segment_id || ',%'
        """
    )
    assert listed == 0


def test_treated_membership_is_membership_less_its_controls(lift_warehouse):
    warehouse, _ = lift_warehouse
    members, controls = warehouse.query(
        "select count(*), sum(case when is_control then 1 else 0 end) from marts.segment_membership"
    )[0]
    treated = warehouse.scalar("select count(*) from marts.segment_membership_treated")
    assert controls > 0 and treated == members - controls
    unheld = warehouse.scalar(
        "select count(*) from marts.segment_membership where is_control and segment_id not in ("
        + ", ".join(f"'{s}'" for s in HOLDOUTS)
        + ")"
    )
    assert unheld == 0


def test_the_draw_is_the_same_in_python_and_sql(lift_warehouse):
    warehouse, _ = lift_warehouse
    rows = warehouse.query(
        "select segment_id, contact_key, is_control from marts.segment_membership_history"
    )
    mismatched = [
        (segment, contact)
        for segment, contact, control in rows
        if control != is_control(segment, contact, HOLDOUTS.get(segment, 0.0))
    ]
    assert mismatched == []
    # about the share: a draw is uniform over segments and contacts
    held = [(s, c) for s, c, control in rows if s == SEGMENT]
    share = sum(1 for s, c, control in rows if s == SEGMENT and control) / len(held)
    assert 0.3 < share < 0.7


def test_a_share_changed_later_leaves_past_spells_in_their_group(lift_warehouse, tmp_path: Path):
    """The history keeps each spell's group as drawn at entry: with the segment's holdout
    taken away and another segment's set to all its members, the history rebuilt says the
    same of every spell recorded before (they were sent, or held out, as flagged then)."""
    warehouse, _ = lift_warehouse
    spells = (
        "select membership_spell_id, is_control from marts.segment_membership_history "
        "order by membership_spell_id"
    )
    before = warehouse.query(spells)
    assert any(control for _, control in before)
    copy = BuiltWarehouse("duckdb", warehouse.data_dir, AS_OF, path=tmp_path / "changed.duckdb")
    warehouse.execute("checkpoint")
    shutil.copyfile(warehouse.path, copy.path)
    changed = {SEGMENT: {"holdout": 0.0}, "nurture": {"holdout": 1.0}}
    with environment(AUDIENCE_DUCKDB_PATH=str(copy.path)):
        run_dbt(
            ["run", "--select", "segment_membership_history"],
            target="duckdb",
            as_of=AS_OF,
            extra_vars={"segments__setting_overrides": changed},
        )
    assert copy.query(spells) == before
