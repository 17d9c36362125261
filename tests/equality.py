"""Row-for-row comparison of the public marts of two warehouses built from the same data."""

from __future__ import annotations

import math

#: relation -> (key columns, compared columns)
COMPARED = {
    "marts.contacts": (
        ["contact_key"],
        [
            "primary_email",
            "crm_contact_id",
            "user_id",
            "company_id",
            "owner_id",
            "first_seen_at",
            "last_activity_at",
            "recency_bucket",
            "return_visit_pattern",
            "engagement_score",
            "engagement_score_30d_ago",
            "engagement_trend",
            "fit_score",
            "intent_score",
            "lead_score",
            "lifecycle_stage",
            "is_customer",
            "is_email_suppressed",
            "email_suppression_reason",
            "primary_segment_id",
            "is_identified",
            "identifier_count",
            "email_count",
            "crm_contact_count",
        ],
    ),
    "marts.identity_map": (
        ["identifier_type", "identifier"],
        ["contact_key", "canonical_identifier", "resolution", "is_shared_identifier"],
    ),
    "marts.segment_membership": (
        ["contact_key", "segment_id"],
        ["reason", "qualified_at", "entered_at"],
    ),
    "marts.segment_transitions": (
        ["contact_key", "segment_id", "transition", "transitioned_at"],
        ["reason_at_entry"],
    ),
    "marts.quarantine": (["source_table", "source_row_number"], ["record_id", "quarantine_reason"]),
    # event names normalized alike on every engine
    "marts.report_unmapped_events": (
        ["source_table", "event_name"],
        ["events", "contacts", "first_seen_at", "last_seen_at"],
    ),
    "marts.report_arrivals": (
        ["source_table"],
        ["rows_staged", "rows_counted", "rows_arrived_after_as_of", "rows_happened_after_as_of"],
    ),
    "marts.segments": (["segment_id"], ["member_count", "priority", "audience", "channel"]),
    # every segment in one text, in order: a sync's payload hash reads it
    "marts.export_crm_contacts": (["record_key"], ["crm_contact_id", "segment_list"]),
    "marts.contact_score_signals": (
        ["contact_key", "signal_type", "signal"],
        ["events", "engagement_points", "engagement_points_30d_ago", "intent_points"],
    ),
}


def normalized(value: object) -> object:
    if isinstance(value, float):
        return round(value, 6)
    if hasattr(value, "is_finite"):  # Decimal
        return round(float(value), 6)
    return value


def rows_by_key(warehouse, relation: str, keys: list[str], columns: list[str]) -> dict:
    rows = warehouse.query(f"select {', '.join(keys + columns)} from {relation}")
    table = {
        tuple(row[: len(keys)]): tuple(normalized(v) for v in row[len(keys) :]) for row in rows
    }
    assert len(table) == len(rows), f"{relation}: key not unique"
    return table


def close(a: tuple, b: tuple, abs_tol: float = 1e-6) -> bool:
    for x, y in zip(a, b, strict=True):
        if isinstance(x, float) and isinstance(y, float):
            if not math.isclose(x, y, abs_tol=abs_tol):
                return False
        elif x != y:
            return False
    return True


def assert_same_rows(left_warehouse, right_warehouse, relation: str, abs_tol: float = 1e-6) -> None:
    """The relation holds the same keys and, per key, the same values (floats within
    `abs_tol`)."""
    keys, columns = COMPARED[relation]
    left = rows_by_key(left_warehouse, relation, keys, columns)
    right = rows_by_key(right_warehouse, relation, keys, columns)
    assert left, f"{relation} is empty"
    assert set(left) == set(right), (
        f"{relation}: keys only left {sorted(set(left) - set(right))[:3]}, "
        f"only right {sorted(set(right) - set(left))[:3]}"
    )
    differing = {
        key: (left[key], right[key]) for key in left if not close(left[key], right[key], abs_tol)
    }
    assert not differing, (
        f"{relation}: {len(differing)} of {len(left)} rows differ "
        f"(columns {columns}), e.g. {list(differing.items())[:3]}"
    )
