"""Segment cadence in the orchestration: which segments a run recomputes.

A segment's YAML says `cadence: realtime | daily | weekly`. The dbt var `segments__cadences`
lists the cadences a build recomputes; the membership of the other segments is carried
forward from the build before (models/marts/segment_membership.sql). Daily and realtime runs
recompute realtime and daily segments; the weekly schedule starts the daily job for the day
that ended at the week's boundary (Monday 00:00 UTC) with all three, so a weekly segment
changes once a week and the daily builds in between keep its membership.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dagster as dg

#: run tag: the cadences a run recomputes, comma-separated (default: realtime,daily)
CADENCES_TAG = "audience/cadences"
CADENCES = ("realtime", "daily", "weekly")
DAILY_CADENCES = ("realtime", "daily")
#: the weekly run: Mondays 01:30 UTC, after the daily run of the same day at 00:30
WEEKLY_CRON = "30 1 * * 1"


def cadences_for(tags: Mapping[str, str]) -> list[str]:
    """The cadences a run recomputes: its tag, else realtime and daily. An unknown cadence
    in the tag is an error, never silently a smaller build."""
    tagged = tags.get(CADENCES_TAG)
    if tagged is None:
        return list(DAILY_CADENCES)
    cadences = [value.strip() for value in tagged.split(",") if value.strip()]
    unknown = sorted(set(cadences) - set(CADENCES))
    if unknown or not cadences:
        raise dg.Failure(
            f"run tag {CADENCES_TAG}={tagged!r}: list cadences among {', '.join(CADENCES)}",
            allow_retries=False,
        )
    return cadences


def build_vars(as_of: str, tags: Mapping[str, str]) -> dict[str, Any]:
    """The dbt vars of a run's build: its as_of and the cadences it recomputes."""
    return {"as_of": as_of, "segments__cadences": cadences_for(tags)}


def weekly_schedule(job: Any) -> dg.ScheduleDefinition:
    """Mondays 01:30 UTC: the daily job for Sunday (built as of Monday 00:00) with every
    cadence, weekly included. It sets the membership at the same instant the daily run of
    00:30 built (a rerun of that instant), so the weekly segments change there."""

    @dg.schedule(
        name="weekly_segments_schedule",
        job=job,
        cron_schedule=WEEKLY_CRON,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Recompute the weekly segments (and everything else) as of Monday 00:00 UTC.",
    )
    def weekly_segments_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        scheduled = context.scheduled_execution_time
        day = (scheduled - timedelta(days=1)).strftime("%Y-%m-%d")
        return dg.RunRequest(
            run_key=f"weekly-{day}",
            partition_key=day,
            tags={CADENCES_TAG: ",".join(CADENCES)},
        )

    return weekly_segments_schedule
