"""`audience train`: learn the lead score from the warehouse's own outcomes.

As of a past instant T, which contacts became opportunities (their account's deal was created)
or customers (their first order) within the next N days? A regularized logistic regression
(scikit-learn) learns that from the features the SQL already computes, rebuilt as of T from the
built warehouse:

- the fit score (0-1; firmographics, taken as they are now),
- the account's third-party intent (0-1, the highest score observed in the 30 days before T),
- for each scoring signal of seeds/scoring_weights.csv, ln(1 + its occurrences decayed with
  the engagement half-life at T), as int_contact_signal_points computes them.

The model is fitted on TRAINING_PERIODS snapshots (`holdout_days` before T, then every N days
further back) and checked on the held-out snapshot as of T (outcomes in the N days after it),
against the current weights on the same contacts: the hand-set lead score (0.5 fit + 0.5
intent) or a previously trained model. It replaces the weights in scoring.score_weights only
when its AUC is not worse; the next build scores with them (int_contact_scores,
int_contact_signal_points) and `audience explain` shows each signal's lead points. Contacts
already at an opportunity or customer at the snapshot are left out; contacts never seen by
then too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np
import yaml

from audience.project import project_dir
from audience.warehouse import Warehouse

SCORE_WEIGHTS_DDL_MACRO = ("macros", "scoring", "score_weights_ddl.sql")
ORDER_SIGNAL = ("event", "Order Completed")
#: the L2 regularization of the logistic model (scikit-learn's C: smaller is stronger)
REGULARIZATION_C = 1.0
#: how many snapshots the model learns from (one every horizon, back from the held-out period)
TRAINING_PERIODS = 4


class TrainError(Exception):
    """The warehouse cannot give a training set (not built, too little history, one class)."""


@dataclass(frozen=True)
class Feature:
    feature_type: str  # fit_score | third_party_intent | signal
    signal_type: str | None = None
    signal: str | None = None

    @property
    def name(self) -> str:
        if self.feature_type == "signal":
            return f"{self.signal_type}:{self.signal}"
        return self.feature_type


@dataclass
class Snapshot:
    """The contacts eligible at one instant: their features, outcome and current scores."""

    as_of: datetime
    contacts: list[str]
    x: np.ndarray  # contacts x features
    y: np.ndarray  # 1 when an opportunity or a first order followed within the horizon
    handset: np.ndarray  # the hand-set lead score as of the snapshot


@dataclass
class Calibration:
    """One band of predicted probabilities and the rate observed in it."""

    predicted: float
    observed: float
    contacts: int


@dataclass
class TrainResult:
    as_of: datetime
    horizon_days: int
    holdout_days: int
    train_snapshots: list[datetime]
    train_contacts: int
    train_positives: int
    holdout_contacts: int
    holdout_positives: int
    auc: float
    current_auc: float
    current: str  # hand-set | trained
    brier: float
    calibration: list[Calibration]
    weights: dict[str, float]  # feature name (and intercept) -> coefficient
    replaced: bool = False
    model_id: str = ""
    notes: list[str] = field(default_factory=list)


# --- the settings the SQL scores with -----------------------------------------------------------


def project_vars() -> dict[str, Any]:
    data = yaml.safe_load((project_dir() / "dbt_project.yml").read_text())
    return dict(data.get("vars") or {})


def squash(points: np.ndarray, scale: float | np.ndarray) -> np.ndarray:
    """macros/behavior/squash_score.sql: 100 x (1 - e^(-max(points, 0) / scale)), to 0.1."""
    return np.round(100 * (1 - np.exp(-np.maximum(points, 0) / scale)), 1)


def hand_set_lead(
    raw: np.ndarray, intent_weights: Sequence[float], settings: dict[str, Any]
) -> np.ndarray:
    """The lead score int_contact_scores gives without a trained model, for rows of (fit 0-1,
    third-party intent 0-1, decayed occurrences of each signal): var lead__fit_share of fit,
    the rest intent (the signals' intent points and a share of third-party intent, squashed)."""
    points = raw[:, 2:] @ np.asarray(intent_weights, dtype=float) + raw[:, 1] * 100 * float(
        settings["intent__third_party_share"]
    )
    intent = squash(points, float(settings["intent__scale_points"]))
    share = float(settings["lead__fit_share"])
    return np.round(share * raw[:, 0] * 100 + (1 - share) * intent, 1)


def logistic(logit: np.ndarray) -> np.ndarray:
    """int_contact_scores' learned lead score as a probability (its log-odds clamped to
    +-30)."""
    return 1 / (1 + np.exp(-np.clip(logit, -30, 30)))


def auc(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score))


# --- the snapshots --------------------------------------------------------------------------------


def _day(value: datetime) -> str:
    return value.date().isoformat()


def last_known_day(value: datetime) -> str:
    """The last day with activity known at `value` (the day before, at midnight)."""
    return (value - timedelta(microseconds=1)).date().isoformat()


def built_as_of(warehouse: Warehouse) -> datetime:
    if not warehouse.column_names("marts", "contacts"):
        raise TrainError("the warehouse is not built: run `audience run` first")
    value = warehouse.query("select max(as_of) from marts.contacts")[0][0]
    if value is None:
        raise TrainError("the warehouse has no contacts")
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def scoring_signals(warehouse: Warehouse) -> list[tuple[str, str, float]]:
    """(signal_type, signal, intent_weight) of the scoring seed, as the build loaded it."""
    rows = warehouse.query(
        "select signal_type, signal, intent_weight from seeds.scoring_weights "
        "order by signal_type, signal"
    )
    return [(str(t), str(s), float(w)) for t, s, w in rows]


def features_of(signals: Sequence[tuple[str, str, float]]) -> list[Feature]:
    return [
        Feature("fit_score"),
        Feature("third_party_intent"),
        *(Feature("signal", t, s) for t, s, _ in signals),
    ]


def decayed_occurrences(
    warehouse: Warehouse, as_of: datetime, settings: dict[str, Any]
) -> list[tuple[str, str, str, float]]:
    """(contact_key, signal_type, signal, occurrences decayed with the engagement half-life at
    `as_of`) of the activity known at `as_of`, as int_contact_signal_points decays them."""
    half_life = float(settings["engagement__half_life_days"])
    return [
        (str(key), str(signal_type), str(signal), float(value))
        for key, signal_type, signal, value in warehouse.query(
            "select contact_key, signal_type, signal, "
            f"sum(events * power(0.5, (cast(? as date) - activity_date) / {half_life})) "
            "from intermediate.int_contact_activity_daily "
            "where activity_date <= cast(? as date) "
            "group by contact_key, signal_type, signal",
            [_day(as_of), last_known_day(as_of)],
        )
    ]


def third_party_intent(
    warehouse: Warehouse, as_of: datetime, settings: dict[str, Any]
) -> dict[str, float]:
    """company_id -> its highest third-party intent score (0-100) observed in the window
    (var intent__third_party_window_days) before `as_of`."""
    window = _day(as_of - timedelta(days=int(settings["intent__third_party_window_days"])))
    return {
        str(company): float(score or 0)
        for company, score in warehouse.query(
            "select companies.company_id, max(intent.intent_score) "
            "from staging.stg_intent__signals as intent "
            "inner join staging.stg_crm__companies as companies "
            "on intent.company_domain = companies.domain "
            "where intent.observed_at >= cast(? as date) and intent.observed_at <= ? "
            "group by companies.company_id",
            [window, as_of],
        )
    }


def signal_rows(
    decayed: Sequence[tuple[str, str, str, float]],
    signals: Sequence[tuple[str, str, float]],
    offset: int = 0,
) -> dict[str, np.ndarray]:
    """contact_key -> its decayed occurrences of each scoring signal (in the order of
    `signals`, after `offset` leading zeros) for every contact with known activity."""
    index = {(t, s): offset + i for i, (t, s, _) in enumerate(signals)}
    seen: dict[str, np.ndarray] = {}
    for key, signal_type, signal, value in decayed:
        column = index.get((signal_type, signal))
        row = seen.setdefault(key, np.zeros(offset + len(signals)))
        if column is not None:
            row[column] = value
    return seen


def snapshot(
    warehouse: Warehouse,
    as_of: datetime,
    horizon_days: int,
    signals: Sequence[tuple[str, str, float]],
    settings: dict[str, Any],
) -> Snapshot:
    """The features of every contact seen by `as_of` and not yet an opportunity or a customer,
    and whether it became one within `horizon_days` after it."""
    # the days whose activity is known at an instant: up to the day before a midnight
    known, known_end = last_known_day(as_of), last_known_day(as_of + timedelta(days=horizon_days))
    end = as_of + timedelta(days=horizon_days)
    decayed = decayed_occurrences(warehouse, as_of, settings)
    third_party = third_party_intent(warehouse, as_of, settings)
    deals = warehouse.query(
        "select company_id, "
        "min(case when created_at <= ? then 1 end), "
        "max(case when created_at > ? and created_at <= ? then 1 end) "
        "from staging.stg_crm__deals group by company_id",
        [as_of, as_of, end],
    )
    had_deal = {company for company, before, _ in deals if before}
    new_deal = {company for company, _, within in deals if within}
    orders = warehouse.query(
        "select contact_key, "
        "min(case when activity_date <= cast(? as date) then 1 end), "
        "max(case when activity_date > cast(? as date) and activity_date <= cast(? as date) "
        "then 1 end) "
        "from intermediate.int_contact_activity_daily "
        "where signal_type = ? and signal = ? group by contact_key",
        [known, known, known_end, *ORDER_SIGNAL],
    )
    ordered = {key for key, before, _ in orders if before}
    new_order = {key for key, _, within in orders if within}
    contacts = warehouse.query(
        "select profiles.contact_key, profiles.company_id, scores.fit_score "
        "from intermediate.int_contact_profiles as profiles "
        "inner join intermediate.int_contact_scores as scores "
        "on profiles.contact_key = scores.contact_key order by profiles.contact_key"
    )

    seen = signal_rows(decayed, signals, offset=2)
    keys: list[str] = []
    rows: list[np.ndarray] = []
    labels: list[int] = []
    for key, company, fit in contacts:
        if key not in seen or company in had_deal or key in ordered:
            continue
        row = seen[key].copy()
        row[0] = float(fit or 0) / 100
        row[1] = float(third_party.get(company, 0) or 0) / 100
        keys.append(key)
        rows.append(row)
        labels.append(int(company in new_deal or key in new_order))
    raw = np.array(rows) if rows else np.zeros((0, 2 + len(signals)))
    handset = hand_set_lead(raw, [w for _, _, w in signals], settings)
    x = raw.copy()
    x[:, 2:] = np.log1p(raw[:, 2:])
    return Snapshot(as_of, keys, x, np.array(labels, dtype=int), handset)


# --- the weights in the warehouse ----------------------------------------------------------------


def score_weights_ddl() -> list[str]:
    """The statements of macro score_weights_ddl with the plain types DuckDB and PostgreSQL
    take."""
    import jinja2

    template = jinja2.Environment(extensions=["jinja2.ext.do"]).from_string(
        project_dir().joinpath(*SCORE_WEIGHTS_DDL_MACRO).read_text()
    )
    text = str(template.module.score_weights_ddl("varchar", "double precision", "timestamp"))
    return [statement.strip() for statement in text.split(";") if statement.strip()]


def ensure_score_weights_table(warehouse: Warehouse) -> None:
    for statement in score_weights_ddl():
        warehouse.execute(statement)


def current_weights(warehouse: Warehouse) -> dict[str, float]:
    """The trained lead model in the warehouse (feature name -> weight, and the intercept);
    empty when the hand-set weights score."""
    rows = warehouse.query(
        "select feature_type, signal_type, signal, weight from scoring.score_weights "
        "where score = 'lead' and weight is not null"
    )
    return {
        Feature(str(t), s, g).name if t != "intercept" else "intercept": float(w)
        for t, s, g, w in rows
    }


def model_scores(weights: dict[str, float], features: Sequence[Feature], x: np.ndarray) -> Any:
    """A trained model's probabilities for the rows of x (a feature it lacks weighs 0)."""
    coefficients = np.array([weights.get(f.name, 0.0) for f in features])
    return logistic(weights.get("intercept", 0.0) + x @ coefficients)


def write_weights(
    warehouse: Warehouse, result: TrainResult, features: Sequence[Feature], model_id: str
) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    rows: list[tuple[Any, ...]] = [
        (model_id, "lead", "intercept", None, None, result.weights["intercept"])
    ]
    rows += [
        (model_id, "lead", f.feature_type, f.signal_type, f.signal, result.weights[f.name])
        for f in features
    ]
    warehouse.begin()
    try:
        warehouse.execute("delete from scoring.score_weights where score = 'lead'")
        for row in rows:
            warehouse.execute(
                "insert into scoring.score_weights (model_id, score, feature_type, signal_type, "
                "signal, weight, holdout_auc, trained_as_of, trained_at) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*row, result.auc, result.as_of, now],
            )
        warehouse.commit()
    except Exception:
        warehouse.rollback()
        raise


# --- training -----------------------------------------------------------------------------------


def calibration(y: np.ndarray, p: np.ndarray, bands: int = 5) -> list[Calibration]:
    """Observed rate against mean predicted probability, per band of equal size."""
    order = np.argsort(p, kind="stable")
    return [
        Calibration(float(p[part].mean()), float(y[part].mean()), len(part))
        for part in np.array_split(order, bands)
        if len(part)
    ]


def stack(snapshots: Sequence[Snapshot]) -> Snapshot:
    """Several training snapshots as one training set (a contact once per snapshot)."""
    return Snapshot(
        min(s.as_of for s in snapshots),
        [key for s in snapshots for key in s.contacts],
        np.vstack([s.x for s in snapshots]),
        np.concatenate([s.y for s in snapshots]),
        np.concatenate([s.handset for s in snapshots]),
    )


class TrainingSet(Protocol):
    """What a model is fitted on: rows of features, their outcomes, and the first instant."""

    as_of: datetime
    x: np.ndarray
    y: np.ndarray


class Named(Protocol):
    @property
    def name(self) -> str: ...


def fit(train: TrainingSet, features: Sequence[Named]) -> dict[str, float]:
    """The L2-regularized logistic regression of the outcome on the features: its intercept
    and one coefficient per feature (log-odds per unit)."""
    from sklearn.linear_model import LogisticRegression

    if len(set(train.y.tolist())) < 2:
        raise TrainError(
            f"the training period from {train.as_of:%Y-%m-%d} has "
            f"{int(train.y.sum())} of {len(train.y)} contacts converting: nothing to learn"
        )
    model = LogisticRegression(C=REGULARIZATION_C, max_iter=5000)
    model.fit(train.x, train.y)
    weights = {"intercept": float(model.intercept_[0])}
    weights.update({f.name: float(c) for f, c in zip(features, model.coef_[0], strict=True)})
    return weights


def held_out_result(
    train_set: TrainingSet,
    holdout: TrainingSet,
    weights: dict[str, float],
    predicted: np.ndarray,
    current: np.ndarray,
    current_name: str,
    horizon_days: int,
    holdout_days: int,
    train_snapshots: Sequence[datetime] = (),
) -> TrainResult:
    """A fitted model against the scores in place on the held-out snapshot: AUC of both,
    Brier score and calibration of the new one."""
    return TrainResult(
        as_of=holdout.as_of,
        horizon_days=horizon_days,
        holdout_days=holdout_days,
        train_snapshots=list(train_snapshots),
        train_contacts=len(train_set.y),
        train_positives=int(train_set.y.sum()),
        holdout_contacts=len(holdout.y),
        holdout_positives=int(holdout.y.sum()),
        auc=auc(holdout.y, predicted),
        current_auc=auc(holdout.y, current),
        current=current_name,
        brier=float(np.mean((predicted - holdout.y) ** 2)),
        calibration=calibration(holdout.y, predicted),
        weights=weights,
    )


def held_out_instant(warehouse: Warehouse, as_of: datetime | None, horizon_days: int) -> datetime:
    """The held-out snapshot's instant: `as_of`, by default the build's as_of less the horizon;
    its outcomes must be known by the build."""
    built = built_as_of(warehouse)
    if as_of is None:
        as_of = built - timedelta(days=horizon_days)
    if as_of + timedelta(days=horizon_days) > built:
        raise TrainError(
            f"the held-out outcomes need {horizon_days} days after {as_of:%Y-%m-%d}; "
            f"the warehouse is built as of {built:%Y-%m-%d}"
        )
    return as_of


def evaluate(
    train_set: Snapshot,
    holdout: Snapshot,
    features: Sequence[Feature],
    existing: dict[str, float],
    horizon_days: int,
    holdout_days: int,
    train_snapshots: Sequence[datetime] = (),
) -> TrainResult:
    """Fit on the training set and compare the model with the current weights (a trained
    model's, or else the hand-set lead score) on the held-out snapshot."""
    if len(set(holdout.y.tolist())) < 2:
        raise TrainError(
            f"the held-out period as of {holdout.as_of:%Y-%m-%d} has {int(holdout.y.sum())} of "
            f"{len(holdout.y)} contacts converting: no AUC to check against"
        )
    weights = fit(train_set, features)
    predicted = model_scores(weights, features, holdout.x)
    current = model_scores(existing, features, holdout.x) if existing else holdout.handset
    result = held_out_result(
        train_set,
        holdout,
        weights,
        predicted,
        current,
        "trained" if existing else "hand-set",
        horizon_days,
        holdout_days,
        train_snapshots,
    )
    if result.auc < result.current_auc:
        result.notes.append("the new model does worse on the held-out period: weights kept")
    return result


def train(
    warehouse: Warehouse,
    *,
    as_of: datetime | None = None,
    horizon_days: int = 60,
    holdout_days: int = 30,
    periods: int = TRAINING_PERIODS,
    write: bool = True,
) -> TrainResult:
    """Fit the lead model on `periods` snapshots before `as_of` (the latest `holdout_days`
    before it, then every `horizon_days` further back), check it on the snapshot as of
    `as_of`, and write its weights when it does not do worse than the current ones (and
    `write`)."""
    as_of = held_out_instant(warehouse, as_of, horizon_days)
    settings = project_vars()
    signals = scoring_signals(warehouse)
    features = features_of(signals)
    instants = [
        as_of - timedelta(days=holdout_days + k * horizon_days) for k in range(max(periods, 1))
    ]
    train_set = stack([snapshot(warehouse, at, horizon_days, signals, settings) for at in instants])
    holdout = snapshot(warehouse, as_of, horizon_days, signals, settings)
    ensure_score_weights_table(warehouse)
    existing = current_weights(warehouse)
    result = evaluate(
        train_set, holdout, features, existing, horizon_days, holdout_days, sorted(instants)
    )
    if write and not result.notes:
        result.model_id = f"lead-{as_of:%Y%m%d}-{uuid.uuid4().hex[:8]}"
        write_weights(warehouse, result, features, result.model_id)
        result.replaced = True
    return result


def report(result: TrainResult) -> list[str]:
    """The lines `audience train` prints."""
    lines = [
        "train    as of "
        + ", ".join(f"{at:%Y-%m-%d}" for at in result.train_snapshots)
        + f": {result.train_positives:,} of {result.train_contacts:,} contacts became an "
        f"opportunity or a customer within {result.horizon_days} days",
        f"holdout  as of {result.as_of:%Y-%m-%d}: {result.holdout_positives:,} of "
        f"{result.holdout_contacts:,}",
        f"AUC      new model {result.auc:.3f}   current ({result.current}) weights "
        f"{result.current_auc:.3f}",
        f"Brier    {result.brier:.4f}",
        "calibration (held-out, bands of equal size): predicted -> observed",
    ]
    lines += [
        f"  {band.predicted:6.1%} -> {band.observed:6.1%}  ({band.contacts:,} contacts)"
        for band in result.calibration
    ]
    strongest = sorted(
        ((k, v) for k, v in result.weights.items() if k != "intercept"),
        key=lambda item: -abs(item[1]),
    )[:8]
    lines.append("strongest weights (log-odds per unit):")
    lines += [f"  {name:<36} {weight:+.3f}" for name, weight in strongest]
    if result.replaced:
        lines.append(
            f"wrote {result.model_id} to scoring.score_weights: the next build scores with it"
        )
    lines += result.notes
    return lines
