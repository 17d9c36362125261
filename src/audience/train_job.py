"""The weekly training in the orchestration: `audience train` on a schedule.

Mondays 01:00 UTC, after the daily run of 00:30 and before the weekly segments run of 01:30
(audience.cadence), the `weekly_training` job fits the lead model and each kind's lookalike on
the warehouse's own history (audience.train, audience.train_lookalike) and writes the models
that do not do worse than the ones in place; the weekly run then scores every contact with
them. Its op writes the warehouse, so it takes the `warehouse` pool like every writer.

What the on-call engineer sees: the run's metadata (AUC of the new and the current model per
score, whether it was written); a model refused because it does worse is a successful run
with a warning (the weights in place keep scoring, which is the point of the check); a
warehouse that cannot be trained on (not built, no conversion in a period) fails the run with
the reason.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import dagster as dg

from audience.train import TrainError, TrainResult, report, train
from audience.train_lookalike import report_lookalikes, train_lookalikes
from audience.warehouse import Warehouse

#: Mondays 01:00 UTC: after the daily run (00:30), before the weekly segments (01:30)
TRAINING_CRON = "0 1 * * 1"


def _summary(result: TrainResult) -> dict[str, Any]:
    return {
        "auc": round(result.auc, 4),
        "current_auc": round(result.current_auc, 4),
        "current": result.current,
        "written": result.replaced,
        "model_id": result.model_id or None,
        "holdout_positives": result.holdout_positives,
        "holdout_contacts": result.holdout_contacts,
    }


def training_job(
    connect: Callable[[], AbstractContextManager[Warehouse]], pool: str
) -> tuple[dg.JobDefinition, dg.ScheduleDefinition]:
    """The `weekly_training` job and its schedule, training on the warehouse `connect` opens."""

    @dg.op(
        pool=pool,
        description="Fit the lead and lookalike models and write those not worse than the current.",
    )
    def train_scores(context: dg.OpExecutionContext) -> dict[str, Any]:
        lead: TrainResult | None = None
        failed: list[str] = []
        with connect() as warehouse:
            try:
                lead = train(warehouse)
            except TrainError as exc:
                failed.append(f"lead: {exc}")
            try:
                lookalikes = train_lookalikes(warehouse)
            except TrainError as exc:
                failed.append(f"lookalikes: {exc}")
                lookalikes = []
        for line in (report(lead) if lead else []) + report_lookalikes(lookalikes):
            context.log.info(line)
        summary: dict[str, Any] = {"lead": _summary(lead) if lead else {"written": False}}
        refused = [] if lead is None or lead.replaced else ["lead"]
        for outcome in lookalikes:
            key = f"lookalike_{outcome.kind}"
            if outcome.result is None:
                summary[key] = {"written": False, "reason": outcome.error}
                context.log.warning(f"{key} not trained: {outcome.error}")
                continue
            summary[key] = _summary(outcome.result)
            if not outcome.result.replaced:
                refused.append(key)
        for name in refused:
            context.log.warning(
                f"{name}: the new model does worse on the held-out period than the one in "
                "place, which keeps scoring"
            )
        if failed:
            raise dg.Failure(
                description="audience train: " + "; ".join(failed),
                metadata={"models": dg.MetadataValue.json(summary)},
                allow_retries=False,
            )
        context.add_output_metadata({"models": dg.MetadataValue.json(summary)})
        return summary

    @dg.job(
        name="weekly_training",
        description="Learn the lead score and the lookalikes from the warehouse's own outcomes.",
    )
    def weekly_training() -> None:
        train_scores()

    schedule = dg.ScheduleDefinition(
        name="weekly_training_schedule",
        job=weekly_training,
        cron_schedule=TRAINING_CRON,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="audience train, Mondays 01:00 UTC, before the weekly segments run.",
    )
    return weekly_training, schedule
