"""`audience load DIR`: land a folder of contract-shaped files in the raw schema.

One file per raw table, named `<table>.parquet`, `<table>.csv` or `<table>.jsonl`. Every
contract column is landed as text (missing optional columns as nulls, extra columns ignored),
plus the file and row it came from and the load time. Re-loading a file replaces the rows
that file loaded before, so loading the same folder twice never doubles the data. All files
are checked before anything is written: a missing required column fails the whole load with
a message naming the file and the columns.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from audience.contract import FILE_FORMATS, LINEAGE_COLUMNS, RAW_TABLES, RawTable
from audience.progress import SILENT, Reporter
from audience.warehouse import DuckDBWarehouse, Warehouse, limit_memory, quote_ident

log = logging.getLogger(__name__)

RAW_SCHEMA = "raw"
LOAD_LOG_TABLE = "_load_log"
#: Rows per batch streamed from a file into the warehouse.
BATCH_ROWS = 250_000


class LoadError(Exception):
    """The folder cannot be loaded as it is; the message says which file and why."""


@dataclass
class TableLoad:
    table: str
    source_file: str | None
    rows: int
    status: str  # loaded | not_provided
    replaced: int = 0  # rows of earlier loads this load took out


@dataclass
class LoadReport:
    target: str
    loads: list[TableLoad] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return sum(load.rows for load in self.loads)

    def format_table(self) -> str:
        lines = [f"{'table':<16} {'rows':>12}  source"]
        for load in self.loads:
            source = load.source_file or "(not provided: empty table)"
            lines.append(f"{load.table:<16} {load.rows:>12,}  {source}")
        lines.append(f"{'total':<16} {self.rows_loaded:>12,}")
        for name in self.ignored_files:
            lines.append(f"ignored: {name} (not a raw contract table)")
        return "\n".join(lines)


def discover(data_dir: Path) -> tuple[dict[str, Path], list[str]]:
    """Map each contract table to its file in `data_dir`; return the files that are ignored."""
    if not data_dir.is_dir():
        raise LoadError(f"{data_dir} is not a folder")
    found: dict[str, Path] = {}
    ignored: list[str] = []
    for path in sorted(data_dir.iterdir()):
        if path.name.startswith(("_", ".")) or path.is_dir():
            continue
        stem, _, suffix = path.name.partition(".")
        if suffix not in FILE_FORMATS:
            ignored.append(path.name)
            continue
        if stem not in RAW_TABLES:
            ignored.append(path.name)
            continue
        if stem in found:
            raise LoadError(
                f"two files for table {stem!r}: {found[stem].name} and {path.name}; keep one"
            )
        found[stem] = path
    return found, ignored


def _file_relation(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, dict[str, str]]:
    """A SQL source over the file, and its column names (lower-cased -> as written)."""
    literal = "'" + str(path).replace("'", "''") + "'"
    suffix = path.name.partition(".")[2]
    if suffix == "jsonl":
        # Objects keep their JSON text (traits, properties) instead of becoming structs.
        reader = f"(select json from read_ndjson_objects({literal}))"
        names_sql = f"select distinct unnest(json_keys(json)) from {reader} as objects"
    else:
        reader = (
            f"read_csv({literal}, header = true, all_varchar = true)"
            if suffix == "csv"
            else f"read_parquet({literal}, file_row_number = true)"
        )
        names_sql = f"select column_name from (describe select * from {reader})"
    try:
        names = [row[0] for row in con.execute(names_sql).fetchall()]
    except duckdb.Error as exc:
        raise LoadError(f"{path.name}: cannot be read as {suffix} ({exc})") from exc
    return reader, {name.lower().lstrip("\ufeff"): name for name in names}


def _column_expression(suffix: str, column: str, file_columns: dict[str, str]) -> str:
    if column not in file_columns:
        return f"cast(null as varchar) as {quote_ident(column)}"
    source_name = file_columns[column]
    if suffix == "jsonl":
        return f"json_extract_string(json, '$.\"{source_name}\"') as {quote_ident(column)}"
    return f"cast({quote_ident(source_name)} as varchar) as {quote_ident(column)}"


def contract_query(con: duckdb.DuckDBPyConnection, table: RawTable, path: Path) -> str:
    """The query that reads one file as the contract table's text columns plus lineage columns
    (parameters: the file name and the load time). Reads only the file's columns: a file
    without a required column is refused here, before anything is written."""
    reader, file_columns = _file_relation(con, path)
    missing = [c for c in table.required if c not in file_columns]
    if missing:
        raise LoadError(
            f"{path.name}: missing required column(s) {', '.join(missing)} for raw table "
            f"{table.name!r} (required: {', '.join(table.required)})"
        )
    suffix = path.name.partition(".")[2]
    selected = ",\n    ".join(_column_expression(suffix, c, file_columns) for c in table.columns)
    # Parquet numbers its rows as it streams; other formats are numbered in read order
    row_number = (
        "file_row_number + 1" if "file_row_number" in file_columns else "row_number() over ()"
    )
    return f"""
        select
            {selected},
            ? as _source_file,
            {row_number} as _source_row_number,
            cast(? as timestamp) as _loaded_at
        from {reader} as source_file
    """


def read_contract_batches(
    con: duckdb.DuckDBPyConnection, query: str, path: Path, loaded_at: datetime
) -> pa.RecordBatchReader:
    """Stream a file through its contract query, BATCH_ROWS rows at a time: memory stays
    bounded by the batch, not the file."""
    params = [str(path), loaded_at.replace(tzinfo=None)]
    return con.sql(query, params=params).to_arrow_reader(BATCH_ROWS)


def read_contract_file(
    con: duckdb.DuckDBPyConnection, table: RawTable, path: Path, loaded_at: datetime
) -> pa.Table:
    """Read one whole file as the contract table's text columns plus lineage columns."""
    query = contract_query(con, table, path)
    return read_contract_batches(con, query, path, loaded_at).read_all()


def _create_raw_table(warehouse: Warehouse, table: RawTable) -> None:
    text = warehouse.text_type
    text_columns = ", ".join(f"{warehouse.quote(c)} {text}" for c in table.columns)
    warehouse.execute(
        f"create table if not exists {RAW_SCHEMA}.{warehouse.quote(table.name)} ("
        f"{text_columns}, _source_file {text}, _source_row_number bigint, "
        f"_loaded_at timestamp){warehouse.raw_table_options}"
    )


def _ensure_schema(warehouse: Warehouse) -> None:
    warehouse.execute(f"create schema if not exists {RAW_SCHEMA}")
    text = warehouse.text_type
    log_table = f"{RAW_SCHEMA}.{LOAD_LOG_TABLE}"
    # rows_replaced: rows a load took out (a re-loaded file, --replace); incremental models
    # rebuild after it
    held = warehouse.column_names(RAW_SCHEMA, LOAD_LOG_TABLE)
    if held:
        if "rows_replaced" not in held:
            warehouse.execute(f"alter table {log_table} add column rows_replaced bigint")
    else:
        warehouse.execute(
            f"create table {log_table} (table_name {text}, source_file {text}, "
            "rows_loaded bigint, loaded_at timestamp, rows_replaced bigint)"
        )
    for table in RAW_TABLES.values():
        _create_raw_table(warehouse, table)


def _write(
    warehouse: Warehouse,
    files: dict[str, Path],
    queries: dict[str, str],
    reader: duckdb.DuckDBPyConnection,
    loaded_at: datetime,
    replace: bool,
    report: LoadReport,
    progress: Reporter,
) -> None:
    """Replace each provided table's rows of these files (or all, with `replace`) in one
    transaction: a file that fails halfway leaves the warehouse as it was."""
    _ensure_schema(warehouse)
    warehouse.begin()
    try:
        for name in RAW_TABLES:
            if name not in queries:
                report.loads.append(TableLoad(name, None, 0, "not_provided"))
                continue
            started = time.perf_counter()
            source_file = str(files[name])
            target = f"{RAW_SCHEMA}.{warehouse.quote(name)}"
            held = f"from {target}" if replace else f"from {target} where _source_file = ?"
            held_params = [] if replace else [source_file]
            replaced = warehouse.query(f"select count(*) {held}", held_params)[0][0]
            if replaced:
                warehouse.delete_rows(RAW_SCHEMA, name, None if replace else source_file)
            if isinstance(warehouse, DuckDBWarehouse):
                params = [str(files[name]), loaded_at.replace(tzinfo=None)]
                rows = warehouse.insert_query(RAW_SCHEMA, name, queries[name], params)
            else:
                rows = 0
                for batch in read_contract_batches(reader, queries[name], files[name], loaded_at):
                    warehouse.insert_arrow(RAW_SCHEMA, name, pa.Table.from_batches([batch]))
                    rows += batch.num_rows
            progress.step("load", name, count=rows, seconds=time.perf_counter() - started)
            warehouse.execute(
                f"insert into {RAW_SCHEMA}.{LOAD_LOG_TABLE} "
                "(table_name, source_file, rows_loaded, loaded_at, rows_replaced) "
                "values (?, ?, ?, ?, ?)",
                [name, source_file, rows, loaded_at.replace(tzinfo=None), replaced],
            )
            report.loads.append(TableLoad(name, source_file, rows, "loaded", replaced))
        warehouse.commit()
    except Exception:
        warehouse.rollback()
        raise


def load_dir(
    data_dir: Path,
    warehouse: Warehouse,
    *,
    replace: bool = False,
    progress: Reporter = SILENT,
) -> LoadReport:
    """Load every contract file in `data_dir` into the raw schema of `warehouse`.

    With `replace`, each provided table is emptied first (a full reload); otherwise rows from
    other files stay and only the rows of the files being loaded are replaced. `progress`
    hears of the files read and of each table written.
    """
    files, ignored = discover(data_dir.resolve())
    loaded_at = datetime.now(UTC)
    report = LoadReport(target=warehouse.target, ignored_files=ignored)
    for name in ignored:
        log.warning("ignoring %s: not a raw contract table file", name)
    if not files:
        expected = ", ".join(f"{t}.{{{'|'.join(FILE_FORMATS)}}}" for t in RAW_TABLES)
        raise LoadError(f"{data_dir}: no raw contract files found (expected any of {expected})")

    reader = duckdb.connect()
    limit_memory(reader)
    try:
        # Check every file's columns before writing anything; then stream each file in.
        checking = progress.task("check", "columns", total=len(files), unit="files")
        queries: dict[str, str] = {}
        for name, path in files.items():
            queries[name] = contract_query(reader, RAW_TABLES[name], path)
            checking.advance()
        checking.done()
        _write(warehouse, files, queries, reader, loaded_at, replace, report, progress)
    finally:
        reader.close()
    return report


__all__ = ["LINEAGE_COLUMNS", "LoadError", "LoadReport", "TableLoad", "discover", "load_dir"]
