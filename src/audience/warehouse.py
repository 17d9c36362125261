"""Connections to the two supported warehouses, for the loader and the run summary.

dbt owns the models; this module only lands raw files and reads counts back. Connection
settings come from the same environment variables as profiles.yml.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from audience.project import duckdb_path

TARGETS: tuple[str, ...] = ("duckdb", "postgres")
DEFAULT_DUCKDB_MEMORY_LIMIT = "8GB"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Warehouse(Protocol):
    """What the loader and the summary need from a target."""

    target: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def insert_arrow(self, schema: str, table: str, data: pa.Table) -> None: ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...


def limit_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Hold a DuckDB connection to the warehouse's memory limit (AUDIENCE_DUCKDB_MEMORY_LIMIT,
    as in profiles.yml): past it DuckDB spills or streams instead of growing."""
    limit = os.environ.get("AUDIENCE_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT)
    con.execute(f"set memory_limit = '{limit}'")


class DuckDBWarehouse:
    target = "duckdb"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.con = duckdb.connect(str(path))
        self.con.execute("set TimeZone = 'UTC'")
        limit_memory(self.con)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.con.execute(sql, list(params))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def insert_query(self, schema: str, table: str, query: str, params: Sequence[Any]) -> int:
        """Insert what a query of this connection selects (DuckDB reads files itself, and
        writes a large insert to disk as it goes); returns the rows inserted."""
        inserted = self.con.execute(
            f"insert into {quote_ident(schema)}.{quote_ident(table)} by name {query}", list(params)
        ).fetchone()
        return int(inserted[0]) if inserted else 0

    def insert_arrow(self, schema: str, table: str, data: pa.Table) -> None:
        self.con.register("_incoming", data)
        try:
            columns = ", ".join(quote_ident(c) for c in data.column_names)
            self.con.execute(
                f"insert into {quote_ident(schema)}.{quote_ident(table)} ({columns}) "
                f"select {columns} from _incoming"
            )
        finally:
            self.con.unregister("_incoming")

    def begin(self) -> None:
        self.con.execute("begin transaction")

    def commit(self) -> None:
        self.con.execute("commit")

    def rollback(self) -> None:
        self.con.execute("rollback")

    def close(self) -> None:
        self.con.close()


def postgres_params(dbname: str | None = None) -> dict[str, Any]:
    """libpq connection parameters from the standard PG* variables (as profiles.yml reads them)."""
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": int(os.environ.get("PGPORT", "5432")),
        "user": os.environ.get("PGUSER", "postgres"),
        "password": os.environ.get("PGPASSWORD", ""),
        "dbname": dbname or os.environ.get("PGDATABASE", "postgres"),
    }


class PostgresWarehouse:
    target = "postgres"

    def __init__(self, dbname: str | None = None) -> None:
        import psycopg2

        params = postgres_params(dbname)
        self.dbname: str = params["dbname"]
        self.con = psycopg2.connect(**params)
        self.con.autocommit = True

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.con.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), list(params) or None)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.con.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), list(params) or None)
            return list(cur.fetchall())

    def insert_arrow(self, schema: str, table: str, data: pa.Table) -> None:
        buffer = io.BytesIO()
        pacsv.write_csv(data, buffer, pacsv.WriteOptions(include_header=False))
        buffer.seek(0)
        columns = ", ".join(quote_ident(c) for c in data.column_names)
        with self.con.cursor() as cur:
            cur.copy_expert(
                f"copy {quote_ident(schema)}.{quote_ident(table)} ({columns}) "
                "from stdin with (format csv)",
                buffer,
            )

    def begin(self) -> None:
        self.con.autocommit = False

    def commit(self) -> None:
        self.con.commit()
        self.con.autocommit = True

    def rollback(self) -> None:
        self.con.rollback()
        self.con.autocommit = True

    def close(self) -> None:
        self.con.close()


def connect(target: str) -> Warehouse:
    if target == "duckdb":
        return DuckDBWarehouse(duckdb_path())
    if target == "postgres":
        return PostgresWarehouse()
    raise ValueError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")


@contextmanager
def connected(target: str) -> Iterator[Warehouse]:
    warehouse = connect(target)
    try:
        yield warehouse
    finally:
        warehouse.close()
