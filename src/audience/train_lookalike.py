"""`audience train`, the lookalikes: learn who looks like the customers of each kind.

lookalike_best_customers compares every non-customer with the customers of its own kind (B2B:
contacts of an account; B2C: identified shoppers without one) on four features, each 0-1: fit,
engagement, intent and decision-stage page views in the last 14 days. Without a trained model
the ideal is the kind's customer centroid. Here a regularized logistic model per kind learns,
from the warehouse's own history, which of those features foretell becoming such a customer
(B2B: a first deal for the account, the opportunity the pipeline sees, since won deals are too
few to learn from; B2C: a first order) within the horizon, rebuilt as of past
instants exactly as the build computes them:

- fit: the fit score now (firmographics are taken as they are);
- engagement and intent: the seeds' points of the activity known at the instant, decayed with
  the engagement half-life and squashed as int_contact_scores does (intent with the account's
  third-party intent);
- decision views: page views of var features__decision_page_categories in the 14 days before,
  at most 10, over 10.

Like the lead model it is fitted on snapshots before the held-out one, checked there against
what scores now (the centroid's similarity, or a trained model), and written to
scoring.score_weights (score lookalike_b2b / lookalike_b2c) only when its AUC is not worse.
The segment then admits as many contacts of the kind as the centroid does, the likeliest first.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from audience.train import (
    TRAINING_PERIODS,
    TrainError,
    TrainResult,
    decayed_occurrences,
    ensure_score_weights_table,
    fit,
    held_out_instant,
    held_out_result,
    last_known_day,
    logistic,
    project_vars,
    signal_rows,
    squash,
    third_party_intent,
)
from audience.warehouse import Warehouse

KINDS = ("b2b", "b2c")
#: what a candidate of each kind does to count as converted
OUTCOMES = {"b2b": "got a first deal", "b2c": "placed a first order"}
#: the features of lookalike_best_customers, in its order (the names of their weight rows)
FEATURES = ("fit", "engagement", "intent", "decision_views")
DECISION_DAYS = 14
DECISION_CAP = 10


@dataclass(frozen=True)
class _Name:
    """A feature as train.fit names its coefficient."""

    name: str


@dataclass
class KindSnapshot:
    """The candidates of one customer kind at an instant: their four features, whether they
    became a customer of the kind within the horizon, and their similarity to the centroid of
    the kind's customers at that instant."""

    kind: str
    as_of: datetime
    contacts: list[str]
    x: np.ndarray  # contacts x FEATURES
    y: np.ndarray
    similarity: np.ndarray


def scoring_weights(warehouse: Warehouse) -> list[tuple[str, str, float, float]]:
    """(signal_type, signal, engagement weight, intent weight) of the scoring seed."""
    rows = warehouse.query(
        "select signal_type, signal, weight, intent_weight from seeds.scoring_weights "
        "order by signal_type, signal"
    )
    return [(str(t), str(s), float(w), float(i)) for t, s, w, i in rows]


def centroid_similarity(x: np.ndarray, centroid: np.ndarray) -> np.ndarray:
    """lookalike_best_customers: 1 minus half the Euclidean distance to the centroid."""
    return 1 - np.sqrt(((x - centroid) ** 2).sum(axis=1)) / 2


def kind_snapshots(
    warehouse: Warehouse,
    as_of: datetime,
    horizon_days: int,
    weights: Sequence[tuple[str, str, float, float]],
    settings: dict[str, Any],
) -> dict[str, KindSnapshot]:
    """Every customer kind's candidates at `as_of` (B2B: contacts with some fit of accounts
    with no deal yet; B2C: identified shoppers with no order yet), their features, outcome
    and similarity to the centroid of the kind's customers then (B2B: of accounts with a won
    deal; B2C: shoppers with an order)."""
    known, known_end = last_known_day(as_of), last_known_day(as_of + timedelta(days=horizon_days))
    end = as_of + timedelta(days=horizon_days)
    signals = [(t, s, 0.0) for t, s, _, _ in weights]
    occurrences = signal_rows(decayed_occurrences(warehouse, as_of, settings), signals)
    third_party = third_party_intent(warehouse, as_of, settings)
    engagement_weights = np.array([w for _, _, w, _ in weights])
    intent_weights = np.array([i for _, _, _, i in weights])
    decision_categories = [str(c) for c in settings["features__decision_page_categories"]]
    recent = dict(
        warehouse.query(
            "select contact_key, sum(events) from intermediate.int_contact_activity_daily "
            "where signal_type = 'page_category' and signal in "
            f"({', '.join('?' for _ in decision_categories)}) "
            "and activity_date >= cast(? as date) and activity_date <= cast(? as date) "
            "group by contact_key",
            [
                *decision_categories,
                (as_of - timedelta(days=DECISION_DAYS)).date().isoformat(),
                known,
            ],
        )
    )
    deals = warehouse.query(
        "select company_id, "
        "max(case when is_won and closed_at <= ? then 1 end), "
        "min(case when created_at <= ? then 1 end), "
        "max(case when created_at > ? and created_at <= ? then 1 end) "
        "from staging.stg_crm__deals group by company_id",
        [as_of, as_of, as_of, end],
    )
    customer_accounts = {company for company, won, _, _ in deals if won}
    in_pipeline = {company for company, _, before, _ in deals if before}
    new_deal = {company for company, _, before, within in deals if within and not before}
    orders = warehouse.query(
        "select contact_key, "
        "min(case when activity_date <= cast(? as date) then 1 end), "
        "max(case when activity_date > cast(? as date) and activity_date <= cast(? as date) "
        "then 1 end) "
        "from intermediate.int_contact_activity_daily "
        "where signal_type = 'event' and signal = 'Order Completed' group by contact_key",
        [known, known, known_end],
    )
    ordered = {key for key, before, _ in orders if before}
    first_order = {key for key, before, within in orders if within and not before}
    contacts = warehouse.query(
        "select profiles.contact_key, profiles.company_id, profiles.is_identified, "
        "scores.fit_score "
        "from intermediate.int_contact_profiles as profiles "
        "inner join intermediate.int_contact_scores as scores "
        "on profiles.contact_key = scores.contact_key order by profiles.contact_key"
    )
    share = float(settings["intent__third_party_share"])
    scales = np.array([_scale(settings, "engagement"), _scale(settings, "intent")])
    rows: dict[str, list[tuple[str, np.ndarray, bool, int]]] = {kind: [] for kind in KINDS}
    for key, company, identified, fit_score in contacts:
        decayed = occurrences.get(key, np.zeros(len(weights)))
        points = np.array(
            [
                decayed @ engagement_weights,
                decayed @ intent_weights + third_party.get(company, 0.0) * share,
            ]
        )
        engagement, intent = squash(points, scales)
        point = np.array(
            [
                float(fit_score or 0) / 100,
                float(engagement) / 100,
                float(intent) / 100,
                min(float(recent.get(key, 0) or 0), DECISION_CAP) / DECISION_CAP,
            ]
        )
        if company is not None:
            customer = company in customer_accounts
            if customer or company not in in_pipeline:
                rows["b2b"].append((key, point, customer, int(company in new_deal)))
        else:
            customer = key in ordered
            candidate = customer or bool(identified)
            if candidate:
                rows["b2c"].append((key, point, customer, int(key in first_order)))
    snapshots: dict[str, KindSnapshot] = {}
    for kind, kind_rows in rows.items():
        customers = [point for _, point, customer, _ in kind_rows if customer]
        candidates = [
            (key, point, outcome)
            for key, point, customer, outcome in kind_rows
            if not customer and (kind == "b2c" or point[0] > 0)
        ]
        x = np.array([p for _, p, _ in candidates]) if candidates else np.zeros((0, 4))
        centroid = np.mean(customers, axis=0) if customers else None
        snapshots[kind] = KindSnapshot(
            kind=kind,
            as_of=as_of,
            contacts=[key for key, _, _ in candidates],
            x=x,
            y=np.array([o for _, _, o in candidates], dtype=int),
            similarity=(
                centroid_similarity(x, centroid) if centroid is not None else np.zeros(len(x))
            ),
        )
    return snapshots


def _scale(settings: dict[str, Any], score: str) -> float:
    return float(settings[f"{score}__scale_points"])


def current_lookalike(warehouse: Warehouse, kind: str) -> dict[str, float]:
    """The trained lookalike model of a kind in the warehouse (feature -> weight, with the
    intercept); empty when the centroid decides."""
    rows = warehouse.query(
        "select feature_type, weight from scoring.score_weights "
        "where score = ? and weight is not null",
        [f"lookalike_{kind}"],
    )
    return {str(feature): float(weight) for feature, weight in rows}


def lookalike_scores(weights: dict[str, float], x: np.ndarray) -> Any:
    """A trained lookalike model's probabilities, as lookalike_best_customers computes them."""
    coefficients = np.array([weights.get(name, 0.0) for name in FEATURES])
    return logistic(weights.get("intercept", 0.0) + x @ coefficients)


def _stack(snapshots: Sequence[KindSnapshot]) -> KindSnapshot:
    return KindSnapshot(
        snapshots[0].kind,
        min(s.as_of for s in snapshots),
        [key for s in snapshots for key in s.contacts],
        np.vstack([s.x for s in snapshots]),
        np.concatenate([s.y for s in snapshots]),
        np.concatenate([s.similarity for s in snapshots]),
    )


def evaluate_kind(
    train_set: KindSnapshot,
    holdout: KindSnapshot,
    existing: dict[str, float],
    horizon_days: int,
    holdout_days: int,
    train_snapshots: Sequence[datetime] = (),
) -> TrainResult:
    """Fit one kind's model and compare it on the held-out snapshot with what scores now (the
    centroid's similarity, or the kind's trained model)."""
    if len(set(holdout.y.tolist())) < 2:
        raise TrainError(
            f"the held-out period as of {holdout.as_of:%Y-%m-%d} has {int(holdout.y.sum())} of "
            f"{len(holdout.y)} {holdout.kind} candidates converting: no AUC to check "
            "against"
        )
    features = [_Name(name) for name in FEATURES]
    weights = fit(train_set, features)
    predicted = lookalike_scores(weights, holdout.x)
    current = lookalike_scores(existing, holdout.x) if existing else holdout.similarity
    result = held_out_result(
        train_set,
        holdout,
        weights,
        predicted,
        current,
        "trained" if existing else "centroid",
        horizon_days,
        holdout_days,
        train_snapshots,
    )
    if result.auc < result.current_auc:
        result.notes.append(
            f"the new {holdout.kind} lookalike does worse on the held-out period: kept the "
            f"{result.current}"
        )
    return result


def write_lookalike(warehouse: Warehouse, kind: str, result: TrainResult, model_id: str) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    score = f"lookalike_{kind}"
    warehouse.begin()
    try:
        warehouse.execute("delete from scoring.score_weights where score = ?", [score])
        for feature in ("intercept", *FEATURES):
            warehouse.execute(
                "insert into scoring.score_weights (model_id, score, feature_type, signal_type, "
                "signal, weight, holdout_auc, trained_as_of, trained_at) "
                "values (?, ?, ?, null, null, ?, ?, ?, ?)",
                [model_id, score, feature, result.weights[feature], result.auc, result.as_of, now],
            )
        warehouse.commit()
    except Exception:
        warehouse.rollback()
        raise


@dataclass
class KindOutcome:
    """One kind's training: its result, or why there was nothing to train."""

    kind: str
    result: TrainResult | None
    error: str = ""


def train_lookalikes(
    warehouse: Warehouse,
    *,
    as_of: datetime | None = None,
    horizon_days: int = 60,
    holdout_days: int = 30,
    periods: int = TRAINING_PERIODS,
    write: bool = True,
) -> list[KindOutcome]:
    """Fit each kind's lookalike model on `periods` snapshots before `as_of` (as `train` does
    for the lead model) and write it when it is not worse than what scores that kind now. A
    kind without enough history to learn from keeps what it has (the outcome says why)."""
    as_of = held_out_instant(warehouse, as_of, horizon_days)
    settings = project_vars()
    weights = scoring_weights(warehouse)
    instants = sorted(
        as_of - timedelta(days=holdout_days + k * horizon_days) for k in range(max(periods, 1))
    )
    training = [kind_snapshots(warehouse, at, horizon_days, weights, settings) for at in instants]
    held_out = kind_snapshots(warehouse, as_of, horizon_days, weights, settings)
    ensure_score_weights_table(warehouse)
    outcomes: list[KindOutcome] = []
    for kind in KINDS:
        try:
            result = evaluate_kind(
                _stack([snapshots[kind] for snapshots in training]),
                held_out[kind],
                current_lookalike(warehouse, kind),
                horizon_days,
                holdout_days,
                instants,
            )
        except TrainError as exc:
            outcomes.append(KindOutcome(kind, None, str(exc)))
            continue
        if write and not result.notes:
            result.model_id = f"lookalike-{kind}-{as_of:%Y%m%d}-{uuid.uuid4().hex[:8]}"
            write_lookalike(warehouse, kind, result, result.model_id)
            result.replaced = True
        outcomes.append(KindOutcome(kind, result))
    return outcomes


def report_lookalikes(outcomes: Sequence[KindOutcome]) -> list[str]:
    """The lines `audience train` prints for the lookalike models."""
    lines: list[str] = []
    for outcome in outcomes:
        result = outcome.result
        if result is None:
            lines.append(f"lookalike {outcome.kind}: not trained ({outcome.error})")
            continue
        lines += [
            f"lookalike {outcome.kind}: {result.train_positives:,} of {result.train_contacts:,} "
            f"candidates {OUTCOMES[outcome.kind]} within {result.horizon_days} days (training), "
            f"{result.holdout_positives:,} of {result.holdout_contacts:,} held out",
            f"  AUC new model {result.auc:.3f}   current ({result.current}) "
            f"{result.current_auc:.3f}   Brier {result.brier:.4f}",
            "  weights (log-odds per unit): "
            + ", ".join(f"{name} {result.weights[name]:+.3f}" for name in ("intercept", *FEATURES)),
        ]
        if result.replaced:
            lines.append(
                f"  wrote {result.model_id}: lookalike_best_customers ranks {outcome.kind} "
                "candidates with it"
            )
        lines += [f"  {note}" for note in result.notes]
    return lines
