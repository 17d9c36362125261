"""`audience explain` without a warehouse: email forms and the terminal view."""

from __future__ import annotations

import io
import json

import pytest

from audience.explain import (
    Explanation,
    HistoryEntry,
    Lookup,
    Membership,
    PrimarySegment,
    canonical_email,
    normalize_email,
    render,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Jane.Doe@ACME.com ", "jane.doe@acme.com"),
        ("jo+news@x.com", "jo+news@x.com"),
        ("no-at-sign", None),
        ("jo@localhost", None),
        ("jo smith@x.com", None),
        ("@x.com", None),
    ],
)
def test_normalize_email_as_the_macro_does(text, expected):
    assert normalize_email(text) == expected


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("jane.doe+news@acme.com", "jane.doe@acme.com"),
        ("j.smith@googlemail.com", "jsmith@gmail.com"),
        ("j.s.mith+shoes@gmail.com", "jsmith@gmail.com"),
        ("jo@example.org", "jo@example.org"),
    ],
)
def test_canonical_email_as_the_macro_does(email, expected):
    assert canonical_email(email) == expected


def explanation() -> Explanation:
    """A contact who left a segment, is held in another by its minimum dwell time, and whose
    fit components this warehouse user cannot read."""
    return Explanation(
        contact_key="k1",
        as_of="2026-06-30 00:00:00",
        lookup=Lookup("k1", "contact_key", "k1"),
        profile={
            "primary_email": None,
            "crm_contact_id": None,
            "user_id": "u9",
            "company_id": None,
            "owner_id": None,
            "first_seen_at": "2026-01-01 00:00:00",
            "lifecycle_stage": "visitor",
            "is_customer": False,
            "is_email_suppressed": False,
            "email_suppression_reason": None,
            "is_identified": True,
            "identifier_count": 1,
            "email_count": 0,
            "crm_contact_count": 0,
            "anonymous_id_count": 0,
        },
        scores={
            "engagement_score": 0.0,
            "engagement_score_30d_ago": 12.5,
            "engagement_trend": "declining",
            "recency_bucket": "never",
            "last_activity_at": None,
            "return_visit_pattern": None,
            "fit_score": 0.0,
            "intent_score": 0.0,
            "lead_score": 0.0,
        },
        segments=[
            Membership(
                segment_id="mql_routed",
                name="Routed marketing-qualified leads",
                goal="lifecycle",
                priority=5,
                channel="any",
                reason="held for the minimum dwell time (entered 2026-06-20)",
                qualified_at="2026-06-20 00:00:00",
                entered_at="2026-06-20 00:00:00",
                expires_at=None,
                min_dwell_until="2026-07-20 00:00:00",
                is_primary=True,
            )
        ],
        primary_segment=PrimarySegment(
            "mql_routed", "Routed marketing-qualified leads", 5, 1, "its only segment"
        ),
        history=[
            HistoryEntry("2026-06-01 00:00:00", "entered", "cart_abandoner", "Carts", "cart"),
            HistoryEntry("2026-06-08 00:00:00", "exited", "cart_abandoner", "Carts", "cart"),
            HistoryEntry("2026-06-20 00:00:00", "entered", "mql_routed", "MQL", "lead score 61"),
        ],
    )


def test_text_view_of_exits_dwell_and_missing_parts():
    out = io.StringIO()
    render(explanation(), file=out, width=100)
    lines = [" ".join(line.split()) for line in out.getvalue().splitlines()]
    for expected in [
        "Contact k1 (found by its contact key; as of 2026-06-30 00:00:00)",
        "no email · no CRM record · user u9",
        "No identity links: a single identifier.",
        "engagement 0.0 from 0.00 decayed points (30 days ago 12.5: declining)",
        "recency never (no meaningful activity)",
        "No scored activity.",
        "Fit components: not readable with this warehouse user.",
        "Primary segment: mql_routed (Routed marketing-qualified leads): its only segment",
        "2026-06-08 00:00:00 exited cart_abandoner cart",
        "Segment history (3)",
    ]:
        assert expected in lines, expected
    held = lines.index("5 mql_routed held for the minimum dwell 2026-06-20 no expiry")
    # the next line: the segment's name, the rest of the reason, and how long the dwell holds
    assert lines[held + 1] == (
        "Routed marketing-qualified time (entered 2026-06-20) held to 2026-07-20"
    )


def test_json_document_is_stable():
    doc = json.loads(explanation().to_json())
    assert list(doc) == [
        "format_version",
        "contact_key",
        "as_of",
        "lookup",
        "profile",
        "scores",
        "identifiers",
        "links",
        "signals",
        "fit_components",
        "segments",
        "primary_segment",
        "history",
        "lead_model",
    ]
    assert doc["fit_components"] is None
    assert doc["lead_model"] is None  # the hand-set weights score
    assert doc["history"][1] == {
        "at": "2026-06-08 00:00:00",
        "transition": "exited",
        "segment_id": "cart_abandoner",
        "name": "Carts",
        "reason_at_entry": "cart",
    }
