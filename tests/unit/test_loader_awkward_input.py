"""Awkward files and faults during a load: a clear error or a warning, and nothing lost."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from awkward import (
    IDENTIFIES_HEADER,
    NUL_FREE_IDENTIFIES,
    NUL_FREE_PAGES,
    NUL_FREE_TRACKS,
    TRACKS_HEADER,
    nul_folder,
)

from audience import cli
from audience.loader import LoadError, is_disk_full, load_dir
from audience.warehouse import DuckDBWarehouse

TINY = Path(__file__).parents[1] / "fixtures" / "tiny"


def folder(tmp_path: Path, name: str = "data", **files: bytes | str) -> Path:
    """A folder holding the tiny fixture's pages.csv and these files."""
    data = tmp_path / name
    data.mkdir()
    shutil.copy(TINY / "pages.csv", data / "pages.csv")
    for file_name, content in files.items():
        path = data / file_name.replace("__", ".")
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return data


def raw_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path))
    try:
        return con.execute(f"select * from raw.{table} order by all").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize(
    ("file_name", "content"),
    [
        ("tracks.csv", b""),
        ("tracks.csv", TRACKS_HEADER.encode()),
        ("tracks.csv", b"\xef\xbb\xbf\r\n"),
        ("tracks.jsonl", b""),
        ("tracks.jsonl", b"\n\n"),
    ],
    ids=["csv-0-bytes", "csv-header-only", "csv-bom-only", "jsonl-0-bytes", "jsonl-blank"],
)
def test_an_empty_csv_or_jsonl_loads_as_zero_rows_with_a_warning(tmp_path, file_name, content):
    data = folder(tmp_path, **{file_name.replace(".", "__"): content})
    warehouse = DuckDBWarehouse(tmp_path / "wh.duckdb")
    try:
        report = load_dir(data, warehouse)
        loads = {load.table: load for load in report.loads}
        assert loads["tracks"].status == "loaded" and loads["tracks"].rows == 0
        assert loads["pages"].rows == 13
        assert warehouse.query("select count(*) from raw.tracks") == [(0,)]
    finally:
        warehouse.close()
    expected = "is empty (0 bytes)" if not content else "has no rows"
    assert report.warnings == [f"{file_name} {expected}: loaded as 0 rows of raw.tracks"]
    assert f"warning: {file_name} {expected}" in report.format_table()


def test_an_empty_file_that_replaces_earlier_rows_says_so(tmp_path):
    data = folder(tmp_path, tracks__csv=(TINY / "tracks.csv").read_text())
    warehouse = DuckDBWarehouse(tmp_path / "wh.duckdb")
    try:
        load_dir(data, warehouse)
        (data / "tracks.csv").write_text(TRACKS_HEADER)
        report = load_dir(data, warehouse)
        assert warehouse.query("select count(*) from raw.tracks") == [(0,)]
    finally:
        warehouse.close()
    assert report.warnings == [
        "tracks.csv has no rows: loaded as 0 rows of raw.tracks "
        "(6 rows taken out: the rows it loaded before)"
    ]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "tracks.parquet: the file is empty (0 bytes), so not a parquet file"),
        (b"PAR1\x00\x01", "tracks.parquet: not a valid parquet file, it may be truncated"),
    ],
    ids=["0-bytes", "truncated"],
)
def test_an_empty_or_truncated_parquet_is_refused_and_the_good_files_load(tmp_path, content, says):
    before = folder(tmp_path, "before", tracks__csv=(TINY / "tracks.csv").read_text())
    path = tmp_path / "wh.duckdb"
    warehouse = DuckDBWarehouse(path)
    try:
        load_dir(before, warehouse)
        tracks = raw_rows_of(warehouse, "tracks")
        data = folder(tmp_path, tracks__parquet=content, identifies__csv=IDENTIFIES_HEADER)
        (data / "pages.csv").write_text((TINY / "pages.csv").read_text().replace("p1,", "p1b,"))
        report = load_dir(data, warehouse, replace=True)
        assert len(report.errors) == 1 and report.errors[0].startswith(says)
        assert "LINE 1" not in report.errors[0]  # no SQL in the message
        statuses = {x.table: x.status for x in report.loads}
        assert statuses["tracks"] == "refused" and statuses["pages"] == "loaded"
        # the bad file's table is left as it was; the good files loaded
        assert raw_rows_of(warehouse, "tracks") == tracks
        assert warehouse.query("select count(*) from raw.pages where id = 'p1b'") == [(1,)]
        # a folder of nothing but a bad file: nothing can be loaded, nothing is written
        only_bad = tmp_path / "only_bad"
        only_bad.mkdir()
        (only_bad / "tracks.parquet").write_bytes(content)
        held = {t: raw_rows_of(warehouse, t) for t in ("pages", "tracks")}
        logged = warehouse.query("select count(*) from raw._load_log")
        with pytest.raises(LoadError) as error:
            load_dir(only_bad, warehouse, replace=True)
        assert str(error.value).startswith(says)
        assert {t: raw_rows_of(warehouse, t) for t in ("pages", "tracks")} == held
        assert warehouse.query("select count(*) from raw._load_log") == logged
    finally:
        warehouse.close()


def raw_rows_of(warehouse: DuckDBWarehouse, table: str) -> list[tuple[Any, ...]]:
    return warehouse.query(f"select * exclude (_loaded_at) from raw.{table} order by all")


def test_nul_characters_are_taken_out_of_text_in_every_format(tmp_path):
    """PostgreSQL cannot hold NUL in text (nor \\u0000 in jsonb): the loader strips them on
    every target, so the engines land the same text (tests/integration/test_awkward_input.py
    loads the same files into PostgreSQL)."""
    data = nul_folder(tmp_path)
    warehouse = DuckDBWarehouse(tmp_path / "wh.duckdb")
    try:
        load_dir(data, warehouse)
        tracks = warehouse.query("select id, event, properties from raw.tracks order by id")
        identifies = warehouse.query("select id, email, traits from raw.identifies order by id")
        pages = warehouse.query("select id, title from raw.pages order by id")
    finally:
        warehouse.close()
    assert tracks == NUL_FREE_TRACKS
    assert identifies == NUL_FREE_IDENTIFIES
    assert pages == NUL_FREE_PAGES


class FullDiskWarehouse(DuckDBWarehouse):
    """A DuckDB warehouse on a disk that fills up during the tracks insert, and whose
    rollback fails as well (as a full disk's often does)."""

    failing_table = "tracks"

    def insert_query(self, schema: str, table: str, query: str, params: Any) -> int:
        if table == self.failing_table:
            raise duckdb.IOException(
                f'IO Error: Could not write file "{self.path}.wal": No space left on device'
            )
        return super().insert_query(schema, table, query, params)

    def rollback(self) -> None:
        # the transaction stays open: closing the connection discards it
        raise duckdb.FatalException(
            "FATAL Error: Failed: database has been invalidated because of a previous fatal error"
        )


def test_a_full_disk_is_reported_as_such_and_nothing_is_loaded(tmp_path, caplog):
    path = tmp_path / "wh.duckdb"
    first = folder(tmp_path, "first", tracks__csv=(TINY / "tracks.csv").read_text())
    warehouse = DuckDBWarehouse(path)
    load_dir(first, warehouse)
    warehouse.close()
    held = {t: raw_rows(path, t) for t in ("pages", "tracks", "_load_log")}

    second = folder(tmp_path, "second", tracks__csv=(TINY / "tracks.csv").read_text())
    warehouse = FullDiskWarehouse(path)
    try:
        with pytest.raises(LoadError) as error:
            load_dir(second, warehouse, replace=True)
    finally:
        warehouse.close()
    assert str(error.value) == (
        "the warehouse disk is full (No space left on device) while loading tracks.csv; "
        "nothing was loaded; free space and load again"
    )
    # the original error is kept as the cause; the rollback's failure is only logged
    assert isinstance(error.value.__cause__, duckdb.IOException)
    assert "rollback after IO Error" in caplog.text and "invalidated" in caplog.text
    assert {t: raw_rows(path, t) for t in ("pages", "tracks", "_load_log")} == held


def test_the_cli_prints_the_full_disk_message(tmp_path, monkeypatch, capsys):
    from contextlib import contextmanager

    path = tmp_path / "wh.duckdb"

    @contextmanager
    def full_disk(target: str):
        warehouse = FullDiskWarehouse(path)
        try:
            yield warehouse
        finally:
            warehouse.close()

    monkeypatch.setattr(cli, "connected", full_disk)
    data = folder(tmp_path, tracks__csv=(TINY / "tracks.csv").read_text())
    assert cli.main(["-q", "load", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        "error: the warehouse disk is full (No space left on device) while loading tracks.csv; "
        "nothing was loaded; free space and load again"
    )
    assert raw_rows(path, "pages") == [] and raw_rows(path, "tracks") == []


def test_any_other_failure_is_raised_as_itself_even_when_the_rollback_fails(tmp_path):
    class Broken(FullDiskWarehouse):
        def insert_query(self, schema: str, table: str, query: str, params: Any) -> int:
            raise duckdb.ConnectionException("Connection Error: connection lost")

    warehouse = Broken(tmp_path / "wh.duckdb")
    try:
        with pytest.raises(duckdb.ConnectionException, match="connection lost"):
            load_dir(folder(tmp_path), warehouse)
    finally:
        warehouse.close()


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        duckdb.IOException('IO Error: Could not write file "x": No space left on device'),
        RuntimeError("wrapped"),
    ],
)
def test_is_disk_full(error):
    if isinstance(error, RuntimeError):
        assert not is_disk_full(error)
        error.__cause__ = OSError(errno.ENOSPC, "No space left on device")
    assert is_disk_full(error)
