"""Segment cadence in the orchestration: the cadences a run recomputes, the weekly schedule."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from audience.cadence import CADENCES_TAG, build_vars, cadences_for, weekly_schedule


def test_runs_recompute_realtime_and_daily_unless_tagged():
    assert cadences_for({}) == ["realtime", "daily"]
    assert cadences_for({CADENCES_TAG: "realtime,daily,weekly"}) == ["realtime", "daily", "weekly"]
    assert build_vars("2026-06-30 00:00:00", {}) == {
        "as_of": "2026-06-30 00:00:00",
        "segments__cadences": ["realtime", "daily"],
    }


@pytest.mark.parametrize("tag", ["monthly", "daily,hourly", " , "])
def test_an_unknown_cadence_fails_the_run(tag):
    with pytest.raises(dg.Failure, match="list cadences among realtime, daily, weekly"):
        cadences_for({CADENCES_TAG: tag})


def test_the_weekly_schedule_builds_sunday_with_every_cadence():
    @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2026-01-01"))
    def something() -> None: ...

    job = dg.define_asset_job("daily_refresh", selection=[something])
    schedule = weekly_schedule(job)
    assert schedule.cron_schedule == "30 1 * * 1"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    defs = dg.Definitions(assets=[something], jobs=[job], schedules=[schedule])
    monday = datetime(2026, 7, 6, 1, 30, tzinfo=UTC)
    context = dg.build_schedule_context(
        scheduled_execution_time=monday, repository_def=defs.get_repository_def()
    )
    request = schedule.evaluate_tick(context)
    (run,) = request.run_requests or []
    assert run.partition_key == "2026-07-05"  # built as of Monday 00:00
    assert run.tags[CADENCES_TAG] == "realtime,daily,weekly"
    assert run.run_key == "weekly-2026-07-05"
