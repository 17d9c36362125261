"""End to end on generated demo data, checked against the generator's own ground truth."""

from __future__ import annotations

import pytest
from warehouses import STAGED_TABLES, BuiltWarehouse, assert_no_raw_row_lost, nonzero

pytestmark = pytest.mark.slow


def test_quarantine_holds_exactly_the_injected_bad_rows(generated_warehouse):
    found: dict[str, dict[str, int]] = {}
    for table, reason, rows in generated_warehouse.query(
        "select source_table, quarantine_reason, count(*) from marts.quarantine group by 1, 2"
    ):
        found.setdefault(table, {})[reason] = rows
    expected = nonzero(generated_warehouse.manifest["bad_rows"])
    assert found == expected
    assert sum(sum(r.values()) for r in expected.values()) > 100


def test_every_raw_row_is_staged_or_quarantined(generated_warehouse):
    assert_no_raw_row_lost(generated_warehouse)
    for table in STAGED_TABLES:
        raw = generated_warehouse.scalar(f"select count(*) from raw.{table}")
        assert raw == generated_warehouse.manifest["rows"][table], table


def test_every_event_known_by_as_of_reaches_the_unified_model(generated_warehouse):
    as_of = "timestamp '2026-06-30 00:00:00'"
    known = generated_warehouse.scalar(
        f"""
        select
            (select count(*) from staging.stg_segment__pages
                where occurred_at <= {as_of} and received_at <= {as_of})
            + (select count(*) from staging.stg_segment__tracks
                where occurred_at <= {as_of} and received_at <= {as_of})
            + (select count(*) from staging.stg_esp__email_events where occurred_at <= {as_of})
        """
    )
    unified = generated_warehouse.scalar("select count(*) from intermediate.int_events_unified")
    assert unified == known
    # late-arriving events exist in the demo data and are left out until they arrive
    late = generated_warehouse.scalar(
        "select count(*) from staging.stg_segment__pages "
        f"where occurred_at <= {as_of} and received_at > {as_of}"
    )
    assert late >= 0


def test_planted_unmapped_event_names_flow_through_and_are_reported(generated_warehouse):
    as_of = "timestamp '2026-06-30 00:00:00'"
    kept = generated_warehouse.manifest["kept_rows"]
    for table, model in (
        ("tracks", "stg_segment__tracks"),
        ("email_events", "stg_esp__email_events"),
    ):
        staged, known = generated_warehouse.query(
            f"""
            select count(*), sum(case when received_at <= {as_of} then 1 else 0 end)
            from staging.{model} where is_unmapped_event
            """
        )[0]
        assert staged == kept[table]["unmapped_event"] > 0, table
        reported = generated_warehouse.scalar(
            f"select sum(events) from marts.report_unmapped_events where source_table = '{table}'"
        )
        assert reported == known, table
    names = {
        row[0]
        for row in generated_warehouse.query("select event_name from marts.report_unmapped_events")
    }
    # the names the generator plants ("Test Event 123", "__heartbeat", "opened?", ...), normalized
    planted = {"xyz_debug", "test_event_123", "heartbeat", "tmp_qa_click"}
    planted |= {"bounced_twice", "test_event", "opened?", "group_resubscribe_v0"}
    assert names <= planted and len(names) >= 4
    assert (
        generated_warehouse.scalar(
            "select count(*) from marts.contact_score_signals "
            "where signal in (select event_name from marts.report_unmapped_events)"
        )
        == 0
    )


def test_rows_left_out_after_as_of_are_reported_and_summarized(generated_warehouse):
    """report_arrivals counts, per stream, the staged rows the build left out; the ESP events
    the generator dated in 2099 are kept (taken as received when they happen) and left out."""
    as_of = "timestamp '2026-06-30 00:00:00'"
    report = {
        row[0]: row[1:]
        for row in generated_warehouse.query(
            "select source_table, rows_staged, rows_counted, rows_arrived_after_as_of, "
            "rows_happened_after_as_of from marts.report_arrivals"
        )
    }
    models = {
        "pages": "stg_segment__pages",
        "tracks": "stg_segment__tracks",
        "identifies": "stg_segment__identifies",
        "email_events": "stg_esp__email_events",
    }
    assert set(report) == set(models)
    for table, model in models.items():
        expected = generated_warehouse.query(
            f"""
            select
                count(*),
                sum(case when occurred_at <= {as_of} and received_at <= {as_of} then 1 else 0 end),
                sum(case when occurred_at <= {as_of} and received_at > {as_of} then 1 else 0 end),
                sum(case when occurred_at > {as_of} then 1 else 0 end)
            from staging.{model}
            """
        )[0]
        assert report[table] == expected, table
    dated_ahead = generated_warehouse.manifest["kept_rows"]["email_events"]["dated_after_as_of"]
    assert report["email_events"][3] == dated_ahead > 0
    assert report["pages"][2] + report["tracks"][2] > 0  # late arrivals exist in demo data

    from audience.summary import collect
    from audience.warehouse import DuckDBWarehouse

    warehouse = DuckDBWarehouse(generated_warehouse.path)
    try:
        summary = collect(warehouse, as_of="2026-06-30 00:00:00")
    finally:
        warehouse.close()
    assert summary.left_out == {
        table: {"arrived_after_as_of": counts[2], "happened_after_as_of": counts[3]}
        for table, counts in report.items()
    }
    text = summary.format_text()
    assert f"left out as of 2026-06-30 00:00:00: {summary.left_out_rows:,} staged rows" in text
    assert f"happened after it {dated_ahead:,}" in text


@pytest.fixture(scope="module")
def truth_resolution(generated_warehouse):
    """Each ground-truth identifier with the contact the warehouse gave it."""
    truth = generated_warehouse.data_dir / "_truth" / "identifiers.csv"
    return generated_warehouse.query(
        f"""
        select truth.person_id, truth.person_kind, truth.identifier_type, truth.identifier,
            identity_map.contact_key
        from read_csv('{truth}', all_varchar = true) as truth
        left join marts.identity_map
            on identity_map.identifier_type = truth.identifier_type
            and identity_map.identifier = case
                when truth.identifier_type = 'email' then lower(trim(truth.identifier))
                else truth.identifier
            end
        """
    )


def test_every_true_identifier_is_resolved(truth_resolution):
    missing = [row for row in truth_resolution if row[4] is None]
    assert missing == []
    assert len(truth_resolution) > 1000


def test_no_contact_mixes_two_people(truth_resolution):
    people_by_contact: dict[str, set[str]] = {}
    for person_id, _, _, _, contact_key in truth_resolution:
        people_by_contact.setdefault(contact_key, set()).add(person_id)
    mixed = {k: v for k, v in people_by_contact.items() if len(v) > 1}
    assert mixed == {}


def test_every_identified_person_is_one_contact(truth_resolution):
    contacts_by_person: dict[str, set[str]] = {}
    kinds: dict[str, str] = {}
    for person_id, kind, _, _, contact_key in truth_resolution:
        contacts_by_person.setdefault(person_id, set()).add(contact_key)
        kinds[person_id] = kind
    split = {p: c for p, c in contacts_by_person.items() if len(c) > 1}
    # only people who never identified themselves may stay split, one contact per device
    assert {kinds[p] for p in split} <= {"anonymous"}
    assert sum(1 for k in kinds.values() if k in {"b2b", "b2c"}) > 300
    # the merges the generator planted are all found
    merged_variants = [
        p for p, c in contacts_by_person.items() if kinds[p] == "b2b" and len(c) == 1
    ]
    assert len(merged_variants) == sum(1 for k in kinds.values() if k == "b2b")


def test_contacts_report_their_merged_duplicates(generated_warehouse):
    rows = generated_warehouse.query(
        "select count(*), sum(case when crm_contact_count > 1 then 1 else 0 end), "
        "sum(case when email_count > 1 then 1 else 0 end) from marts.contacts"
    )[0]
    contacts, crm_duplicates, email_variants = rows
    assert crm_duplicates > 0 and email_variants > 0
    assert contacts == generated_warehouse.scalar(
        "select count(distinct contact_key) from marts.identity_map"
    )


def test_email_suppression_follows_what_the_esp_says(generated_warehouse):
    """Hard bounces, unsubscribes and complaints close the channel; the demo's single soft
    bounces and blocks do not; every suppressed contact has the events behind its reason."""
    reasons = dict(
        generated_warehouse.query(
            "select email_suppression_reason, count(*) from marts.contacts "
            "where is_email_suppressed group by 1"
        )
    )
    assert reasons.get("hard_bounce", 0) > 0 and reasons.get("unsubscribed", 0) > 0
    assert set(reasons) <= {
        "spam_complaint",
        "unsubscribed",
        "hard_bounce",
        "dropped_spam_reporting_address",
        "dropped_unsubscribed_address",
        "dropped_bounced_address",
        "repeated_soft_bounces",
    }
    soft_but_open = generated_warehouse.scalar(
        """
        select count(distinct events.contact_key)
        from intermediate.int_email_suppression_events as events
        inner join marts.contacts on events.contact_key = contacts.contact_key
        where events.bounce_type in ('soft', 'block') and not contacts.is_email_suppressed
        """
    )
    assert soft_but_open > 0
    mismatched = generated_warehouse.scalar(
        """
        select count(*)
        from marts.contacts as c
        full outer join intermediate.int_contact_email_suppression as s
            on c.contact_key = s.contact_key
        where c.email_suppression_reason is distinct from s.email_suppression_reason
        """
    )
    assert mismatched == 0


# --- the learned lead score (audience train) -----------------------------------------------------

#: the generator's planted relation: in the weeks before its deal, an account's people read
#: decision-stage pages (pricing, comparisons, security, the ROI tool, the demo page) far more
#: and the blog and careers pages less, and a recent deal's account shows third-party intent
DECISION_PAGES = ("pricing", "comparison", "security", "roi_tool", "demo_request")
OTHER_PAGES = ("blog", "careers")
SCORES_AND_EXPLAIN = [
    "stg_scoring__score_weights",
    "stg_scoring__lookalike_weights",
    "int_contact_signal_points",
    "int_contact_scores",
    "contact_score_signals",
    "contacts",
    "lookalike_best_customers",
]


def test_training_recovers_the_planted_relation(generated_warehouse, trained_copy):
    _, result, _ = trained_copy  # trained on a copy: the shared warehouse keeps no weights
    assert generated_warehouse.scalar("select count(*) from scoring.score_weights") == 0
    assert result.current == "hand-set" and result.replaced
    assert result.holdout_positives >= 10 and result.train_positives >= 30
    # held out: the learned model ranks the contacts that converted above the hand-set weights
    assert result.auc > result.current_auc + 0.1
    weights = result.weights
    assert weights["third_party_intent"] > 0
    decision = sum(weights[f"page_category:{p}"] for p in DECISION_PAGES) / len(DECISION_PAGES)
    other = sum(weights[f"page_category:{p}"] for p in OTHER_PAGES) / len(OTHER_PAGES)
    assert decision > 0 > other


def test_the_hand_set_lead_score_is_recomputed_as_of_the_build(generated_warehouse):
    from audience.train import project_vars, scoring_signals, snapshot
    from audience.warehouse import DuckDBWarehouse

    warehouse = DuckDBWarehouse(generated_warehouse.path)
    try:
        signals = scoring_signals(warehouse)
        now = snapshot(warehouse, generated_warehouse.as_of, 60, signals, project_vars())
        built = dict(warehouse.query("select contact_key, lead_score from marts.contacts"))
        lead_points = warehouse.query(
            "select sum(abs(lead_points)) from marts.contact_score_signals"
        )[0][0]
    finally:
        warehouse.close()
    # the features `audience train` rebuilds at an instant are the build's, at its as_of
    assert len(now.contacts) > 200
    assert max(abs(built[k] - h) for k, h in zip(now.contacts, now.handset, strict=True)) <= 0.11
    assert lead_points == 0  # no trained model: no signal has lead points


@pytest.fixture(scope="module")
def trained_copy(generated_warehouse, tmp_path_factory):
    """A copy of the generated warehouse with a trained lead model and lookalike models, its
    scores and the lookalike segment rebuilt: (the copy, the lead result, the lookalike
    outcomes)."""
    import shutil

    from audience.dbt import run_dbt
    from audience.project import environment
    from audience.train import train
    from audience.train_lookalike import train_lookalikes
    from audience.warehouse import DuckDBWarehouse

    generated_warehouse.execute("checkpoint")
    path = tmp_path_factory.mktemp("trained") / "trained.duckdb"
    shutil.copy(generated_warehouse.path, path)
    warehouse = DuckDBWarehouse(path)
    try:
        result = train(warehouse, horizon_days=60, holdout_days=30)
        lookalikes = train_lookalikes(warehouse, horizon_days=60, holdout_days=30)
    finally:
        warehouse.close()
    with environment(AUDIENCE_DUCKDB_PATH=str(path)):
        run_dbt(
            ["run", "--select", *SCORES_AND_EXPLAIN],
            target="duckdb",
            as_of=generated_warehouse.as_of,
        )
    built = BuiltWarehouse(
        "duckdb", generated_warehouse.data_dir, generated_warehouse.as_of, path=path
    )
    return built, result, lookalikes


def test_trained_weights_score_in_sql_as_the_model_does(trained_copy):
    from audience.train import features_of, model_scores, project_vars, scoring_signals, snapshot
    from audience.warehouse import DuckDBWarehouse

    built, result, _ = trained_copy
    assert result.replaced and result.model_id
    warehouse = DuckDBWarehouse(built.path)
    try:
        signals = scoring_signals(warehouse)
        now = snapshot(warehouse, built.as_of, 60, signals, project_vars())
        sql = dict(warehouse.query("select contact_key, lead_score from marts.contacts"))
    finally:
        warehouse.close()
    python = 100 * model_scores(result.weights, features_of(signals), now.x)
    assert max(abs(sql[k] - p) for k, p in zip(now.contacts, python, strict=True)) <= 0.051
    assert max(sql.values()) < 100 and len(set(sql.values())) > 50


def test_explain_shows_lead_points_per_signal_with_trained_weights(trained_copy):
    import io

    from audience.explain import explain, render
    from audience.warehouse import DuckDBWarehouse

    built, result, _ = trained_copy
    warehouse = DuckDBWarehouse(built.path)
    try:
        key, lead = warehouse.query(
            "select contact_key, lead_score from marts.contacts "
            "where fit_score > 0 order by lead_score desc, contact_key limit 1"
        )[0]
        explanation = explain(warehouse, key)
    finally:
        warehouse.close()
    model = explanation.lead_model
    assert model is not None and model.model_id == result.model_id
    by_term = {t.term: t for t in model.terms}
    assert by_term["intercept"].points == pytest.approx(result.weights["intercept"], abs=1e-4)
    assert by_term["fit_score"].weight == pytest.approx(result.weights["fit_score"], abs=1e-4)
    signals = [s for s in explanation.signals if s.lead_points]
    assert signals, "the top contact's signals carry lead points"
    for s in signals:
        assert s.lead_points / result.weights[f"{s.signal_type}:{s.signal}"] > 0
    assert by_term["signals"].points == pytest.approx(sum(s.lead_points for s in signals), abs=1e-3)
    assert model.probability == pytest.approx(lead, abs=0.11)
    out = io.StringIO()
    render(explanation, file=out, width=140)
    lines = [" ".join(line.split()) for line in out.getvalue().splitlines()]
    assert "Lead score (trained model)" in lines
    assert any(
        line.startswith("signal events engagement 30d ago intent lead share") for line in lines
    )
    assert (
        f"lead {model.probability:.1f} = 100 / (1 + e^-({model.log_odds:+.3f})) "
        f"(model {result.model_id}, held-out AUC {result.auc:.3f})"
    ) in lines


def test_learned_lookalikes_beat_the_centroid_and_score_in_sql_as_the_model_does(
    generated_warehouse, trained_copy
):
    """Each kind's learned lookalike ranks the held-out converters above the distance to the
    customer centroid; the features it learned from are the build's; the segment then admits
    as many of each kind as the centroid did, the likeliest first, with the model's
    probability."""
    import re

    import numpy as np

    from audience.train import project_vars
    from audience.train_lookalike import kind_snapshots, lookalike_scores, scoring_weights
    from audience.warehouse import DuckDBWarehouse

    built, _, lookalikes = trained_copy
    trained = {o.kind: o.result for o in lookalikes if o.result is not None}
    assert set(trained) == {"b2b", "b2c"}
    for result in trained.values():
        assert result.current == "centroid" and result.replaced
        assert result.holdout_positives >= 5
        assert result.auc > result.current_auc
    assert trained["b2b"].auc > 0.8  # the planted relation: intent and decision-stage pages

    candidates = (
        "select scores.contact_key, case when profiles.company_id is null then 'b2c' "
        "else 'b2b' end, scores.fit_score / 100.0, scores.engagement_score / 100.0, "
        "scores.intent_score / 100.0, least(features.decision_page_views_14d, 10) / 10.0, "
        "segment.reason, not scores.is_customer and ((profiles.company_id is not null and "
        "scores.fit_score > 0) or (profiles.company_id is null and "
        "scores.lifecycle_stage <> 'visitor')) "
        "from intermediate.int_contact_scores as scores "
        "inner join intermediate.int_contact_features as features "
        "on scores.contact_key = features.contact_key "
        "inner join intermediate.int_contact_profiles as profiles "
        "on scores.contact_key = profiles.contact_key "
        "left join segments.lookalike_best_customers as segment "
        "on scores.contact_key = segment.contact_key"
    )
    before = generated_warehouse.query(candidates)
    warehouse = DuckDBWarehouse(built.path)
    try:
        after = warehouse.query(candidates)
        now = kind_snapshots(warehouse, built.as_of, 60, scoring_weights(warehouse), project_vars())
    finally:
        warehouse.close()
    points = {key: np.array(row[1:5], dtype=float) for key, *row in after}
    for kind in ("b2b", "b2c"):
        # what the model learned from is what the build scores with
        for key, x in zip(now[kind].contacts, now[kind].x, strict=True):
            assert np.abs(points[key] - x).max() <= 0.0011, key
        admitted = [row for row in before if row[1] == kind and row[-2] is not None]
        rows = [row for row in after if row[1] == kind and row[-1]]
        x = np.array([points[row[0]] for row in rows])
        probability = dict(
            zip([row[0] for row in rows], lookalike_scores(trained[kind].weights, x), strict=True)
        )
        learned = {row[0]: row[-2] for row in rows if row[-2] is not None}
        assert len(learned) == len(admitted) > 0, kind
        for key, reason in learned.items():
            found = re.fullmatch(
                r"like the contacts who converted \(learned probability (\d+) %\)", reason
            )
            assert found, reason
            assert abs(int(found.group(1)) - 100 * probability[key]) <= 0.51, key
        # the likeliest of the kind are in: none left out is likelier than the least admitted
        outside = [p for key, p in probability.items() if key not in learned]
        assert min(probability[key] for key in learned) >= max(outside, default=0) - 1e-9
    assert {r[0] for r in before if r[-2]} != {r[0] for r in after if r[-2]}


def test_the_weekly_training_job_writes_the_models_and_reports_them(generated_warehouse, tmp_path):
    """The Dagster job of Mondays 01:00 trains on the warehouse and writes the models that do
    not do worse; its metadata says which; on a warehouse that was never built it fails with
    the reason."""
    import shutil

    import dagster as dg

    from audience.project import environment
    from audience.train_job import TRAINING_CRON, training_job
    from audience.warehouse import DuckDBWarehouse, connected

    generated_warehouse.execute("checkpoint")
    path = tmp_path / "weekly.duckdb"
    shutil.copy(generated_warehouse.path, path)
    job, schedule = training_job(lambda: connected("duckdb"), "warehouse")
    assert schedule.cron_schedule == TRAINING_CRON == "0 1 * * 1"
    with environment(AUDIENCE_DUCKDB_PATH=str(path)):
        run = job.execute_in_process()
    assert run.success
    summary = run.output_for_node("train_scores")
    assert summary["lead"]["written"] and summary["lead"]["auc"] > summary["lead"]["current_auc"]
    assert summary["lookalike_b2b"]["written"] and summary["lookalike_b2c"]["written"]
    warehouse = DuckDBWarehouse(path)
    try:
        written = dict(
            warehouse.query(
                "select score, count(distinct model_id) from scoring.score_weights group by score"
            )
        )
    finally:
        warehouse.close()
    assert written == {"lead": 1, "lookalike_b2b": 1, "lookalike_b2c": 1}
    with environment(AUDIENCE_DUCKDB_PATH=str(tmp_path / "never_built.duckdb")):
        failed = job.execute_in_process(raise_on_error=False)
    assert not failed.success
    failure = [e for e in failed.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "the warehouse is not built" in failure[0].event_specific_data.error.message
