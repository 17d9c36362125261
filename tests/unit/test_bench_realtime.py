"""The realtime benchmark's pieces: the landed file, the percentiles, the printed figures."""

from __future__ import annotations

import math
from datetime import datetime

from audience.bench_realtime import (
    RealtimeResult,
    format_result,
    land_high_intent_file,
    percentile,
    to_dict,
)
from audience.loader import discover


def test_the_landed_file_is_a_file_of_table_tracks_and_lands_whole(tmp_path):
    at = datetime(2026, 12, 1, 9, 30)
    path = land_high_intent_file(tmp_path, "anon-1", at, "realtime-20261201-000")
    found, ignored = discover(tmp_path)
    assert [f.path for f in found["tracks"]] == [path]
    assert not ignored and not list(tmp_path.rglob(".*"))
    lines = path.read_text().splitlines()
    assert len(lines) == 9  # a header and 8 events
    assert "Demo Requested" in lines[1] and "anon-1" in lines[1]
    # every event happened in the last minute and a half before `at`
    assert "2026-12-01 09:28:30" in lines[1] and "2026-12-01 09:29:40" in lines[-1]


def test_nearest_rank_percentiles():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([3.0, 1.0, 2.0], 99) == 3.0
    assert math.isnan(percentile([], 50))


def test_the_figures_say_what_was_missed_and_where_the_time_went():
    result = RealtimeResult(
        people=60,
        latencies=[12.0, 14.0, 40.0],
        sensor_seconds=[0.2, 0.3, 0.2, 0.2],
        run_seconds=[11.0, 13.0, 39.0, 12.0],
        step_seconds={"dbt_models": [8.0, 9.0, 30.0, 8.5], "raw_tables": [1.0, 1.0, 2.0, 1.0]},
        assets=48,
        sensor_interval_seconds=30,
        missed=["contact-4"],
    )
    figures = to_dict(result)
    assert figures["events"] == 4 and figures["notified"] == 3
    assert figures["latency_p50_seconds"] == 14.0 and figures["latency_p99_seconds"] == 40.0
    assert figures["step_p50_seconds"] == {"dbt_models": 8.5, "raw_tables": 1.0}
    text = format_result(result)
    assert "p50 14.0s, p99 40.0s" in text
    assert "3 notified, 1 missed" in text
    assert "30s of sensor interval" in text
    assert text.index("dbt_models") < text.index("raw_tables")
