"""Connections to the two supported warehouses, for the loader and the run summary.

dbt owns the models; this module only lands raw files and reads counts back. Connection
settings come from the same environment variables as profiles.yml.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from audience.project import duckdb_path

TARGETS: tuple[str, ...] = ("duckdb", "postgres", "spark")
DEFAULT_DUCKDB_MEMORY_LIMIT = "8GB"


class WarehouseBusy(RuntimeError):
    """Another process holds the DuckDB warehouse file (DuckDB allows one process per file)."""

    def __init__(self, path: str, pid: int | None, program: str | None) -> None:
        self.path = path
        self.pid = pid
        self.program = program
        holder = f"PID {pid}" if pid is not None else "another process"
        if program:
            holder += f", {program}"
        super().__init__(
            f"the DuckDB warehouse {path} is in use by another process ({holder}); DuckDB lets "
            "one process at a time open the file: wait for that process to finish (another "
            "audience or dbt run), or close the program holding the file (a BI tool, a "
            "notebook), then run again"
        )


_LOCK_FILE = re.compile(r'Could not set lock on file "(?P<path>[^"]+)"')
_LOCK_HOLDER = re.compile(
    r"Conflicting lock is held in (?P<program>.+?)(?: by user \S+)? \(PID (?P<pid>\d+)\)"
)


def duckdb_lock_conflict(message: str) -> WarehouseBusy | None:
    """The WarehouseBusy error a DuckDB "Could not set lock on file" message describes, or None
    for any other message."""
    found = _LOCK_FILE.search(message)
    if found is None:
        return None
    holder = _LOCK_HOLDER.search(message)
    pid = int(holder["pid"]) if holder else None
    return WarehouseBusy(found["path"], pid, holder["program"].strip() if holder else None)


def connect_duckdb(path: Path, **options: Any) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, with a WarehouseBusy error naming the process that holds the file."""
    try:
        return duckdb.connect(str(path), **options)
    except duckdb.IOException as exc:
        busy = duckdb_lock_conflict(str(exc))
        if busy is None:
            raise
        raise busy from exc


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Warehouse(Protocol):
    """What the loader and the summary need from a target."""

    target: str
    #: the type of the raw tables' text columns
    text_type: str
    #: what follows the column list of a raw table's `create table`
    raw_table_options: str

    def quote(self, name: str) -> str:
        """The identifier, quoted for this target."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def insert_arrow(self, schema: str, table: str, data: pa.Table) -> None: ...

    def delete_rows(self, schema: str, table: str, source_file: str | None) -> None:
        """Take out the rows one file loaded (or every row, for None)."""
        ...

    def column_names(self, schema: str, table: str) -> list[str]:
        """The table's columns, or [] when there is no such table."""
        ...

    def relations(self, schemas: Sequence[str]) -> list[tuple[str, str]]:
        """(schema, name) of every table and view in these schemas, sorted."""
        ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...


def limit_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Hold a DuckDB connection to the warehouse's memory limit (AUDIENCE_DUCKDB_MEMORY_LIMIT,
    as in profiles.yml): past it DuckDB spills or streams instead of growing."""
    limit = os.environ.get("AUDIENCE_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT)
    con.execute(f"set memory_limit = '{limit}'")


class _SqlWarehouse:
    """What DuckDB and PostgreSQL share: quoting, information_schema, SQL DELETE."""

    def quote(self, name: str) -> str:
        return quote_ident(name)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def relations(self, schemas: Sequence[str]) -> list[tuple[str, str]]:
        placeholders = ", ".join("?" for _ in schemas)
        rows = self.query(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in ({placeholders}) order by table_schema, table_name",
            list(schemas),
        )
        return [(schema, name) for schema, name in rows]

    def column_names(self, schema: str, table: str) -> list[str]:
        rows = self.query(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        )
        return [row[0] for row in rows]

    def delete_rows(self, schema: str, table: str, source_file: str | None) -> None:
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        if source_file is None:
            self.execute(f"delete from {target}")
        else:
            self.execute(f"delete from {target} where _source_file = ?", [source_file])


class DuckDBWarehouse(_SqlWarehouse):
    target = "duckdb"
    text_type = "varchar"
    raw_table_options = ""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.con = connect_duckdb(path)
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


def _pyformat(sql: str, params: Sequence[Any]) -> tuple[str, list[Any] | None]:
    """The statement in psycopg2's placeholder style. Only a statement with parameters has
    placeholders to rewrite: without them, SQL such as a regular expression keeps its `?`
    (and its `%`) as written."""
    if not params:
        return sql, None
    return sql.replace("%", "%%").replace("?", "%s"), list(params)


class PostgresWarehouse(_SqlWarehouse):
    target = "postgres"
    text_type = "varchar"
    raw_table_options = ""

    def __init__(self, dbname: str | None = None) -> None:
        import psycopg2

        params = postgres_params(dbname)
        self.dbname: str = params["dbname"]
        self.con = psycopg2.connect(**params)
        self.con.autocommit = True

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.con.cursor() as cur:
            cur.execute(*_pyformat(sql, params))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.con.cursor() as cur:
            cur.execute(*_pyformat(sql, params))
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


class SparkWarehouse:
    """The Spark target's session (dbt-spark's session method shares it in this process).

    Spark has no transactions: `begin`, `commit` and `rollback` do nothing, and a load that
    fails halfway is repaired by loading the same files again (each file's rows are one
    partition of its raw table, replaced whole).
    """

    target = "spark"
    text_type = "string"
    # one partition per source file: re-loading a file replaces its partition
    raw_table_options = " using parquet partitioned by (_source_file)"

    def __init__(self) -> None:
        from audience.spark import spark_session

        self.session = spark_session()

    def quote(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.session.sql(sql, args=list(params) or None).collect()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.session.sql(sql, args=list(params) or None).collect()]

    def insert_arrow(self, schema: str, table: str, data: pa.Table) -> None:
        name = f"{schema}.{table}"
        # insertInto matches by position: put the columns in the table's order
        columns = self.session.table(name).columns
        self.session.createDataFrame(data.select(columns)).write.insertInto(name)

    def relations(self, schemas: Sequence[str]) -> list[tuple[str, str]]:
        # Spark has no information_schema: ask the catalog
        found = []
        for schema in schemas:
            if self.session.catalog.databaseExists(schema):
                tables = self.session.catalog.listTables(schema)
                found += [(schema, t.name) for t in tables if not t.isTemporary]
        return sorted(found)

    def column_names(self, schema: str, table: str) -> list[str]:
        if not self.session.catalog.tableExists(f"{schema}.{table}"):
            return []
        return list(self.session.table(f"{schema}.{table}").columns)

    def delete_rows(self, schema: str, table: str, source_file: str | None) -> None:
        # plain parquet tables have no DELETE: drop the file's partition, or every row
        if source_file is None:
            self.execute(f"truncate table {schema}.{table}")
            return
        literal = source_file.replace("\\", "\\\\").replace("'", "\\'")
        self.execute(
            f"alter table {schema}.{table} drop if exists partition (_source_file = '{literal}')"
        )

    def begin(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        # the session outlives this handle: dbt and later commands of the process reuse it
        pass


def connect(target: str) -> Warehouse:
    if target == "duckdb":
        return DuckDBWarehouse(duckdb_path())
    if target == "postgres":
        return PostgresWarehouse()
    if target == "spark":
        return SparkWarehouse()
    raise ValueError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")


@contextmanager
def connected(target: str) -> Iterator[Warehouse]:
    warehouse = connect(target)
    try:
        yield warehouse
    finally:
        warehouse.close()
