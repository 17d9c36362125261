"""`audience load DIR [--source NAME]`: land a folder of table files in the warehouse.

What is a table file (`discover`): `<table>.parquet`, `<table>.csv` or `<table>.jsonl` at the
top of the folder, also gzipped (`<table>.csv.gz`, `<table>.jsonl.gz`), also date-sharded
(`<table>_YYYYMMDD.<ext>`, as BigQuery's GA4 export names its days), and every such file in a
folder `<table>/` and the folders under it (`pages/part-0001.parquet`, hive partitions such as
`pages/dt=2024-06-01/part-0.parquet`). Any number of files may be one table; each keeps its
own `_source_file`. Names starting with `_` or `.` are skipped; other files are ignored (and
listed as such).

Two shapes, by source (`audience.sources`):

- The contract (the default): every contract column is landed as text in schema `raw`
  (missing optional columns as nulls, extra columns ignored; a hive partition key that is a
  contract column fills that column when the file lacks it).
- A vendor (`--source sendgrid`, ...): every column of the file is landed as text in schema
  `raw_<name>`, under its name lower-cased with each character other than a-z, 0-9 and `_`
  replaced by `_` (`Email Opt Out` -> `email_opt_out`; a name taken already gets `_2`, `_3`;
  at most 63 characters, PostgreSQL's limit). A file with new columns adds them to the table;
  a file without some loads nulls there. Hive partition keys are columns too (the file's own
  column of the same name wins). The transactions source also reads whitespace-separated
  `.txt` files (the first line is the header unless it is all numbers; then the columns are
  `column_1` ... `column_n`).

Nested values (parquet structs, lists and maps; JSON arrays and objects) land as JSON text.
Every row also carries the file and row it came from and the load time.

Re-loading a file replaces the rows that file loaded before, so loading the same folder twice
never doubles the data; a file whose bytes (SHA-256) are those of its last load, with every
row still in the warehouse, is left as it is (`unchanged`): no new load time, so nothing
downstream takes it for new data. Every file is checked (read once) before anything is
written: each bad one (unreadable, truncated, missing required contract columns, ...) is
reported with its reason in `LoadReport.errors`, and the good ones load. `LoadError` is raised
when nothing at all can be loaded.

Awkward input:

- An empty CSV or JSONL file (0 bytes, blank lines only, or a CSV header alone) loads as zero
  rows for its table, with a warning in the load report. A parquet file of 0 bytes (or one too
  short to be parquet) is a bad file: it is a truncated export, not an empty one.
- NUL characters are taken out of every text value (and `\\u0000` escapes out of the contract's
  JSON columns), on every target alike: PostgreSQL cannot store them in text or jsonb, and the
  engines must hold the same text.
- The load is one transaction: when it fails (a full disk, a lost connection) nothing of it
  is written, and the error raised is the one that stopped it, never a failed rollback's.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import logging
import os
import re
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pyarrow as pa

from audience.contract import (
    GZIP_FORMATS,
    JSON_COLUMNS,
    LINEAGE_COLUMNS,
    RAW_TABLES,
    TEXT_FORMAT,
    RawTable,
)
from audience.progress import SILENT, Reporter
from audience.sources import CONTRACT, Source, get_source
from audience.warehouse import DuckDBWarehouse, Warehouse, limit_memory, quote_ident

log = logging.getLogger(__name__)

RAW_SCHEMA = CONTRACT.schema
LOAD_LOG_TABLE = "_load_log"
#: Rows per batch streamed from a file into the warehouse.
BATCH_ROWS = 250_000
#: The longest name PostgreSQL keeps (it cuts longer ones short, silently).
MAX_NAME_LENGTH = 63
#: `.txt` files with these names are documentation beside the data (LICENSE.txt), not tables.
DOCUMENT_STEMS = frozenset(
    {"changelog", "copying", "licence", "license", "notice", "readme", "source"}
)

_DATE_SHARD = re.compile(r"^(?P<table>.+)_(?P<day>\d{8})$")
_PARTITION = re.compile(r"^(?P<key>[^=]+)=(?P<value>.*)$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
#: What DuckDB's regular expressions take for whitespace (RE2's \s), for Python alike.
_WHITESPACE = re.compile(r"[\t\n\f\r ]+")
_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


class LoadError(Exception):
    """Nothing can be loaded as it is; the message says which file(s) and why (one per line)."""

    def __init__(self, message: str, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


class BadFile(Exception):
    """One file cannot be loaded; the message is the reason (the caller names the file)."""


@dataclass
class TableLoad:
    table: str
    source_file: str | None
    rows: int
    # loaded | unchanged (the same content was loaded last time) | not_provided | refused
    # (every file of the table is bad: see the report's errors)
    status: str
    replaced: int = 0  # rows of earlier loads this load took out
    seconds: float = 0.0
    schema: str = RAW_SCHEMA
    file_name: str = ""  # the file as the report names it: its path in the folder

    @property
    def relation(self) -> str:
        """The table as reports and the load log name it: plain for the contract's raw
        tables, `<schema>.<table>` for a vendor's."""
        return self.table if self.schema == RAW_SCHEMA else f"{self.schema}.{self.table}"


@dataclass
class LoadReport:
    target: str
    loads: list[TableLoad] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: one `<file>: <reason>` per bad file: none of it was loaded (its earlier rows stay)
    errors: list[str] = field(default_factory=list)
    source: str = CONTRACT.name

    @property
    def rows_loaded(self) -> int:
        return sum(load.rows for load in self.loads)

    def format_table(self) -> str:
        width = max([16, *(len(load.relation) for load in self.loads)])
        lines = [f"{'table':<{width}} {'rows':>12}  source"]
        for load in self.loads:
            if load.status == "not_provided":
                source = "(not provided: empty table)"
            elif load.status == "refused":
                source = "(not loaded: its files are bad, see the errors)"
            else:
                source = load.source_file or ""
            if load.status == "unchanged":
                source += " (unchanged since its last load: nothing written)"
            lines.append(f"{load.relation:<{width}} {load.rows:>12,}  {source}")
        lines.append(f"{'total':<{width}} {self.rows_loaded:>12,}")
        why = (
            "not a raw contract table"
            if self.source == CONTRACT.name
            else f"not a table file of source {self.source}"
        )
        for name in self.ignored_files:
            lines.append(f"ignored: {name} ({why})")
        for warning in self.warnings:
            lines.append(f"warning: {warning}")
        return "\n".join(lines)

    def format_errors(self) -> list[str]:
        """One `error: <file>: <reason>` line per bad file."""
        return [f"error: {error}" for error in self.errors]


# --- which files are which table ------------------------------------------------------------


@dataclass(frozen=True)
class TableFile:
    """One file of a table: where it is, its format, the hive partition values on its path."""

    table: str
    path: Path
    name: str  # the path in the folder, as reports name it (`pages.csv`, `pages/part-1.parquet`)
    fmt: str  # parquet, csv, jsonl or txt
    partitions: tuple[tuple[str, str | None], ...] = ()

    @property
    def gzipped(self) -> bool:
        return self.path.name.endswith(".gz")


def column_name(name: str) -> str:
    """A vendor's column (or table) name as it lands: lower-cased, and every character other
    than a-z, 0-9 and `_` replaced by `_` (`Email Opt Out` -> `email_opt_out`)."""
    return re.sub(r"[^a-z0-9_]", "_", name.lstrip("\ufeff").lower()) or "column"


def unique_names(names: Iterable[str], taken: Iterable[str] = LINEAGE_COLUMNS) -> list[str]:
    """`column_name` of each name, at most MAX_NAME_LENGTH long, and unique: a name taken
    already (by an earlier name or a lineage column) gets `_2`, `_3`, ..."""
    seen = set(taken)
    unique: list[str] = []
    for name in names:
        base = column_name(name)[:MAX_NAME_LENGTH]
        candidate, number = base, 1
        while candidate in seen:
            number += 1
            suffix = f"_{number}"
            candidate = base[: MAX_NAME_LENGTH - len(suffix)] + suffix
        seen.add(candidate)
        unique.append(candidate)
    return unique


def split_file_name(file_name: str, source: Source) -> tuple[str, str] | None:
    """(stem, format) of a file the source reads (`pages.csv.gz` -> ("pages", "csv")), or
    None for any other file."""
    for fmt in source.formats:
        suffixes = [f".{fmt}", f".{fmt}.gz"] if fmt in GZIP_FORMATS else [f".{fmt}"]
        for suffix in suffixes:
            if file_name.endswith(suffix) and len(file_name) > len(suffix):
                stem = file_name[: -len(suffix)]
                if fmt == TEXT_FORMAT and stem.lower() in DOCUMENT_STEMS:
                    return None
                return stem, fmt
    return None


def _table_of(name: str, source: Source) -> str | None:
    """The table a top-level name (a file's stem, a folder) belongs to, or None. A date
    shard `<table>_YYYYMMDD` belongs to `<table>`."""
    shard = _DATE_SHARD.match(name)
    table = shard["table"] if shard else name
    if source.is_contract:
        return table if table in RAW_TABLES else None
    return column_name(table)[:MAX_NAME_LENGTH]


def _skipped(name: str) -> bool:
    """Names starting with `_` or `.` are not data (`_SUCCESS`, `_manifest.json`, `.crc`)."""
    return name.startswith(("_", "."))


def _partition(folder: str, source: Source) -> tuple[str, str | None] | None:
    found = _PARTITION.match(folder)
    if found is None:
        return None
    key = found["key"].lower() if source.is_contract else column_name(found["key"])
    value = unquote(found["value"])
    return key[:MAX_NAME_LENGTH], None if value == _HIVE_NULL else value


def _folder_files(
    folder: Path, data_dir: Path, table: str, source: Source, ignored: list[str]
) -> list[TableFile]:
    """Every file of the source's formats in `folder` and the folders under it."""
    files: list[TableFile] = []
    for root, folders, names in os.walk(folder):
        folders[:] = sorted(name for name in folders if not _skipped(name))
        here = Path(root)
        partitions = tuple(
            found
            for part in here.relative_to(folder).parts
            if (found := _partition(part, source)) is not None
        )
        for name in sorted(names):
            if _skipped(name):
                continue
            path = here / name
            shown = path.relative_to(data_dir).as_posix()
            split = split_file_name(name, source)
            if split is None:
                ignored.append(shown)
                continue
            files.append(TableFile(table, path, shown, split[1], partitions))
    return files


def discover(
    data_dir: Path, source: str | Source = CONTRACT
) -> tuple[dict[str, list[TableFile]], list[str]]:
    """Map each table to its files in `data_dir`; return the files that are ignored too."""
    source = get_source(source) if isinstance(source, str) else source
    if not data_dir.is_dir():
        raise LoadError(f"{data_dir} is not a folder")
    found: dict[str, list[TableFile]] = {}
    ignored: list[str] = []
    for path in sorted(data_dir.iterdir()):
        if _skipped(path.name):
            continue
        if path.is_dir():
            table = _table_of(path.name, source)
            files = _folder_files(path, data_dir, table, source, ignored) if table else []
            if table is None or not files:
                ignored.append(f"{path.name}/")
            else:
                found.setdefault(table, []).extend(files)
            continue
        split = split_file_name(path.name, source)
        table = _table_of(split[0], source) if split else None
        if split is None or table is None:
            ignored.append(path.name)
            continue
        found.setdefault(table, []).append(TableFile(table, path, path.name, split[1]))
    return {table: sorted(files, key=lambda f: f.name) for table, files in found.items()}, ignored


# --- reading a file -------------------------------------------------------------------------

#: Bytes a text file may start with and still hold nothing (a UTF-8 byte order mark, blanks)
_BLANK_BYTES = b"\xef\xbb\xbf \t\r\n"


def is_blank_file(path: Path) -> bool:
    """True for a file of 0 bytes, or of nothing but blanks (and a byte order mark); a gzipped
    file is judged by what it holds."""
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            head = handle.read(4097)
        return len(head) <= 4096 and not head.strip(_BLANK_BYTES)
    if path.stat().st_size > 4096:
        return False
    return not path.read_bytes().strip(_BLANK_BYTES)


def _first_line(exc: Exception) -> str:
    """An error's first line (DuckDB adds the SQL it was running below it)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _json_path(key: str) -> str:
    """A JSON path to the top-level key, as a SQL string (any key: dots, quotes, `$`)."""
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return _sql_string(f'$."{escaped}"')


def _is_nested(duckdb_type: str) -> bool:
    """True for DuckDB's struct, list, array, map and union types."""
    return duckdb_type.endswith("]") or duckdb_type.startswith(("STRUCT", "MAP", "UNION"))


@dataclass(frozen=True)
class FileRelation:
    """A SQL source over one file, and what it holds."""

    fmt: str
    reader: str
    columns: tuple[tuple[str, str], ...]  # (name as written, DuckDB type)
    row_number: str  # the SQL of a row's number in the file (1 for the first)

    def value(self, index: int) -> str:
        """The SQL of the value of the index-th column as text: nested values as JSON text."""
        name, duckdb_type = self.columns[index]
        if self.fmt == "jsonl":
            return f"json_extract_string(json, {_json_path(name)})"
        if self.fmt == TEXT_FORMAT:
            return f"fields[{index + 1}]"
        if _is_nested(duckdb_type):
            return f"cast(to_json({quote_ident(name)}) as varchar)"
        return f"cast({quote_ident(name)} as varchar)"


def _file_relation(con: duckdb.DuckDBPyConnection, file: TableFile) -> FileRelation:
    """A SQL source over the file and its columns (the loader reads hive partition values from
    the path itself, for every format alike). A text file (CSV, JSONL, whitespace text) is
    read through once here, so a file that breaks halfway is refused before anything is
    written; a parquet file is checked by its footer and schema."""
    literal = _sql_string(str(file.path))
    if file.fmt == TEXT_FORMAT:
        return _text_relation(con, file, literal)
    if file.fmt == "parquet" and file.path.stat().st_size == 0:
        raise BadFile(
            "the file is empty (0 bytes), so not a parquet file: it looks truncated (an "
            "interrupted export or copy); export it again"
        )
    row_number = "row_number() over ()"
    if file.fmt == "jsonl":
        # Objects keep their JSON text (traits, properties) instead of becoming structs.
        reader = f"(select json from read_ndjson_objects({literal}, hive_partitioning = false))"
        # the keys in the order they first appear: by line, then place in the object
        names_sql = (
            "select key, 'JSON' from (select line, unnest(keys) as key, "
            "unnest(range(len(keys))) as place from (select json_keys(json) as keys, "
            f"row_number() over () as line from {reader} as objects) as lines) as keys "
            "group by key order by min(line), arg_min(place, line)"
        )
    elif file.fmt == "csv":
        reader = (
            f"read_csv({literal}, header = true, all_varchar = true, hive_partitioning = false)"
        )
        names_sql = f"select column_name, column_type from (describe select * from {reader})"
    else:
        reader = f"read_parquet({literal}, file_row_number = true, hive_partitioning = false)"
        names_sql = f"select column_name, column_type from (describe select * from {reader})"
    try:
        columns = [(str(name), str(kind)) for name, kind in con.execute(names_sql).fetchall()]
        if file.fmt == "csv":
            _count(con, reader)  # every row parses
    except duckdb.Error as exc:
        if file.fmt == "parquet":
            raise BadFile(
                "not a valid parquet file, it may be truncated (an interrupted export or "
                f"copy): {_first_line(exc)}"
            ) from exc
        raise BadFile(f"cannot be read as {_format_name(file)} ({_first_line(exc)})") from exc
    if file.fmt == "parquet" and ("file_row_number", "BIGINT") in columns:
        # Parquet numbers its rows as it streams
        columns.remove(("file_row_number", "BIGINT"))
        row_number = "file_row_number + 1"
    return FileRelation(file.fmt, reader, tuple(columns), row_number)


def _format_name(file: TableFile) -> str:
    return f"{file.fmt}.gz" if file.gzipped else file.fmt


def _first_text_fields(path: Path) -> list[str]:
    """The values of the first line that is not blank, split on runs of whitespace."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            fields = _WHITESPACE.split(line.replace("\ufeff", "").strip("\t\n\f\r "))
            if fields != [""]:
                return fields
    return []


def _text_relation(con: duckdb.DuckDBPyConnection, file: TableFile, literal: str) -> FileRelation:
    """Whitespace-separated text: values split on runs of whitespace, blank lines skipped. The
    first line is the header unless all its values are numbers (then the columns are
    `column_1` ... `column_n`); every row must have as many values as the first line."""
    first = _first_text_fields(file.path)
    header = not all(_NUMBER.match(value) for value in first)
    names = first if header else [f"column_{n}" for n in range(1, len(first) + 1)]
    # one column per line: a delimiter that is not in text (the unit separator), no quotes
    lines = (
        f"select regexp_replace(replace(line, chr(65279), ''), '^\\s+|\\s+$', '', 'g') as line "
        f"from read_csv({literal}, columns = {{'line': 'VARCHAR'}}, header = false, "
        "delim = chr(31), quote = '', escape = '', auto_detect = false, strict_mode = false, "
        "hive_partitioning = false)"
    )
    numbered = (
        "select string_split_regex(line, '\\s+') as fields, row_number() over () as line_number "
        f"from ({lines}) as lines where line <> ''"
    )
    skip = 1 if header else 0
    reader = (
        f"(select fields, line_number - {skip} as line_number from ({numbered}) as numbered "
        f"where line_number > {skip})"
    )
    try:
        ragged = con.execute(
            f"select min(line_number), arg_min(len(fields), line_number) "
            f"from {reader} as text_file where len(fields) <> {len(names)}"
        ).fetchall()[0]
    except duckdb.Error as exc:
        raise BadFile(f"cannot be read as {_format_name(file)} ({_first_line(exc)})") from exc
    if ragged and ragged[0] is not None:
        first_line = "the header" if header else "the first line"
        raise BadFile(
            f"row {ragged[0]} has {ragged[1]} values, {first_line} has {len(names)}: not "
            "whitespace-separated columns"
        )
    return FileRelation(
        TEXT_FORMAT, reader, tuple((name, "VARCHAR") for name in names), "line_number"
    )


#: JSON's escape of a NUL character (a pair of backslashes is matched first, and kept, so an
#: escaped backslash followed by "u0000" is left alone)
_JSON_NUL_ESCAPE = r"regexp_replace({}, '(\\\\)|\\u0000', '\1', 'g')"


def _without_nul(expression: str, json: bool = False) -> str:
    """The text value without NUL characters (PostgreSQL cannot store them in text), and for
    a JSON column of the contract without `\\u0000` escapes (PostgreSQL's jsonb refuses them)."""
    stripped = f"replace({expression}, chr(0), '')"
    return _JSON_NUL_ESCAPE.format(stripped) if json else stripped


def _lineage(row_number: str) -> str:
    """The lineage columns (parameters: the file name and the load time)."""
    return (
        f"? as _source_file, {row_number} as _source_row_number, cast(? as timestamp) as _loaded_at"
    )


def _empty_query(columns: Sequence[str]) -> str:
    """The query of an empty file: these text columns, no rows (same parameters)."""
    selected = "".join(f"cast(null as varchar) as {quote_ident(c)}, " for c in columns)
    return f"select {selected}{_lineage('cast(null as bigint)')} where false"


def _partition_value(value: str | None) -> str:
    return "cast(null as varchar)" if value is None else f"cast({_sql_string(value)} as varchar)"


def contract_query(con: duckdb.DuckDBPyConnection, table: RawTable, file: TableFile) -> str:
    """The query that reads one file as the contract table's text columns plus lineage columns
    (parameters: the file name and the load time). Reads only the file's columns: a file
    without a required column is refused here, before anything is written. An empty CSV or
    JSONL file reads as no rows."""
    if file.fmt != "parquet" and is_blank_file(file.path):
        return _empty_query(table.columns)
    relation = _file_relation(con, file)
    file_columns = {
        name.lower().lstrip("\ufeff"): index for index, (name, _) in enumerate(relation.columns)
    }
    if not file_columns and file.fmt == "jsonl" and _count(con, relation.reader) == 0:
        return _empty_query(table.columns)
    partitions = {
        key: value
        for key, value in file.partitions
        if key in table.columns and key not in file_columns
    }
    missing = [c for c in table.required if c not in file_columns and c not in partitions]
    if missing:
        raise BadFile(
            f"missing required column(s) {', '.join(missing)} for raw table "
            f"{table.name!r} (required: {', '.join(table.required)})"
        )
    selected: list[str] = []
    for column in table.columns:
        if column in file_columns:
            value = _without_nul(relation.value(file_columns[column]), column in JSON_COLUMNS)
        elif column in partitions:
            value = _partition_value(partitions[column])
        else:
            value = "cast(null as varchar)"
        selected.append(f"{value} as {quote_ident(column)}")
    return (
        f"select {', '.join(selected)}, {_lineage(relation.row_number)} "
        f"from {relation.reader} as source_file"
    )


def vendor_query(con: duckdb.DuckDBPyConnection, file: TableFile) -> tuple[str, tuple[str, ...]]:
    """The query that reads one file in its own shape: each of its columns as text under its
    landed name (`unique_names`), its hive partition keys, and the lineage columns (same
    parameters as `contract_query`); and the names of its columns."""
    if file.fmt != "parquet" and is_blank_file(file.path):
        return _empty_query(()), ()
    relation = _file_relation(con, file)
    names = unique_names(name for name, _ in relation.columns)
    selected = [
        f"{_without_nul(relation.value(index))} as {quote_ident(name)}"
        for index, name in enumerate(names)
    ]
    for key, value in file.partitions:
        if key not in names and key not in LINEAGE_COLUMNS:
            selected.append(f"{_partition_value(value)} as {quote_ident(key)}")
            names.append(key)
    columns = "".join(f"{column}, " for column in selected)
    query = f"select {columns}{_lineage(relation.row_number)} from {relation.reader} as source_file"
    return query, tuple(names)


def _count(con: duckdb.DuckDBPyConnection, reader: str) -> int:
    rows = con.execute(f"select count(*) from {reader} as source_file").fetchall()
    return int(rows[0][0]) if rows else 0


@dataclass(frozen=True)
class FilePlan:
    """A checked file: the query that reads it and the columns it fills."""

    file: TableFile
    query: str
    columns: tuple[str, ...]


def plan_file(con: duckdb.DuckDBPyConnection, source: Source, file: TableFile) -> FilePlan:
    """Check one file and make its query; BadFile says why it cannot be loaded."""
    try:
        if source.is_contract:
            table = RAW_TABLES[file.table]
            return FilePlan(file, contract_query(con, table, file), table.columns)
        query, columns = vendor_query(con, file)
        return FilePlan(file, query, columns)
    except duckdb.Error as exc:
        raise BadFile(f"cannot be read as {_format_name(file)} ({_first_line(exc)})") from exc
    except (OSError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise BadFile(f"cannot be read ({reason})") from exc


def read_batches(
    con: duckdb.DuckDBPyConnection, query: str, path: Path, loaded_at: datetime
) -> pa.RecordBatchReader:
    """Stream a file through its query, BATCH_ROWS rows at a time: memory stays bounded by the
    batch, not the file."""
    params = [str(path), loaded_at.replace(tzinfo=None)]
    return con.sql(query, params=params).to_arrow_reader(BATCH_ROWS)


# --- writing --------------------------------------------------------------------------------


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


def _prepare_vendor_table(
    warehouse: Warehouse, schema: str, table: str, plans: Sequence[FilePlan]
) -> None:
    """Create the vendor's table with every column its files have, or add the columns it
    lacks (text, null in the rows loaded before)."""
    text = warehouse.text_type
    wanted = list(dict.fromkeys(column for plan in plans for column in plan.columns))
    target = f"{warehouse.quote(schema)}.{warehouse.quote(table)}"
    held = warehouse.column_names(schema, table)
    if not held:
        columns = "".join(f"{warehouse.quote(c)} {text}, " for c in wanted)
        warehouse.execute(
            f"create table {target} ({columns}_source_file {text}, "
            "_source_row_number bigint, _loaded_at timestamp)"
        )
        return
    for column in wanted:
        if column not in held:
            warehouse.execute(f"alter table {target} add column {warehouse.quote(column)} {text}")


def _write(
    warehouse: Warehouse,
    source: Source,
    plans: Sequence[FilePlan],
    refused: set[str],
    reader: duckdb.DuckDBPyConnection,
    loaded_at: datetime,
    replace: bool,
    report: LoadReport,
    progress: Reporter,
) -> None:
    """Replace the rows of these files (or, with `replace`, every row of each provided table)
    in one transaction: a file that fails halfway leaves the warehouse as it was."""
    by_table: dict[str, list[FilePlan]] = {}
    for plan in plans:
        by_table.setdefault(plan.file.table, []).append(plan)
    tables = list(RAW_TABLES) if source.is_contract else sorted({*by_table, *refused})
    loading = "the raw schema"
    try:
        _ensure_schema(warehouse)
        warehouse.begin()
        try:
            if not source.is_contract:
                warehouse.execute(f"create schema if not exists {warehouse.quote(source.schema)}")
            for table in tables:
                table_plans = by_table.get(table, [])
                if not table_plans:
                    status = "refused" if table in refused else "not_provided"
                    report.loads.append(TableLoad(table, None, 0, status, schema=source.schema))
                    continue
                if not source.is_contract:
                    loading = f"{source.schema}.{table}"
                    _prepare_vendor_table(warehouse, source.schema, table, table_plans)
                for index, plan in enumerate(table_plans):
                    loading = plan.file.name
                    mode = ("table" if index == 0 else "none") if replace else "file"
                    load = _write_file(warehouse, source.schema, plan, reader, loaded_at, mode)
                    report.loads.append(load)
                    progress.step(
                        "load",
                        load.relation,
                        count=load.rows,
                        seconds=load.seconds,
                        detail=plan.file.name if len(table_plans) > 1 else "",
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


def _write_file(
    warehouse: Warehouse,
    schema: str,
    plan: FilePlan,
    reader: duckdb.DuckDBPyConnection,
    loaded_at: datetime,
    mode: str,
) -> TableLoad:
    """Write one file's rows. `mode`: `file` replaces the rows this file loaded before (or
    leaves them, when its content is unchanged); `table` takes out every row of the table
    first (--replace); `none` only inserts (a later file of a table emptied by `table`)."""
    started = time.perf_counter()
    file = plan.file
    name = file.table
    source_file = str(file.path)
    target = f"{warehouse.quote(schema)}.{warehouse.quote(name)}"
    log_name = name if schema == RAW_SCHEMA else f"{schema}.{name}"
    done = {"schema": schema, "file_name": file.name}
    fingerprint = file_sha256(file.path)
    replaced = 0
    if mode == "table":
        replaced = warehouse.query(f"select count(*) from {target}")[0][0]
        if replaced:
            warehouse.delete_rows(schema, name, None)
    elif mode == "file":
        replaced = warehouse.query(
            f"select count(*) from {target} where _source_file = ?", [source_file]
        )[0][0]
        if _already_loaded(warehouse, log_name, source_file, fingerprint, replaced):
            # the same bytes are there already: re-stamping them would only make every
            # incremental model rebuild and every new-event sensor fire
            seconds = time.perf_counter() - started
            return TableLoad(name, source_file, replaced, "unchanged", 0, seconds, **done)
        if replaced:
            warehouse.delete_rows(schema, name, source_file)
    if isinstance(warehouse, DuckDBWarehouse):
        params = [source_file, loaded_at.replace(tzinfo=None)]
        rows = warehouse.insert_query(schema, name, plan.query, params)
    else:
        rows = 0
        for batch in read_batches(reader, plan.query, file.path, loaded_at):
            warehouse.insert_arrow(schema, name, pa.Table.from_batches([batch]))
            rows += batch.num_rows
    warehouse.execute(
        f"insert into {RAW_SCHEMA}.{LOAD_LOG_TABLE} "
        "(table_name, source_file, rows_loaded, loaded_at, rows_replaced, file_sha256) "
        "values (?, ?, ?, ?, ?, ?)",
        [log_name, source_file, rows, loaded_at.replace(tzinfo=None), replaced, fingerprint],
    )
    seconds = time.perf_counter() - started
    return TableLoad(name, source_file, rows, "loaded", replaced, seconds, **done)


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
    """True when the latest load of this file into this table had the same content and the
    table still holds every row it loaded."""
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
        warning = f"{load.file_name or path.name} {empty}: loaded as 0 rows of "
        warning += f"{load.schema}.{load.table}"
        if load.replaced:
            taken = "every row of the table" if replace else "the rows it loaded before"
            rows = "row" if load.replaced == 1 else "rows"
            warning += f" ({load.replaced:,} {rows} taken out: {taken})"
        report.warnings.append(warning)
        log.warning("%s", warning)


def _nothing_found(data_dir: Path, source: Source) -> LoadError:
    if source.is_contract:
        expected = ", ".join(f"{t}.{{{'|'.join(source.formats)}}}" for t in RAW_TABLES)
        return LoadError(f"{data_dir}: no raw contract files found (expected any of {expected})")
    return LoadError(
        f"{data_dir}: no table files found for source {source.name} (expected "
        f"<table>.{{{'|'.join(source.formats)}}} files, or folders of them)"
    )


def load_dir(
    data_dir: Path,
    warehouse: Warehouse,
    *,
    source: str | Source = CONTRACT,
    replace: bool = False,
    progress: Reporter = SILENT,
    only: Collection[str] | None = None,
) -> LoadReport:
    """Load every table file in `data_dir`: contract files into schema raw, or with a vendor
    `source` each file in its own shape into the vendor's schema.

    With `only` (file names as the report names them: their paths in the folder), just those
    files are read and written, so a run started for a file that just landed does not read
    the whole folder again; the other files' rows stay as they are.

    With `replace`, each provided table is emptied first (a full reload); otherwise rows from
    other files stay and only the rows of the files being loaded are replaced. Bad files are
    reported in the report's `errors` and the others load; LoadError when none can.
    `progress` hears of the files checked and of each file written.
    """
    chosen = get_source(source) if isinstance(source, str) else source
    if not chosen.is_contract and warehouse.target == "spark":
        raise LoadError(
            f"--source {chosen.name} loads into DuckDB or PostgreSQL; on Spark, load files in "
            "the shape of the raw contract"
        )
    data_dir = data_dir.resolve()
    files, ignored = discover(data_dir, chosen)
    if only is not None:
        wanted = set(only)
        files = {
            table: chosen_files
            for table, table_files in files.items()
            if (chosen_files := [f for f in table_files if f.name in wanted])
        }
        ignored = []
    loaded_at = datetime.now(UTC)
    report = LoadReport(target=warehouse.target, ignored_files=ignored, source=chosen.name)
    for name in ignored:
        log.warning("ignoring %s: not a table file of source %s", name, chosen.name)
    if not files:
        raise _nothing_found(data_dir, chosen)

    reader = duckdb.connect()
    limit_memory(reader)
    try:
        # Check every file before writing anything; then stream the good ones in.
        every = [file for table_files in files.values() for file in table_files]
        checking = progress.task("check", "columns", total=len(every), unit="files")
        plans: list[FilePlan] = []
        refused: set[str] = set()
        for file in every:
            try:
                plans.append(plan_file(reader, chosen, file))
            except BadFile as exc:
                report.errors.append(f"{file.name}: {exc}")
                refused.add(file.table)
            checking.advance()
        checking.done()
        if not plans:
            if len(report.errors) == 1:
                raise LoadError(report.errors[0], report.errors)
            raise LoadError(
                "\n".join([*report.errors, f"nothing was loaded: all {len(every)} files are bad"]),
                report.errors,
            )
        refused -= {plan.file.table for plan in plans}
        _write(warehouse, chosen, plans, refused, reader, loaded_at, replace, report, progress)
    finally:
        reader.close()
    _empty_file_warnings(report, replace)
    return report


__all__ = [
    "LINEAGE_COLUMNS",
    "LoadError",
    "LoadReport",
    "TableFile",
    "TableLoad",
    "column_name",
    "discover",
    "load_dir",
]
