"""Warehouse-schema exports of event CDPs (Segment, RudderStack): a folder with one CSV file per
table, read with Python's csv module, independently of the loader and the adapters, for what
the adapters must make of them; and a warehouse built from such folders landed as vendor
sources (`audience load DIR --source NAME`)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from warehouses import DAILY_BUILD, BuiltWarehouse, environment

from audience.dbt import run_dbt
from audience.loader import load_dir
from audience.warehouse import DuckDBWarehouse, PostgresWarehouse

#: The fields of a call itself (Segment's and RudderStack's schema docs): every other column of
#: an event table is a property, of identifies and users a trait; context_* are context.
CALL_FIELDS = frozenset(
    {
        "id",
        "anonymous_id",
        "user_id",
        "event",
        "event_text",
        "timestamp",
        "original_timestamp",
        "sent_at",
        "received_at",
        "uuid_ts",
        "loaded_at",
        "uuid",
        "channel",
        "record_id",
    }
)
#: The tables of the schema that are not per-event tables.
CDP_TABLES = frozenset(
    {"tracks", "pages", "screens", "identifies", "users", "groups", "aliases", "accounts"}
)

Row = dict[str, str | None]


@dataclass(frozen=True)
class Export:
    """One folder of a CDP's warehouse tables as CSV files."""

    folder: Path

    def table(self, name: str) -> list[Row]:
        path = self.folder / f"{name}.csv"
        if not path.exists():
            return []
        with path.open(newline="", encoding="utf-8") as handle:
            return [
                {k: (v if v != "" else None) for k, v in row.items()}
                for row in csv.DictReader(handle)
            ]

    def columns(self, name: str) -> list[str]:
        with (self.folder / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
            return next(csv.reader(handle))

    def event_tables(self) -> list[str]:
        """The per-event tables: every table with columns id and event but the CDP's own."""
        names = sorted(p.stem for p in self.folder.glob("*.csv"))
        return [n for n in names if n not in CDP_TABLES and {"id", "event"} <= set(self.columns(n))]

    def properties(self) -> dict[str, dict[str, str]]:
        """The non-null property values of each message id, from its first per-event row."""
        found: dict[str, dict[str, str]] = {}
        for name in self.event_tables():
            for row in self.table(name):
                if row["id"] is not None and row["id"] not in found:
                    found[row["id"]] = {
                        k: v
                        for k, v in row.items()
                        if k not in CALL_FIELDS and not k.startswith("context_") and v is not None
                    }
        return found

    def untracked_rows(self) -> list[Row]:
        """Per-event rows whose id has no row in tracks: tracks of their own."""
        tracked = {row["id"] for row in self.table("tracks")}
        return [
            row
            for name in self.event_tables()
            for row in self.table(name)
            if row["id"] not in tracked
        ]

    def track_rows(self) -> int:
        """The contract tracks the export makes: its tracks rows and its untracked rows."""
        return len(self.table("tracks")) + len(self.untracked_rows())


def build_from_exports(
    target: str,
    loads: list[tuple[Path, str]],
    as_of: datetime,
    *,
    path: Path | None = None,
    database: str | None = None,
    prepare: Callable[[BuiltWarehouse], None] | None = None,
    build: tuple[str, ...] = ("build",),
) -> BuiltWarehouse:
    """Land each (folder, source) with `audience load --source`, run `prepare` on the
    warehouse (tables a CDP wrote into it directly), then `dbt build` (or `build`) as of
    `as_of`."""
    settings = (
        {"AUDIENCE_DUCKDB_PATH": str(path)} if target == "duckdb" else {"PGDATABASE": str(database)}
    )
    built = BuiltWarehouse(target, loads[0][0], as_of, path=path, database=database)
    with environment(**settings):
        for folder, source in loads:
            warehouse = DuckDBWarehouse(path) if target == "duckdb" else PostgresWarehouse(database)
            try:
                load_dir(folder, warehouse, source=source)
            finally:
                warehouse.close()
        if prepare is not None:
            prepare(built)
        run_dbt(list(build), target=target, as_of=as_of)
    return built


#: a second engine's build, compared with DuckDB's: its data, not the unit tests (given rows
#: and expected rows do not depend on the data, and the DuckDB build runs them)
COMPARED_BUILD = ("build", "--exclude", "resource_type:unit_test")


def rebuild(built: BuiltWarehouse) -> None:
    """`dbt build` once more, as of the same instant, on the same warehouse."""
    settings = (
        {"AUDIENCE_DUCKDB_PATH": str(built.path)}
        if built.target == "duckdb"
        else {"PGDATABASE": str(built.database)}
    )
    with environment(**settings):
        run_dbt(DAILY_BUILD, target=built.target, as_of=built.as_of)
