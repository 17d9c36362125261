"""The benchmark's own pieces: size parsing, the arrival split, the baseline, the report."""

from __future__ import annotations

import json

import duckdb
import pytest

from audience import bench
from audience.generator import generate


def test_parse_size():
    assert bench.parse_size("1M") == 1_000_000
    assert bench.parse_size("2.5m") == 2_500_000
    assert bench.parse_size("500k") == 500_000
    assert bench.parse_size("10_000_000") == 10_000_000
    with pytest.raises(ValueError, match="not an event count"):
        bench.parse_size("lots")
    with pytest.raises(ValueError, match="at least 10k"):
        bench.parse_size("5k")


def test_split_by_arrival_keeps_every_row_and_puts_the_latest_share_aside(tmp_path):
    generate(tmp_path / "data", people=60, seed=3)
    split_at, total, new = bench.split_by_arrival(
        tmp_path / "data", tmp_path / "history", tmp_path / "new", 0.05
    )
    con = duckdb.connect()
    for path in (tmp_path / "data").glob("*.parquet"):
        rows = con.execute(f"select count(*) from '{path}'").fetchone()[0]
        history = con.execute(f"select count(*) from '{tmp_path / 'history' / path.name}'")
        kept = history.fetchone()[0]
        if path.stem in bench.EVENT_TABLES:
            later = con.execute(f"select count(*) from '{tmp_path / 'new' / path.name}'")
            kept += later.fetchone()[0]
        assert kept == rows, path.name
    pages = tmp_path / "history" / "pages.parquet"
    newest_history = con.execute(
        f"select max(try_cast(received_at as timestamptz)) from '{pages}'"
    ).fetchone()[0]
    con.close()
    assert 0.04 * total <= new <= 0.06 * total
    assert str(newest_history.replace(tzinfo=None)) < split_at


def test_baseline_counts_every_event_once():
    con = duckdb.connect()
    con.execute("create schema raw")
    for table in bench.EVENT_TABLES:
        who = "email" if table == "email_events" else "user_id, anonymous_id"
        con.execute(
            f"create table raw.{table} ({who}, timestamp) as select * from (values "
            + (
                "('A@x.com ', '2026-06-01T00:00:00Z'), ('a@x.com', 'bad'))"
                if table == "email_events"
                else "('u1', 'd1', '2026-06-02T00:00:00Z'), (null, 'd2', '2026-06-03'))"
            )
        )
    rows = con.execute(f"select person, events from ({bench.baseline_query(con)}) order by 1")
    assert rows.fetchall() == [("a@x.com", 2), ("d2", 3), ("u1", 3)]


def test_report_has_every_figure(tmp_path):
    result = bench.SizeResult(
        events_requested=1_000_000, people=11_765, events=1_000_100, new_events=10_001,
        split_at="2026-06-29 18:00:00",
        seconds={"generate": 3.0, "split": 1.0, "load": 2.0, "full_build": 80.0,
                 "snapshots": 2.0, "checks": 6.0, "load_new": 0.5,
                 "incremental_build": 10.0, "incremental_snapshots": 1.0, "baseline": 0.8},
        peak_rss_mb=3072.0, step_rss_mb={"generate": 3072.0, "full_build": 2048.0,
                                         "incremental_build": 1024.0},
        slowest_models=[("base_segment__pages", 12.5)], models_built=95,
    )  # fmt: skip
    assert result.incremental_share == pytest.approx(0.125)
    assert result.baseline_ratio == pytest.approx(100.0)
    text = bench.format_table([result])
    assert "1,000,100" in text and "12.5%" in text and "100.0x" in text
    assert result.build_rss_mb == 2048.0  # the builds' peak, not the generator's
    assert "base_segment__pages" in text and "2.00GB" in text and "3.00GB" in text
    assert "peak RSS per step (GB): generate 3.00, full_build 2.00" in text
    path = bench.write_results([result], tmp_path, "2026-11-29T10:00:00")
    data = json.loads(path.read_text())
    assert data["machine"]["cpus"] >= 1
    assert data["sizes"][0]["incremental_share"] == 0.125
    assert data["sizes"][0]["full_build_to_baseline"] == 100.0
    text = (tmp_path / "results.txt").read_text()
    assert text.startswith("audience bench, started 2026-11-29T10:00:00\nmachine: ")
    assert "1,000,100" in text


def test_peak_memory_is_kept_per_step():
    memory = bench.PeakMemory()
    try:
        with memory.step("small"):
            pass
        with memory.step("large"):
            block = bytearray(200 * 1024 * 1024)
            block[::4096] = b"x" * len(block[::4096])  # touch every page
            import time

            time.sleep(0.3)
            del block
    finally:
        memory.stop()
    assert memory.peaks["large"] >= memory.peaks["small"] + 150


def test_the_sync_benchmark_delivers_every_membership_through_the_gate(tmp_path):
    from audience import bench_sync

    steps = bench_sync.run(2_000, tmp_path)
    # the first sync sends all, an unchanged export nothing, 1 % changed sends 10 + 10
    assert [(s.name, s.records) for s in steps] == [
        ("full first sync", 2_000),
        ("nothing changed", 0),
        ("1% changed", 20),
    ]
    assert json.loads(bench_sync.to_json(2_000, steps))["memberships"] == 2_000
