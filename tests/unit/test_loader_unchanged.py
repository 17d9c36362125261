"""Loading the same file again changes nothing; a changed file replaces its rows."""

from __future__ import annotations

from pathlib import Path

from audience.loader import load_dir
from audience.warehouse import DuckDBWarehouse

TRACKS = (
    "id,anonymous_id,user_id,event,timestamp,received_at,properties\n"
    "t1,a1,u1,Signed Up,2026-06-01T10:00:00Z,2026-06-01T10:00:01Z,{}\n"
    "t2,a1,u1,Demo Requested,2026-06-02T10:00:00Z,2026-06-02T10:00:01Z,{}\n"
)


def _stamps(warehouse: DuckDBWarehouse) -> list[tuple]:
    return warehouse.query("select id, _loaded_at from raw.tracks order by id")


def test_the_same_file_again_is_left_as_it_is(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "tracks.csv").write_text(TRACKS)
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    try:
        load_dir(data, warehouse)
        stamps = _stamps(warehouse)
        again = load_dir(data, warehouse)
        assert [(x.table, x.status, x.rows) for x in again.loads if x.table == "tracks"] == [
            ("tracks", "unchanged", 2)
        ]
        assert "unchanged since its last load" in again.format_table()
        assert _stamps(warehouse) == stamps, "the rows were re-stamped"
        log = warehouse.query("select count(*), sum(rows_replaced) from raw._load_log")
        assert log == [(1, 0)], "one load of one file, nothing taken out"

        # one changed byte: the file's rows are replaced
        (data / "tracks.csv").write_text(TRACKS.replace("Signed Up", "Signed Up "))
        changed = load_dir(data, warehouse)
        assert [(x.status, x.rows, x.replaced) for x in changed.loads if x.table == "tracks"] == [
            ("loaded", 2, 2)
        ]
        # rows taken out of raw since (by hand): loaded again, not skipped
        warehouse.execute("delete from raw.tracks where id = 't1'")
        restored = load_dir(data, warehouse)
        assert [(x.status, x.rows) for x in restored.loads if x.table == "tracks"] == [
            ("loaded", 2)
        ]
        # --replace always loads
        replaced = load_dir(data, warehouse, replace=True)
        assert [x.status for x in replaced.loads if x.table == "tracks"] == ["loaded"]
    finally:
        warehouse.close()
