"""A warehouse under test and the operations a user, a schedule or a crash performs on it:
load a folder (again, overlapping, with --replace), build as of an instant, a build killed
partway, a load that fails partway. Each completed operation is recorded, so the same
history can be replayed on a fresh warehouse the clean way: the same loads, and each build
from scratch (everything but the raw tables and the history snapshots dropped first).

`audience run` twice, a Dagster retry, `kill -9` then a rerun: whatever happened, the
warehouse must equal that clean replay (tests/integration/test_idempotence.py and
test_reruns.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from warehouse_state import State, capture
from warehouses import (
    STAGED_TABLES,
    BuiltWarehouse,
    environment,
    postgres_database,
)

from audience.dbt import run_dbt
from audience.loader import load_dir
from audience.project import target_dir
from audience.warehouse import DuckDBWarehouse, PostgresWarehouse

#: models, seeds and snapshots; the data tests run in the other suites
BUILD = ["build", "--exclude", "resource_type:test", "resource_type:unit_test"]
#: what a clean build drops first: everything it writes but the history snapshots
REBUILT_SCHEMAS = ("seeds", "staging", "intermediate", "segments", "marts")


class InjectedFault(RuntimeError):
    """The fault a test injects into a load (a crash, a full disk)."""


@dataclass(frozen=True)
class Operation:
    kind: str  # load | build
    folder: Path | None = None
    replace: bool = False
    as_of: datetime | None = None


@dataclass
class Lab:
    """One warehouse (a DuckDB file or a PostgreSQL database) and what was done to it."""

    target: str
    path: Path | None = None
    database: str | None = None
    done: list[Operation] = field(default_factory=list)

    @property
    def warehouse(self) -> BuiltWarehouse:
        return BuiltWarehouse(
            self.target, Path("."), datetime.min, path=self.path, database=self.database
        )

    @contextmanager
    def selected(self) -> Iterator[None]:
        settings = (
            {"AUDIENCE_DUCKDB_PATH": str(self.path)}
            if self.target == "duckdb"
            else {"PGDATABASE": str(self.database)}
        )
        with environment(**settings):
            yield

    def connect(self, fail_after_tables: int | None = None) -> Any:
        """A loader connection; with `fail_after_tables`, one whose next table write after
        that many fails (the load dies partway)."""
        if fail_after_tables is None:
            if self.target == "duckdb":
                return DuckDBWarehouse(self.path)
            return PostgresWarehouse(self.database)
        base = DuckDBWarehouse if self.target == "duckdb" else PostgresWarehouse
        method = "insert_query" if self.target == "duckdb" else "insert_arrow"
        written = {"tables": 0}

        def failing(self_: Any, *args: Any) -> Any:
            if written["tables"] >= fail_after_tables:
                raise InjectedFault("the load was killed partway")
            written["tables"] += 1
            return getattr(base, method)(self_, *args)

        faulty = type("FaultyWarehouse", (base,), {method: failing})
        return faulty(self.path if self.target == "duckdb" else self.database)

    # --- operations ------------------------------------------------------------------------

    def load(self, folder: Path, *, replace: bool = False) -> None:
        with self.selected():
            warehouse = self.connect()
            try:
                load_dir(folder, warehouse, replace=replace)
            finally:
                warehouse.close()
        self.done.append(Operation("load", folder=folder, replace=replace))

    def load_killed_partway(self, folder: Path, *, after_tables: int) -> bool:
        """A load that dies after writing `after_tables` tables: it must change nothing.
        When it had fewer tables to write, it completes and counts as a load. True when it
        died."""
        with self.selected():
            warehouse = self.connect(fail_after_tables=after_tables)
            try:
                load_dir(folder, warehouse)
            except InjectedFault:
                return True
            finally:
                warehouse.close()
        self.done.append(Operation("load", folder=folder))
        return False

    def build(self, as_of: datetime) -> None:
        with self.selected():
            run_dbt(BUILD, target=self.target, as_of=as_of)
        self.done.append(Operation("build", as_of=as_of))

    def killed_build(self, as_of: datetime, share: float) -> None:
        """A build that stopped after the first `share` of its nodes, in the order dbt runs
        them (what `kill -9` between two models leaves: each model is one transaction)."""
        with self.selected():
            # target/manifest.json of this code version: a compile of the seeds writes it
            # from the kept parse (a fresh test worker has none yet)
            run_dbt(
                ["compile", "--select", "resource_type:seed", "--quiet"],
                target=self.target,
                as_of=as_of,
            )
            nodes = build_order()
            selected = nodes[: max(1, int(len(nodes) * share))]
            run_dbt([*BUILD, "--select", *selected], target=self.target, as_of=as_of)

    def drop_built(self) -> None:
        """Drop everything a build writes but the history snapshots (and the raw tables):
        the incremental models and their bookkeeping go too, so the next build is a first."""
        with self.selected():
            warehouse = self.connect()
            try:
                for schema in REBUILT_SCHEMAS:
                    warehouse.execute(f"drop schema if exists {schema} cascade")
            finally:
                warehouse.close()

    def capture(self) -> State:
        with self.selected():
            return capture(self.warehouse)

    def raw_rows(self) -> dict[str, int]:
        with self.selected():
            return {
                table: int(self.warehouse.scalar(f"select count(*) from raw.{table}"))
                for table in STAGED_TABLES
            }

    def assert_no_raw_row_lost(self) -> None:
        """Every raw row is staged or quarantined, once."""
        with self.selected():
            warehouse = self.warehouse
            for table, staged in STAGED_TABLES.items():
                raw = warehouse.scalar(f"select count(*) from raw.{table}")
                good = warehouse.scalar(f"select count(*) from {staged}")
                bad = warehouse.scalar(
                    f"select count(*) from marts.quarantine where source_table = '{table}'"
                )
                assert raw == good + bad, f"{table}: {raw} raw rows, {good} staged, {bad} set aside"


def clean_replay(operations: list[Operation], lab: Lab) -> None:
    """Replay `operations` on the fresh `lab` the clean way: the same loads; each build from
    scratch, skipping a build that repeats the one before it (same instant, nothing loaded
    in between: a rerun must change nothing)."""
    previous: Operation | None = None
    for operation in operations:
        if operation.kind == "load":
            assert operation.folder is not None
            lab.load(operation.folder, replace=operation.replace)
        else:
            assert operation.as_of is not None
            if previous is not None and previous.kind == "build" and previous == operation:
                continue
            lab.drop_built()
            lab.build(operation.as_of)
        previous = operation


def build_order() -> list[str]:
    """The seeds, models and snapshots of the project in an order dbt may run them (each
    after its parents), by name: from target/manifest.json."""
    manifest = json.loads((target_dir() / "manifest.json").read_text())
    nodes = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in {"model", "seed", "snapshot"}
    }
    parents = {
        unique_id: [p for p in manifest["parent_map"].get(unique_id, []) if p in nodes]
        for unique_id in nodes
    }
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(nodes):
        ready = sorted(u for u in nodes if u not in placed and set(parents[u]) <= placed)
        if not ready:
            raise RuntimeError("the manifest's graph has a cycle")
        for unique_id in ready:
            ordered.append(unique_id)
            placed.add(unique_id)
    return [nodes[u]["name"] for u in ordered]


@contextmanager
def lab(target: str, root: Path, name: str) -> Iterator[Lab]:
    """A fresh, empty warehouse on `target`."""
    if target == "duckdb":
        path = root / f"{name}.duckdb"
        for stale in (path, path.with_suffix(".duckdb.wal")):
            stale.unlink(missing_ok=True)
        yield Lab("duckdb", path=path)
        return
    with postgres_database() as database:
        yield Lab("postgres", database=database)
