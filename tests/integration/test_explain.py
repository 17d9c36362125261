"""`audience explain` on the hand-made fixture: why Jane and John are where they are."""

from __future__ import annotations

import json

import pytest
from warehouses import environment

from audience.cli import main

pytestmark = pytest.mark.slow

JANE_IDENTIFIERS = [
    ("anonymous_id", "a1"),
    ("crm_contact_id", "K1"),
    ("crm_contact_id", "K4"),
    ("email", "jane.doe+news@acme.com"),
    ("email", "jane.doe@acme.com"),
    ("user_id", "u1"),
]


def settings(warehouse) -> dict[str, str]:
    if warehouse.target == "duckdb":
        return {"AUDIENCE_DUCKDB_PATH": str(warehouse.path)}
    return {"PGDATABASE": str(warehouse.database)}


def explain(warehouse, capsys, *args: str) -> tuple[int, str, str]:
    with environment(**settings(warehouse)):
        code = main(["explain", *args, "--target", warehouse.target])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def explain_json(warehouse, capsys, query: str) -> dict:
    code, out, err = explain(warehouse, capsys, query, "--json")
    assert code == 0, err
    return json.loads(out)


def contact_of(warehouse, identifier: str) -> str:
    return warehouse.scalar(
        f"select contact_key from marts.identity_map where identifier = '{identifier}'"
    )


def test_json_says_why_jane_is_here(tiny_warehouse, capsys):
    doc = explain_json(tiny_warehouse, capsys, "  Jane.Doe@ACME.com ")
    assert doc["format_version"] == 1
    assert doc["contact_key"] == contact_of(tiny_warehouse, "a1")
    assert doc["as_of"] == "2026-06-30 00:00:00"
    assert doc["lookup"] == {
        "query": "  Jane.Doe@ACME.com ",
        "matched_by": "email",
        "identifier": "jane.doe@acme.com",
    }
    # the identifiers merged into her, and how: the plus-tagged address by normalization
    assert [(i["identifier_type"], i["identifier"]) for i in doc["identifiers"]] == (
        JANE_IDENTIFIERS
    )
    tagged = next(i for i in doc["identifiers"] if i["identifier"] == "jane.doe+news@acme.com")
    assert tagged["canonical_identifier"] == "jane.doe@acme.com"
    assert tagged["resolution"] == "merged"
    links = {(k["rule"], k["identifier_a"], k["identifier_b"], k["outcome"]) for k in doc["links"]}
    assert links == {
        ("crm_record", "K1", "jane.doe@acme.com", "merged"),
        ("crm_record", "K4", "jane.doe@acme.com", "merged"),
        ("email_normalization", "jane.doe@acme.com", "jane.doe+news@acme.com", "merged"),
        ("event_stitch", "a1", "u1", "merged"),
        ("identify_call", "a1", "u1", "merged"),
        ("identify_call", "u1", "jane.doe@acme.com", "merged"),
    }
    assert doc["profile"]["primary_email"] == "jane.doe@acme.com"
    assert doc["profile"]["crm_contact_id"] == "K1"
    assert doc["profile"]["lifecycle_stage"] == "marketing_qualified_lead"
    assert doc["scores"] == {
        "engagement_score": 33.0,
        "engagement_score_30d_ago": 0.0,
        "engagement_trend": "rising",
        "recency_bucket": "warm",
        "last_activity_at": "2026-06-10 10:01:00",
        "return_visit_pattern": "returned",
        "fit_score": 95.0,
        "intent_score": 30.6,
        "lead_score": 62.8,
    }


def test_json_score_breakdown_adds_up(tiny_warehouse, capsys):
    doc = explain_json(tiny_warehouse, capsys, "jane.doe@acme.com")
    signals = {(s["signal_type"], s["signal"]): s for s in doc["signals"]}
    assert len(signals) == 8
    demo = signals[("event", "Demo Requested")]
    assert demo["events"] == 1
    assert demo["engagement_points"] == pytest.approx(9.2875)
    assert demo["intent_points"] == pytest.approx(11.145)
    assert doc["signals"][0]["signal"] == "Demo Requested"  # the largest contribution first
    assert signals[("event", "Email Opened (machine)")]["engagement_points"] == 0
    assert sum(s["share_of_engagement_points"] for s in doc["signals"]) == pytest.approx(1, 1e-3)
    # fit: software, 250 employees (the 200+ band only), decision maker, target account
    assert [(c["attribute"], c["value"], c["points"]) for c in doc["fit_components"]] == [
        ("industry", "software", 25),
        ("employees_at_least", "200", 25),
        ("persona", "decision_maker", 25),
        ("target_account", "true", 20),
    ]
    assert sum(c["points"] for c in doc["fit_components"]) == doc["scores"]["fit_score"]


def test_json_segments_primary_and_history(tiny_warehouse, capsys):
    doc = explain_json(tiny_warehouse, capsys, "jane.doe@acme.com")
    assert [
        (s["segment_id"], s["priority"], s["reason"], s["is_primary"]) for s in doc["segments"]
    ] == [
        ("mql_routed", 5, "lead score 62.8 at or above the MQL bar", True),
        ("executive_audience", 60, "CRM persona decision maker (VP Marketing)", False),
    ]
    mql = doc["segments"][0]
    assert mql["qualified_at"] == "2026-06-10 10:01:00"
    assert mql["entered_at"] == "2026-06-30 00:00:00"
    assert mql["expires_at"] is None  # no expiry: while the lead score holds
    assert mql["min_dwell_until"] == "2026-07-30 00:00:00"  # 30 days of minimum dwell
    assert doc["primary_segment"] == {
        "segment_id": "mql_routed",
        "name": "Routed marketing-qualified leads",
        "priority": 5,
        "of_segments": 2,
        "why": "the highest priority (5; the lowest number wins) of its 2 segments; "
        "next: executive_audience (60)",
    }
    assert doc["history"] == [
        {
            "at": "2026-06-30 00:00:00",
            "transition": "entered",
            "segment_id": "executive_audience",
            "name": "Executive audience",
            "reason_at_entry": "CRM persona decision maker (VP Marketing)",
        },
        {
            "at": "2026-06-30 00:00:00",
            "transition": "entered",
            "segment_id": "mql_routed",
            "name": "Routed marketing-qualified leads",
            "reason_at_entry": "lead score 62.8 at or above the MQL bar",
        },
    ]


def test_lookups_by_identity_form_contact_key_and_identifier(tiny_warehouse, capsys):
    john = contact_of(tiny_warehouse, "u2")
    # a gmail variant nobody used: found by its identity form (dots and tag dropped)
    doc = explain_json(tiny_warehouse, capsys, "J.Smith+Shoes@googlemail.com")
    assert doc["contact_key"] == john
    assert doc["lookup"]["matched_by"] == "canonical_email"
    assert doc["lookup"]["identifier"] == "jsmith@gmail.com"
    assert doc["primary_segment"]["segment_id"] == "loyalty_member"
    assert [s["segment_id"] for s in doc["segments"]] == ["loyalty_member", "customer"]
    by_key = explain_json(tiny_warehouse, capsys, john)
    assert by_key["lookup"]["matched_by"] == "contact_key"
    assert by_key["segments"] == doc["segments"]
    assert explain_json(tiny_warehouse, capsys, "K2")["lookup"]["matched_by"] == "crm_contact_id"


def test_text_view_has_every_section(tiny_warehouse, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = explain(tiny_warehouse, capsys, "jane.doe@acme.com")
    assert code == 0, err
    lines = [" ".join(line.split()) for line in out.splitlines()]
    key = contact_of(tiny_warehouse, "a1")
    assert lines[0] == (
        f"Contact {key} (found by email jane.doe@acme.com; as of 2026-06-30 00:00:00)"
    )
    for expected in [
        "jane.doe@acme.com · CRM K1 · user u1 · company C1 · owner O1",
        "Identifiers merged (6)",
        "email jane.doe+news@acme.com merged 2026-06-05 2026-06-05",
        "= jane.doe@acme.com",
        "email_normalization email jane.doe@acme.com - email jane.doe+news@acme.com merged 1",
        "engagement 33.0 from 16.03 decayed points (30 days ago 0.0: rising)",
        "recency warm (last activity 2026-06-10 10:01:00, 19.6 days before as_of)",
        "fit 95.0 · intent 30.6 · lead 62.8",
        "event: Demo Requested 1 9.29 0.00 11.14 58%",
        "total 8 16.03 0.00 14.64",
        "persona decision_maker 25 Signs the contract",
        "total 95 (capped at 100)",
        "Segments (2)",
        "5 mql_routed lead score 62.8 at or above the MQL bar 2026-06-10 no expiry",
        "60 executive_audience CRM persona decision maker (VP Marketing) 2026-06-30 no expiry",
        "Primary segment: mql_routed (Routed marketing-qualified leads): the highest priority "
        "(5; the lowest number wins) of its 2 segments; next: executive_audience (60)",
        "Segment history (2)",
        "2026-06-30 00:00:00 entered mql_routed lead score 62.8 at or above the MQL bar",
    ]:
        assert expected in lines, expected
    assert "\x1b[" not in out  # no colour codes when stdout is not a terminal


def test_unknown_email_is_a_clear_message_and_exit_code_1(tiny_warehouse, capsys):
    code, out, err = explain(tiny_warehouse, capsys, "Nobody@Example.com")
    assert (code, out) == (1, "")
    assert err == "not found: no contact has the email nobody@example.com\n"
    code, out, err = explain(tiny_warehouse, capsys, "no-such-key", "--json")
    assert (code, out) == (1, "")
    assert "no contact has the email, contact key or identifier no-such-key" in err


def test_train_rebuilds_the_hand_set_lead_score_as_of_the_build(tiny_warehouse, capsys):
    """The features `audience train` computes at an instant are the build's (on each engine),
    and on the fixture (no conversion after any snapshot) it refuses to train."""
    from audience.train import project_vars, scoring_signals, snapshot
    from audience.warehouse import connected

    with environment(**settings(tiny_warehouse)), connected(tiny_warehouse.target) as warehouse:
        signals = scoring_signals(warehouse)
        now = snapshot(warehouse, tiny_warehouse.as_of, 60, signals, project_vars())
        built = dict(warehouse.query("select contact_key, lead_score from marts.contacts"))
    assert now.contacts
    assert {k: h for k, h in zip(now.contacts, now.handset, strict=True)} == pytest.approx(
        {k: built[k] for k in now.contacts}, abs=0.11
    )
    assert any(h > 0 for h in now.handset)
    with environment(**settings(tiny_warehouse)):
        code = main(
            ["train", "--horizon-days", "10", "--dry-run", "--target", tiny_warehouse.target]
        )
    assert code == 1
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith("error: ") and "0 of" in err and "converting" in err
    # the lookalikes too have nothing to learn from, and say so per kind
    assert captured.out.splitlines() == [
        f"lookalike {kind}: not trained (the held-out period as of 2026-06-20 has {n} of "
        f"{m} {kind} candidates converting: no AUC to check against)"
        for kind, n, m in (("b2b", 0, 4), ("b2c", 0, 3))
    ]


def test_lookalike_features_are_the_builds_on_each_engine(tiny_warehouse):
    """What `audience train` learns the lookalikes from, rebuilt as of the build, is what
    lookalike_best_customers scores with (fit, engagement, intent, decision-stage views)."""
    from audience.train import project_vars
    from audience.train_lookalike import kind_snapshots, scoring_weights
    from audience.warehouse import connected

    with environment(**settings(tiny_warehouse)), connected(tiny_warehouse.target) as warehouse:
        now = kind_snapshots(
            warehouse, tiny_warehouse.as_of, 60, scoring_weights(warehouse), project_vars()
        )
        built = {
            key: [float(v) for v in values]
            for key, *values in warehouse.query(
                "select scores.contact_key, scores.fit_score / 100.0, "
                "scores.engagement_score / 100.0, scores.intent_score / 100.0, "
                "least(features.decision_page_views_14d, 10) / 10.0 "
                "from intermediate.int_contact_scores as scores "
                "inner join intermediate.int_contact_features as features "
                "on scores.contact_key = features.contact_key"
            )
        }
    rows = [(k, x) for kind in now.values() for k, x in zip(kind.contacts, kind.x, strict=True)]
    assert len(rows) == 7
    assert any(x[1] > 0 for _, x in rows) and any(x[2] > 0 for _, x in rows)
    for key, x in rows:
        assert list(x) == pytest.approx(built[key], abs=0.0011), key
