"""The learned lead score (audience.train) on generated snapshots with a planted relation."""

from datetime import datetime

import numpy as np
import pytest

from audience.train import (
    Feature,
    Snapshot,
    TrainError,
    calibration,
    evaluate,
    features_of,
    hand_set_lead,
    model_scores,
    project_vars,
    report,
    squash,
)

#: three scoring signals: pricing weighs in the hand-set intent score, the other two do not
SIGNALS = [
    ("page_category", "pricing", 10.0),
    ("event", "Video Watched", 0.0),
    ("page_category", "blog", 0.0),
]
FEATURES = features_of(SIGNALS)
AS_OF = datetime(2026, 6, 1)


def planted(seed: int, n: int = 4000, *, relation: bool = True) -> Snapshot:
    """Contacts whose conversion follows their video views (which the hand-set weights ignore)
    and nothing else; `relation=False`: conversion at random."""
    rng = np.random.default_rng(seed)
    raw = np.column_stack(
        [
            rng.integers(0, 101, n) / 100,  # fit
            rng.integers(0, 101, n) / 100 * (rng.random(n) < 0.2),  # third-party intent
            rng.poisson(1.0, n) * rng.random(n),  # pricing, decayed
            rng.poisson(1.5, n) * rng.random(n) * 2,  # video, decayed
            rng.poisson(3.0, n) * rng.random(n),  # blog, decayed
        ]
    )
    x = raw.copy()
    x[:, 2:] = np.log1p(raw[:, 2:])
    logit = -3.5 + 2.5 * x[:, 3] if relation else np.full(n, -2.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    handset = hand_set_lead(raw, [w for *_, w in SIGNALS], project_vars())
    return Snapshot(AS_OF, [f"c{i}" for i in range(n)], x, y, handset)


def test_features_follow_the_scoring_signals():
    assert [f.name for f in FEATURES] == [
        "fit_score",
        "third_party_intent",
        "page_category:pricing",
        "event:Video Watched",
        "page_category:blog",
    ]
    assert Feature("signal", "event", "Demo Requested").name == "event:Demo Requested"


def test_hand_set_lead_is_the_sql_formula():
    settings = project_vars()
    # fit 1, no third-party intent, 4 decayed pricing views: 40 intent points
    raw = np.array([[1.0, 0.0, 4.0, 0.0, 0.0], [0.0, 0.5, 0.0, 9.0, 0.0]])
    lead = hand_set_lead(raw, [10, 0, 0], settings)
    share = settings["lead__fit_share"]
    intent = squash(np.array([40.0, 50 * settings["intent__third_party_share"]]), 40)
    assert lead[0] == pytest.approx(round(share * 100 + (1 - share) * intent[0], 1))
    assert lead[1] == pytest.approx(round((1 - share) * intent[1], 1))
    assert intent[0] == pytest.approx(63.2)


def test_training_recovers_a_planted_relation_the_hand_set_weights_miss():
    result = evaluate(planted(1), planted(2), FEATURES, {}, 60, 30)
    assert result.current == "hand-set"
    # the hand-set weights rank by fit and pricing, which say nothing here
    assert abs(result.current_auc - 0.5) < 0.05
    assert result.auc > 0.7 > result.current_auc
    strongest = max(result.weights, key=lambda k: result.weights[k] if k != "intercept" else -9)
    assert strongest == "event:Video Watched"
    assert result.weights["event:Video Watched"] == pytest.approx(2.5, abs=0.4)
    assert result.notes == []  # better than the current weights: it may replace them


def test_calibrated_on_the_held_out_period():
    result = evaluate(planted(1), planted(2), FEATURES, {}, 60, 30)
    bands = result.calibration
    assert sum(b.contacts for b in bands) == result.holdout_contacts
    assert [b.predicted for b in bands] == sorted(b.predicted for b in bands)
    for band in bands:
        assert band.observed == pytest.approx(band.predicted, abs=0.06)
    holdout = planted(2)
    assert result.brier < float(np.mean((holdout.y - holdout.y.mean()) ** 2))


def test_a_model_worse_than_the_current_weights_is_refused():
    trained = evaluate(planted(1), planted(2), FEATURES, {}, 60, 30).weights
    # the relation is gone from the new training period: the new model learns noise
    result = evaluate(planted(3, relation=False), planted(4), FEATURES, trained, 60, 30)
    assert result.current == "trained"
    assert result.auc < result.current_auc
    assert result.notes == ["the new model does worse on the held-out period: weights kept"]
    lines = report(result)
    assert any(
        f"new model {result.auc:.3f}" in line and f"weights {result.current_auc:.3f}" in line
        for line in lines
    )


def test_one_class_is_an_error():
    nothing = planted(5, n=50)
    nothing.y[:] = 0
    with pytest.raises(TrainError, match="no AUC"):
        evaluate(planted(1), nothing, FEATURES, {}, 60, 30)
    with pytest.raises(TrainError, match="nothing to learn"):
        evaluate(nothing, planted(2), FEATURES, {}, 60, 30)


def test_model_scores_are_the_logistic_of_the_weighted_features():
    x = np.array([[1.0, 0.5, 0.0, np.log(3), 0.0]])
    weights = {"intercept": -2.0, "fit_score": 1.5, "third_party_intent": 1.0}
    weights["event:Video Watched"] = 1 / np.log(3)
    assert model_scores(weights, FEATURES, x)[0] == pytest.approx(1 / (1 + np.exp(-1.0)))
    assert calibration(np.array([0, 1]), np.array([0.2, 0.8]), bands=2)[1].observed == 1.0
