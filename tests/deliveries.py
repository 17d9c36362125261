"""Deliveries of a real pipeline on small generated data, and the comparison of a warehouse
with a clean replay of what was done to it: what the idempotence tests share
(tests/integration/test_idempotence.py, the property; test_reruns.py, the sequences kept)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
from lab import Lab, clean_replay, lab
from warehouse_state import differences

from audience.generator import generate

AS_OF = datetime(2026, 6, 30)
#: the split of the event streams between the two deliveries
SPLIT = "2026-06-15"
#: build instants: daily builds, and one ten minutes after midnight (a realtime build)
INSTANTS = [
    datetime(2026, 6, 12),
    datetime(2026, 6, 19),
    datetime(2026, 6, 19, 0, 10),
    datetime(2026, 6, 26),
]
EVENT_TABLES = ("pages", "tracks", "identifies", "email_events")


def make_deliveries(root: Path) -> dict[str, Path]:
    """Generated data (60 people) delivered as the deliveries of a real pipeline: `early`
    (every table, the events before SPLIT), `late` (the events after it) and `overlap`
    (pages and tracks around SPLIT: some rows already delivered, each in a file of its own)."""
    generate(root / "all", people=60, seed=5, as_of=AS_OF, days=90)
    before = f"coalesce(try_cast(\"timestamp\" as timestamp) < timestamp '{SPLIT}', true)"
    around = (
        "try_cast(\"timestamp\" as timestamp) between timestamp '2026-06-08' "
        "and timestamp '2026-06-22'"
    )
    plan = {
        "early": {table: before if table in EVENT_TABLES else "true" for table in _tables(root)},
        "late": {table: f"not {before}" for table in EVENT_TABLES},
        "overlap": {"pages": around, "tracks": around},
    }
    con = duckdb.connect()
    for folder, tables in plan.items():
        (root / folder).mkdir()
        for table, where in tables.items():
            source = str(root / "all" / f"{table}.parquet")
            target = str(root / folder / f"{table}.parquet")
            con.execute(
                f"copy (select * from read_parquet('{source}') where {where}) "
                f"to '{target}' (format parquet)"
            )
    con.close()
    return {name: root / name for name in plan}


def _tables(root: Path) -> list[str]:
    return sorted(path.stem for path in (root / "all").glob("*.parquet"))


def assert_equals_clean_replay(actual: Lab, root: Path, name: str = "replay") -> None:
    """The warehouse equals a clean replay of what was done to it."""
    with lab(actual.target, root, name) as reference:
        clean_replay(actual.done, reference)
        expected = reference.capture()
    found = differences(actual.capture(), expected)
    assert not found, (
        "differs from a clean replay of " + describe(actual) + ":\n" + "\n".join(found)
    )


def describe(actual: Lab) -> str:
    return ", ".join(
        f"load {op.folder.name}{' --replace' if op.replace else ''}"
        if op.kind == "load" and op.folder is not None
        else f"build {op.as_of}"
        for op in actual.done
    )
