"""Plant a known treatment effect, so a test can check that report_segment_lift recovers it.

A segment with a holdout share keeps a control group out of every destination
(macros/segments/holdout.sql). `plant_orders` takes the members of such a segment as a
build had them (with `is_control`) and writes extra raw tracks: an "Order Completed"
within the outcome window after entry, for each treated member with probability
``treated_rate`` and each control with ``control_rate``. Loaded and built again after the
window, the report's order lift should contain ``treated_rate - control_rate`` (less
whatever orders the members placed anyway).

`holdout_draw` is the warehouse's assignment in Python: the same number as the SQL macro.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

#: var segments__holdout_salt's default (dbt_project.yml)
DEFAULT_SALT = "audience-holdout-v1"

TRACKS_HEADER = ("id", "anonymous_id", "user_id", "event", "timestamp", "received_at", "properties")


def holdout_draw(segment_id: str, contact_key: str, salt: str = DEFAULT_SALT) -> float:
    """The contact's draw in [0, 1) for the segment: the first 8 hex digits of
    md5(salt|segment|contact) as a number, modulo 10000, over 10000 (as in SQL)."""
    digest = hashlib.md5(f"{salt}|{segment_id}|{contact_key}".encode()).hexdigest()
    return int(digest[:8], 16) % 10_000 / 10_000


def is_control(segment_id: str, contact_key: str, share: float, salt: str = DEFAULT_SALT) -> bool:
    """Whether the contact is in the control group of a segment holding out ``share``."""
    return holdout_draw(segment_id, contact_key, salt) < share


@dataclass(frozen=True)
class Member:
    """A member of the segment as a build had them, with an identifier the tracks can carry."""

    contact_key: str
    is_control: bool
    user_id: str | None = None
    anonymous_id: str | None = None


@dataclass(frozen=True)
class TreatmentEffect:
    """Orders within ``window_days`` of entering: treated members place one with
    ``treated_rate``, controls with ``control_rate``."""

    treated_rate: float
    control_rate: float
    window_days: int = 14
    seed: int = 7

    @property
    def lift(self) -> float:
        return self.treated_rate - self.control_rate

    def __post_init__(self) -> None:
        for rate in (self.treated_rate, self.control_rate):
            if not 0 <= rate <= 1:
                raise ValueError(f"a rate is a share from 0 to 1, not {rate}")
        if self.window_days < 2:
            raise ValueError("window_days must be at least 2")


@dataclass(frozen=True)
class PlantedEffect:
    """What was written: the members by group, and those given an order."""

    treated: int
    controls: int
    treated_orders: int
    control_orders: int
    unreachable: int  # members with neither a user id nor an anonymous id: nothing planted

    @property
    def realised_lift(self) -> float:
        """The difference of the planted shares (what the draws gave, not the rates)."""
        treated = self.treated_orders / self.treated if self.treated else 0.0
        control = self.control_orders / self.controls if self.controls else 0.0
        return treated - control


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plant_orders(
    members: Iterable[Member],
    effect: TreatmentEffect,
    entered_at: datetime,
    out_dir: Path,
) -> PlantedEffect:
    """Write ``out_dir/tracks.csv``: an "Order Completed" for the members the effect's draws
    pick, at a time between a day after ``entered_at`` and a day before the window ends
    (received a second later, so a build as of ``entered_at`` does not see it). Same
    arguments give the same file."""
    if entered_at.tzinfo is None:
        entered_at = entered_at.replace(tzinfo=UTC)
    rng = np.random.default_rng(effect.seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(
        ("treated", "controls", "treated_orders", "control_orders", "unreachable"), 0
    )
    with (out_dir / "tracks.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRACKS_HEADER)
        for n, member in enumerate(sorted(members, key=lambda m: m.contact_key)):
            counts["controls" if member.is_control else "treated"] += 1
            rate = effect.control_rate if member.is_control else effect.treated_rate
            # draw for everyone, so one member's draw does not depend on who else is reachable
            ordered = rng.random() < rate
            offset_minutes = int(rng.integers(24 * 60, (effect.window_days - 1) * 24 * 60))
            if not (member.user_id or member.anonymous_id):
                counts["unreachable"] += 1
                continue
            if not ordered:
                continue
            counts["control_orders" if member.is_control else "treated_orders"] += 1
            at = entered_at + timedelta(minutes=offset_minutes)
            writer.writerow(
                (
                    f"planted-order-{n}",
                    member.anonymous_id or "",
                    member.user_id or "",
                    "Order Completed",
                    _iso(at),
                    _iso(at + timedelta(seconds=1)),
                    '{"planted": true}',
                )
            )
    return PlantedEffect(**counts)
