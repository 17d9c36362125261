"""Safety limits: the empty-export guard and the circuit breaker, which refuse a run that
would withdraw or rewrite too much of what a destination holds before anything is sent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from audience.syncs.changes import Change, _export_query
from audience.syncs.config import STATE_SCHEMA, DestinationConfig, SyncRefused
from audience.warehouse import Warehouse


@dataclass(frozen=True)
class Trip:
    """One audience a run would remove or change too much of (the circuit breaker)."""

    audience: str
    held: int
    op: str  # remove | change
    count: int
    limit: float

    @property
    def share(self) -> float:
        return self.count / self.held

    def describe(self) -> str:
        setting = "max_remove_share" if self.op == "remove" else "max_change_share"
        return (
            f"audience {self.audience}: holds {self.held}, would {self.op} {self.count} "
            f"({self.share:.0%}, limit {setting} {self.limit:.0%})"
        )


def breaker_trips(
    held: dict[str, int],
    removes: dict[str, int],
    changes: dict[str, int],
    *,
    max_remove_share: float,
    max_change_share: float,
    min_protected_records: int,
) -> list[Trip]:
    """The audiences a run would remove or change too much of: where the removed (or changed)
    records are more than the allowed share of what the destination holds of the audience,
    and at least `min_protected_records` of them. Below that count it is churn (4 of a list
    of 7 leaving in a day is ordinary for a small windowed segment), so audiences smaller than
    it are never protected, and one of 10 emptied or rewritten is. An audience the
    destination does not hold yet (a first sync) is never tripped: nothing of it can be lost."""
    trips = []
    for op, counts, limit in (
        ("remove", removes, max_remove_share),
        ("change", changes, max_change_share),
    ):
        for audience, count in sorted(counts.items()):
            holds = held.get(audience, 0)
            if holds and count >= max(min_protected_records, 1) and count / holds > limit:
                trips.append(Trip(audience, holds, op, count, limit))
    return sorted(trips, key=lambda t: (t.audience, t.op))


def check_safety(
    warehouse: Warehouse, config: DestinationConfig, changes: Sequence[Change], *, force: bool
) -> None:
    """Refuse an empty export that would withdraw what the destination holds, and a run that
    removes or changes too much of an audience it holds (the circuit breaker), unless forced.
    An empty export to a destination that holds nothing (a B2C purchase log has no email
    audience yet) sends nothing and withdraws nothing: not refused."""
    if force:
        return
    exported = warehouse.query(f"select count(*) from ({_export_query(config)}) as export")[0][0]
    holds = warehouse.query(
        f"select count(*) from {STATE_SCHEMA}.delivered where destination = ?", (config.name,)
    )[0][0]
    if exported == 0 and holds:
        raise SyncRefused(
            f"{config.name}: export {config.model} is empty; refusing to withdraw everything "
            "(use --force if that is meant)"
        )
    removes: dict[str, int] = defaultdict(int)
    changed: dict[str, int] = defaultdict(int)
    for change in changes:
        if change.op == "remove":
            removes[change.audience_key] += 1
        elif change.op == "change":
            changed[change.audience_key] += 1
    if not removes and not changed:
        return
    held = dict(
        warehouse.query(
            f"select audience_key, count(*) from {STATE_SCHEMA}.delivered "
            "where destination = ? group by audience_key",
            (config.name,),
        )
    )
    trips = breaker_trips(
        held,
        removes,
        changed,
        max_remove_share=config.max_remove_share,
        max_change_share=config.max_change_share,
        min_protected_records=config.min_protected_records,
    )
    if trips:
        raise SyncRefused(
            f"{config.name}: refusing to send: {'; '.join(t.describe() for t in trips)}. "
            "Nothing was sent. If that is meant, run `audience sync "
            f"{config.name} --force`, or raise the setting for {config.name} in syncs.yml"
        )
