"""The planting of a known treatment effect (audience.treatment), without a warehouse."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audience.treatment import (
    DEFAULT_SALT,
    Member,
    TreatmentEffect,
    holdout_draw,
    is_control,
    plant_orders,
)

ENTRY = datetime(2026, 6, 16, tzinfo=UTC)


def test_the_draw_matches_the_sql_macros_known_values() -> None:
    # the values data-tests/singular/assert_holdout_draw_is_portable.sql expects of SQL
    assert holdout_draw("cart_abandoner", "contact-1", DEFAULT_SALT) == 0.3675
    assert holdout_draw("fit_and_intent", "k42", "fixed-salt") == 0.0453
    assert holdout_draw("nurture", "ffff", "fixed-salt") == 0.5177


def test_the_draw_is_stable_salted_and_near_uniform() -> None:
    draws = [holdout_draw("seg", f"c{n}") for n in range(4000)]
    assert draws == [holdout_draw("seg", f"c{n}") for n in range(4000)]
    assert all(0 <= d < 1 for d in draws)
    assert 0.08 < sum(d < 0.1 for d in draws) / len(draws) < 0.12
    assert draws != [holdout_draw("seg", f"c{n}", salt="other") for n in range(4000)]
    assert not is_control("seg", "c1", 0.0) and is_control("seg", "c1", 1.0)


def read_orders(folder: Path) -> list[dict[str, str]]:
    with (folder / "tracks.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_treated_members_order_more_often_within_the_window(tmp_path: Path) -> None:
    members = [Member(f"k{n}", n % 2 == 0, user_id=f"u{n}") for n in range(2000)]
    effect = TreatmentEffect(treated_rate=0.5, control_rate=0.2, window_days=14, seed=3)
    planted = plant_orders(members, effect, ENTRY, tmp_path)
    assert (planted.treated, planted.controls, planted.unreachable) == (1000, 1000, 0)
    assert abs(planted.realised_lift - effect.lift) < 0.07
    rows = read_orders(tmp_path)
    assert len(rows) == planted.treated_orders + planted.control_orders
    for row in rows:
        at = datetime.fromisoformat(row["timestamp"].replace("Z", "+00:00"))
        received = datetime.fromisoformat(row["received_at"].replace("Z", "+00:00"))
        assert ENTRY + timedelta(days=1) <= at < ENTRY + timedelta(days=13)
        assert received > at and row["event"] == "Order Completed"
    assert len({row["id"] for row in rows}) == len(rows)


def test_same_arguments_give_the_same_file(tmp_path: Path) -> None:
    members = [Member(f"k{n}", n % 3 == 0, anonymous_id=f"a{n}") for n in range(50)]
    effect = TreatmentEffect(0.7, 0.1)
    plant_orders(members, effect, ENTRY, tmp_path / "one")
    plant_orders(list(reversed(members)), effect, ENTRY, tmp_path / "two")
    assert (tmp_path / "one" / "tracks.csv").read_text() == (
        tmp_path / "two" / "tracks.csv"
    ).read_text()


def test_a_member_without_an_identifier_is_counted_not_planted(tmp_path: Path) -> None:
    planted = plant_orders([Member("k1", False)], TreatmentEffect(1.0, 0.0), ENTRY, tmp_path)
    assert (planted.treated, planted.unreachable, planted.treated_orders) == (1, 1, 0)
    assert read_orders(tmp_path) == []


def test_rates_are_shares() -> None:
    with pytest.raises(ValueError):
        TreatmentEffect(1.5, 0.1)
    with pytest.raises(ValueError):
        TreatmentEffect(0.5, 0.1, window_days=1)
