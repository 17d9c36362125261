"""The whole built state of a warehouse as comparable data: every relation the build writes
(staging, intermediate, segments, marts and exports, snapshots and their history), each as
a multiset of rows. Two warehouses that went through different operations are equal when
these states are equal, row for row.

Left out: the raw layer (inputs, compared by the test through what it loads), the quality
and sync state (written by other commands), the incremental models' own bookkeeping
(`__build_state`, `__identity_applied`), and columns that say when or by which invocation a
row was written rather than what it means.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from typing import Any

#: schemas a build writes (models, seeds, snapshots)
BUILT_SCHEMAS = ("seeds", "staging", "intermediate", "segments", "marts", "snapshots")
#: relations that record how the incremental models were built, not what they hold
BOOKKEEPING_SUFFIXES = ("__build_state", "__identity_applied")
#: columns that record the load or build that wrote a row, not its content
VOLATILE_COLUMNS = frozenset(
    {"_loaded_at", "loaded_at", "build_id", "built_at", "build_started_at", "build_finished_at"}
)

Row = tuple[Any, ...]
State = dict[str, Counter[Row]]


def _normalized(value: object) -> object:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, Decimal):
        return round(float(value), 6)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def relations(warehouse: Any) -> list[str]:
    """schema.name of every relation a build wrote, sorted."""
    listed = warehouse.query(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({', '.join(repr(s) for s in BUILT_SCHEMAS)})"
    )
    return sorted(
        f"{schema}.{name}"
        for schema, name in listed
        if not str(name).endswith(BOOKKEEPING_SUFFIXES)
    )


def columns(warehouse: Any, relation: str) -> list[str]:
    schema, name = relation.split(".")
    listed = warehouse.query(
        "select column_name from information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{name}' order by column_name"
    )
    return [c for (c,) in listed if c.lower() not in VOLATILE_COLUMNS]


def capture(warehouse: Any) -> State:
    """Every built relation as a multiset of its (non-volatile) rows, columns sorted by name."""
    state: State = {}
    for relation in relations(warehouse):
        names = columns(warehouse, relation)
        quoted = ", ".join(f'"{c}"' for c in names)
        rows = warehouse.query(f"select {quoted} from {relation}")
        state[relation] = Counter(tuple(_normalized(v) for v in row) for row in rows)
    return state


def differences(actual: State, expected: State, shown: int = 3) -> list[str]:
    """What differs between two states, one line per relation (empty when equal)."""
    lines = []
    for relation in sorted(set(actual) | set(expected)):
        if relation not in actual:
            lines.append(f"{relation}: missing")
            continue
        if relation not in expected:
            lines.append(f"{relation}: unexpected relation")
            continue
        extra = actual[relation] - expected[relation]
        missing = expected[relation] - actual[relation]
        if extra or missing:
            lines.append(
                f"{relation}: {sum(actual[relation].values())} rows vs "
                f"{sum(expected[relation].values())} expected; "
                f"{sum(extra.values())} unexpected e.g. {list(extra)[:shown]}; "
                f"{sum(missing.values())} missing e.g. {list(missing)[:shown]}"
            )
    return lines
