"""The learned lookalike (audience.train_lookalike) on generated candidates with a planted
relation the customer centroid cannot see."""

from datetime import datetime

import numpy as np
import pytest

from audience.train_lookalike import (
    FEATURES,
    KindOutcome,
    KindSnapshot,
    centroid_similarity,
    evaluate_kind,
    lookalike_scores,
    report_lookalikes,
)

AS_OF = datetime(2026, 6, 1)


def planted(seed: int, n: int = 3000, *, relation: bool = True) -> KindSnapshot:
    """B2B candidates whose becoming customers follows their decision-stage views and intent,
    while the customers' centroid sits at high fit and middling engagement: the centroid ranks
    by closeness to the customers of today, the outcome by something else."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, len(FEATURES)))
    logit = -3.0 + 3.0 * x[:, 3] + 1.5 * x[:, 2] - 1.0 * x[:, 0] if relation else np.full(n, -2.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    centroid = np.array([0.9, 0.5, 0.3, 0.1])
    return KindSnapshot(
        "b2b", AS_OF, [f"c{i}" for i in range(n)], x, y, centroid_similarity(x, centroid)
    )


def test_centroid_similarity_is_the_sql_formula():
    # lookalike_best_customers: 1 - sqrt(sum of squared differences) / 2
    x = np.array([[0.7, 0.5, 0.3, 0.2], [0.05, 0.0, 0.0, 0.2]])
    similarity = centroid_similarity(x, np.array([0.7, 0.5, 0.3, 0.2]))
    assert similarity[0] == pytest.approx(1.0)
    assert similarity[1] == pytest.approx(1 - np.sqrt(0.65**2 + 0.5**2 + 0.3**2) / 2)


def test_the_learned_lookalike_recovers_what_the_centroid_misses():
    result = evaluate_kind(planted(1), planted(2), {}, 60, 30)
    assert result.current == "centroid"
    assert result.auc > result.current_auc + 0.15
    assert result.weights["decision_views"] == pytest.approx(3.0, abs=0.5)
    assert result.weights["intent"] == pytest.approx(1.5, abs=0.5)
    assert result.weights["fit"] < 0
    assert result.notes == []


def test_a_lookalike_worse_than_the_trained_one_is_refused():
    trained = evaluate_kind(planted(1), planted(2), {}, 60, 30).weights
    result = evaluate_kind(planted(3, relation=False), planted(4), trained, 60, 30)
    assert result.current == "trained"
    assert result.auc < result.current_auc
    assert result.notes == [
        "the new b2b lookalike does worse on the held-out period: kept the trained"
    ]


def test_scores_are_the_logistic_of_the_weighted_features():
    weights = {"intercept": -2.0, "fit": -10.0}
    x = np.array([[0.05, 0.0, 0.0, 0.2], [0.7, 0.5, 0.3, 0.2]])
    scores = lookalike_scores(weights, x)
    # the segment's unit test: `far` at 8 %, `twin` far below
    assert round(float(scores[0]) * 100) == 8
    assert scores[1] < 0.001


def test_report_says_which_kinds_were_trained():
    result = evaluate_kind(planted(1), planted(2), {}, 60, 30)
    lines = report_lookalikes(
        [KindOutcome("b2b", result), KindOutcome("b2c", None, "no AUC to check against")]
    )
    assert lines[0].startswith("lookalike b2b: ")
    assert f"AUC new model {result.auc:.3f}" in lines[1]
    assert "current (centroid)" in lines[1]
    assert lines[-1] == "lookalike b2c: not trained (no AUC to check against)"
