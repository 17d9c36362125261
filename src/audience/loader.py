"""`audience load DIR`: land a folder of contract-shaped files in the raw schema.

One file per raw table, named `<table>.parquet`, `<table>.csv` or `<table>.jsonl`. Every
contract column is landed as text (missing optional columns as nulls, extra columns ignored),
plus the file and row it came from and the load time. Re-loading a file replaces the rows
that file loaded before, so loading the same folder twice never doubles the data; a file whose
bytes (SHA-256) are those of its last load, with every row still in raw, is left as it is
(`unchanged`): no new load time, so nothing downstream takes it for new data. All files
are checked before anything is written: a missing required column fails the whole load with
a message naming the file and the columns.

Awkward input:

- An empty CSV or JSONL file (0 bytes, blank lines only, or a CSV header alone) loads as zero
  rows for its table, with a warning in the load report. A parquet file of 0 bytes (or one too
  short to be parquet) is refused, naming the file: it is a truncated export, not an empty one.
- NUL characters are taken out of every text value (and `\\u0000` escapes out of the JSON
  columns), on every target alike: PostgreSQL cannot store them in text or jsonb, and the
  engines must hold the same text.
- The load is one transaction: when it fails (a full disk, a lost connection) nothing of it
  is written, and the error raised is the one that stopped it, never a failed rollback's.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from audience.contract import FILE_FORMATS, JSON_COLUMNS, LINEAGE_COLUMNS, RAW_TABLES, RawTable
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
    status: str  # loaded | unchanged (the same content was loaded last time) | not_provided
    replaced: int = 0  # rows of earlier loads this load took out
    seconds: float = 0.0


@dataclass
class LoadReport:
    target: str
    loads: list[TableLoad] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return sum(load.rows for load in self.loads)

    def format_table(self) -> str:
        lines = [f"{'table':<16} {'rows':>12}  source"]
        for load in self.loads:
            source = load.source_file or "(not provided: empty table)"
            if load.status == "unchanged":
                source += " (unchanged since its last load: nothing written)"
            lines.append(f"{load.table:<16} {load.rows:>12,}  {source}")
        lines.append(f"{'total':<16} {self.rows_loaded:>12,}")
        for name in self.ignored_files:
            lines.append(f"ignored: {name} (not a raw contract table)")
        for warning in self.warnings:
            lines.append(f"warning: {warning}")
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


#: Bytes a text file may start with and still hold nothing (a UTF-8 byte order mark, blanks)
_BLANK_BYTES = b"\xef\xbb\xbf \t\r\n"


def is_blank_file(path: Path) -> bool:
    """True for a file of 0 bytes, or of nothing but blanks (and a byte order mark)."""
    size = path.stat().st_size
    if size > 4096:
        return False
    return not path.read_bytes().strip(_BLANK_BYTES)


def _first_line(exc: Exception) -> str:
    """An error's first line (DuckDB adds the SQL it was running below it)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _file_relation(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, dict[str, str]]:
    """A SQL source over the file, and its column names (lower-cased -> as written)."""
    literal = "'" + str(path).replace("'", "''") + "'"
    suffix = path.name.partition(".")[2]
    if suffix == "parquet" and path.stat().st_size == 0:
        raise LoadError(
            f"{path.name}: the file is empty (0 bytes), so not a parquet file: it looks "
            "truncated (an interrupted export or copy); export it again"
        )
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
        if suffix == "parquet":
            raise LoadError(
                f"{path.name}: not a valid parquet file, it may be truncated (an interrupted "
                f"export or copy): {_first_line(exc)}"
            ) from exc
        raise LoadError(f"{path.name}: cannot be read as {suffix} ({_first_line(exc)})") from exc
    return reader, {name.lower().lstrip("\ufeff"): name for name in names}


#: JSON's escape of a NUL character (a pair of backslashes is matched first, and kept, so an
#: escaped backslash followed by "u0000" is left alone)
_JSON_NUL_ESCAPE = r"regexp_replace({}, '(\\\\)|\\u0000', '\1', 'g')"


def _without_nul(expression: str, column: str) -> str:
    """The text value without NUL characters (PostgreSQL cannot store them in text), and in a
    JSON column without `\\u0000` escapes (PostgreSQL's jsonb refuses them)."""
    stripped = f"replace({expression}, chr(0), '')"
    return _JSON_NUL_ESCAPE.format(stripped) if column in JSON_COLUMNS else stripped


def _column_expression(suffix: str, column: str, file_columns: dict[str, str]) -> str:
    if column not in file_columns:
        return f"cast(null as varchar) as {quote_ident(column)}"
    source_name = file_columns[column]
    if suffix == "jsonl":
        value = f"json_extract_string(json, '$.\"{source_name}\"')"
    else:
        value = f"cast({quote_ident(source_name)} as varchar)"
    return f"{_without_nul(value, column)} as {quote_ident(column)}"


def _empty_query(table: RawTable) -> str:
    """The contract query of an empty file: the table's columns, no rows (same parameters)."""
    columns = ",\n    ".join(f"cast(null as varchar) as {quote_ident(c)}" for c in table.columns)
    return f"""
        select
            {columns},
            ? as _source_file,
            cast(null as bigint) as _source_row_number,
            cast(? as timestamp) as _loaded_at
        where false
    """


def contract_query(con: duckdb.DuckDBPyConnection, table: RawTable, path: Path) -> str:
    """The query that reads one file as the contract table's text columns plus lineage columns
    (parameters: the file name and the load time). Reads only the file's columns: a file
    without a required column is refused here, before anything is written. An empty CSV or
    JSONL file reads as no rows."""
    suffix = path.name.partition(".")[2]
    if suffix != "parquet" and is_blank_file(path):
        return _empty_query(table)
    reader, file_columns = _file_relation(con, path)
    if not file_columns and suffix == "jsonl" and _count(con, reader) == 0:
        return _empty_query(table)
    missing = [c for c in table.required if c not in file_columns]
    if missing:
        raise LoadError(
            f"{path.name}: missing required column(s) {', '.join(missing)} for raw table "
            f"{table.name!r} (required: {', '.join(table.required)})"
        )
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


def _count(con: duckdb.DuckDBPyConnection, reader: str) -> int:
    row = con.execute(f"select count(*) from {reader} as source_file").fetchone()
    return int(row[0]) if row else 0


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
    # file_sha256: the content loaded, so loading the same file again changes nothing
    held = warehouse.column_names(RAW_SCHEMA, LOAD_LOG_TABLE)
    if held:
        for column, kind in (("rows_replaced", "bigint"), ("file_sha256", text)):
            if column not in held:
                warehouse.execute(f"alter table {log_table} add column {column} {kind}")
    else:
        warehouse.execute(
            f"create table {log_table} (table_name {text}, source_file {text}, "
            f"rows_loaded bigint, loaded_at timestamp, rows_replaced bigint, file_sha256 {text})"
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
    loading = "the raw schema"
    try:
        _ensure_schema(warehouse)
        warehouse.begin()
        try:
            for name in RAW_TABLES:
                if name not in queries:
                    report.loads.append(TableLoad(name, None, 0, "not_provided"))
                    continue
                loading = files[name].name
                report.loads.append(
                    _write_table(
                        warehouse, name, files[name], queries[name], reader, loaded_at, replace
                    )
                )
                progress.step(
                    "load", name, count=report.loads[-1].rows, seconds=report.loads[-1].seconds
                )
            loading = "the load (commit)"
            warehouse.commit()
        except BaseException as exc:
            _rollback(warehouse, exc)
            raise
    except Exception as exc:
        if is_disk_full(exc):
            raise LoadError(
                f"the warehouse disk is full (No space left on device) while loading {loading}; "
                "nothing was loaded; free space and load again"
            ) from exc
        raise


def _write_table(
    warehouse: Warehouse,
    name: str,
    path: Path,
    query: str,
    reader: duckdb.DuckDBPyConnection,
    loaded_at: datetime,
    replace: bool,
) -> TableLoad:
    """Replace one table's rows of this file (or all its rows, with `replace`) by the file's."""
    started = time.perf_counter()
    source_file = str(path)
    target = f"{RAW_SCHEMA}.{warehouse.quote(name)}"
    held = f"from {target}" if replace else f"from {target} where _source_file = ?"
    held_params = [] if replace else [source_file]
    replaced = warehouse.query(f"select count(*) {held}", held_params)[0][0]
    fingerprint = file_sha256(path)
    if not replace and _already_loaded(warehouse, name, source_file, fingerprint, replaced):
        # the same bytes are in raw already: re-stamping them would only make every
        # incremental model rebuild and every new-event sensor fire
        seconds = time.perf_counter() - started
        return TableLoad(name, source_file, replaced, "unchanged", 0, seconds=seconds)
    if replaced:
        warehouse.delete_rows(RAW_SCHEMA, name, None if replace else source_file)
    if isinstance(warehouse, DuckDBWarehouse):
        params = [source_file, loaded_at.replace(tzinfo=None)]
        rows = warehouse.insert_query(RAW_SCHEMA, name, query, params)
    else:
        rows = 0
        for batch in read_contract_batches(reader, query, path, loaded_at):
            warehouse.insert_arrow(RAW_SCHEMA, name, pa.Table.from_batches([batch]))
            rows += batch.num_rows
    warehouse.execute(
        f"insert into {RAW_SCHEMA}.{LOAD_LOG_TABLE} "
        "(table_name, source_file, rows_loaded, loaded_at, rows_replaced, file_sha256) "
        "values (?, ?, ?, ?, ?, ?)",
        [name, source_file, rows, loaded_at.replace(tzinfo=None), replaced, fingerprint],
    )
    seconds = time.perf_counter() - started
    return TableLoad(name, source_file, rows, "loaded", replaced, seconds=seconds)


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _already_loaded(
    warehouse: Warehouse, table: str, source_file: str, fingerprint: str, held_rows: int
) -> bool:
    """True when the latest load of this file into this table had the same content and raw
    still holds every row it loaded."""
    latest = warehouse.query(
        f"select file_sha256, rows_loaded from {RAW_SCHEMA}.{LOAD_LOG_TABLE} "
        "where table_name = ? and source_file = ? order by loaded_at desc limit 1",
        [table, source_file],
    )
    return bool(latest) and latest[0][0] == fingerprint and latest[0][1] == held_rows


def _rollback(warehouse: Warehouse, cause: BaseException) -> None:
    """Roll the load back; a rollback that fails too (a full disk often fails both) is logged,
    never raised: the caller re-raises the error that stopped the load. Nothing was committed
    either way."""
    try:
        warehouse.rollback()
    except Exception:
        log.warning(
            "the rollback after %s failed as well (nothing was committed)",
            _first_line(cause) if isinstance(cause, Exception) else type(cause).__name__,
            exc_info=True,
        )


def is_disk_full(exc: BaseException) -> bool:
    """True when the error (or one it came from) says the disk is full: an OSError ENOSPC,
    DuckDB's IO error with the OS's message, PostgreSQL's disk_full (SQLSTATE 53100)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            return True
        if getattr(current, "pgcode", None) == "53100":
            return True
        if "no space left on device" in str(current).lower():
            return True
        current = current.__cause__ or current.__context__
    return False


def _empty_file_warnings(report: LoadReport, replace: bool) -> None:
    """One warning per provided file that loaded no rows: an empty export is legal, and
    easy to miss."""
    for load in report.loads:
        if load.status != "loaded" or load.rows:
            continue
        path = Path(load.source_file or "")
        empty = "is empty (0 bytes)" if path.stat().st_size == 0 else "has no rows"
        warning = f"{path.name} {empty}: loaded as 0 rows of raw.{load.table}"
        if load.replaced:
            taken = "every row of the table" if replace else "the rows it loaded before"
            rows = "row" if load.replaced == 1 else "rows"
            warning += f" ({load.replaced:,} {rows} taken out: {taken})"
        report.warnings.append(warning)
        log.warning("%s", warning)


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
    _empty_file_warnings(report, replace)
    return report


__all__ = ["LINEAGE_COLUMNS", "LoadError", "LoadReport", "TableLoad", "discover", "load_dir"]
