"""`audience explain EMAIL|CONTACT_KEY`: why a contact is where it is.

Everything comes from the public marts (identity_map, identity_merge_audit, contacts,
contact_score_signals, segment_membership, segments, segment_transitions), plus the fit
components from the seeds and the account features when the warehouse user may read them.
The same `Explanation` renders as a terminal view (rich) and as a stable JSON document.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import IO, Any

from audience.project import duckdb_path
from audience.warehouse import Warehouse, connected

#: The version of the JSON document's shape; it changes only when a key changes meaning.
FORMAT_VERSION = 1
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


class ExplainError(Exception):
    """The warehouse cannot answer (not built, no marts)."""


class ContactNotFound(ExplainError):
    """No contact has that email, contact key or identifier."""


# --- the identity form of an email (macros/identity/normalize_email.sql, canonical_email.sql) ---


def normalize_email(text: str) -> str | None:
    """The deliverable form: trimmed and lower-cased; None when not shaped like an address
    (the macro's `like '%_@_%._%'` and no space)."""
    email = text.strip().lower()
    if " " in email or not re.fullmatch(r".+@.+\..+", email, re.DOTALL):
        return None
    return email


def canonical_email(normalized: str) -> str:
    """The identity form of a normalized email: no plus tag, googlemail is gmail, and no dots
    in a gmail local part (as the canonical_email macro computes it)."""
    parts = normalized.split("@")
    local = parts[0].split("+")[0]
    domain = parts[1] if len(parts) > 1 else ""
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain == "gmail.com":
        local = local.replace(".", "")
    return f"{local}@{domain}"


# --- the explanation ----------------------------------------------------------------------------


@dataclass
class Lookup:
    query: str
    matched_by: str  # contact_key | email | canonical_email | user_id | anonymous_id | ...
    identifier: str


@dataclass
class Identifier:
    identifier_type: str
    identifier: str
    canonical_identifier: str | None
    resolution: str | None
    is_shared_identifier: bool
    first_seen_at: str | None
    last_seen_at: str | None


@dataclass
class Link:
    identifier_type_a: str
    identifier_a: str
    identifier_type_b: str
    identifier_b: str
    rule: str
    outcome: str
    evidence_count: int | None
    first_seen_at: str | None


@dataclass
class Signal:
    signal_type: str
    signal: str
    events: int
    engagement_points: float
    engagement_points_30d_ago: float
    intent_points: float
    share_of_engagement_points: float
    lead_points: float = 0.0  # log-odds in the trained lead model (0: hand-set weights)


@dataclass
class LeadTerm:
    term: str  # intercept | fit_score | third_party_intent | signals
    value: float | None  # the feature (fit and intent 0-1); None for the intercept and signals
    weight: float | None
    points: float  # log-odds


@dataclass
class LeadModel:
    """The trained lead model (`audience train`) and its terms for this contact: the lead
    score is 100 x the logistic of their sum."""

    model_id: str
    holdout_auc: float | None
    terms: list[LeadTerm]
    log_odds: float
    probability: float  # percent


@dataclass
class FitComponent:
    attribute: str
    value: str
    points: float
    description: str | None


@dataclass
class Membership:
    segment_id: str
    name: str | None
    goal: str | None
    priority: int | None
    channel: str | None
    reason: str
    qualified_at: str | None
    entered_at: str | None
    expires_at: str | None  # the last qualifying activity + expiry_days (null: no expiry)
    min_dwell_until: str | None  # entered + min_dwell_days (null: no minimum dwell)
    is_primary: bool


@dataclass
class PrimarySegment:
    segment_id: str
    name: str | None
    priority: int | None
    of_segments: int
    why: str


@dataclass
class HistoryEntry:
    at: str
    transition: str  # entered | exited
    segment_id: str
    name: str | None
    reason_at_entry: str | None


@dataclass
class Explanation:
    contact_key: str
    as_of: str | None
    lookup: Lookup
    profile: dict[str, Any]
    scores: dict[str, Any]
    identifiers: list[Identifier] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    fit_components: list[FitComponent] | None = None  # None: not readable here
    segments: list[Membership] = field(default_factory=list)
    primary_segment: PrimarySegment | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    lead_model: LeadModel | None = None  # None: the hand-set weights score (or not readable)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"format_version": FORMAT_VERSION, **data}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


# --- reading the warehouse --------------------------------------------------------------------

PROFILE_COLUMNS = (
    "primary_email",
    "crm_contact_id",
    "user_id",
    "company_id",
    "owner_id",
    "first_seen_at",
    "lifecycle_stage",
    "is_customer",
    "is_email_suppressed",
    "email_suppression_reason",
    "is_identified",
    "identifier_count",
    "email_count",
    "crm_contact_count",
    "anonymous_id_count",
)
SCORE_COLUMNS = (
    "engagement_score",
    "engagement_score_30d_ago",
    "engagement_trend",
    "recency_bucket",
    "last_activity_at",
    "return_visit_pattern",
    "fit_score",
    "intent_score",
    "lead_score",
)
FIT_TABLES = (
    ("intermediate", "int_contact_profiles"),
    ("intermediate", "int_account_features"),
    ("seeds", "fit_weights"),
)
# the fit rules of int_contact_scores: each attribute that applies adds its points (of the
# size bands only the largest); the sum, capped at 100, is the fit score
FIT_QUERY = """
select
    fit_weights.attribute,
    fit_weights.attribute_value,
    fit_weights.points,
    fit_weights.description
from intermediate.int_contact_profiles as profiles
left join intermediate.int_account_features as accounts
    on profiles.company_id = accounts.company_id
inner join seeds.fit_weights as fit_weights
    on (fit_weights.attribute = 'industry' and accounts.industry = fit_weights.attribute_value)
    or (
        fit_weights.attribute = 'employees_at_least'
        and accounts.employee_count >= cast(fit_weights.attribute_value as bigint)
    )
    or (fit_weights.attribute = 'persona' and profiles.persona = fit_weights.attribute_value)
    or (
        fit_weights.attribute = 'target_account' and accounts.is_target_account
        and fit_weights.attribute_value = 'true'
    )
where profiles.contact_key = ?
"""
FIT_ATTRIBUTE_ORDER = ("industry", "employees_at_least", "persona", "target_account")


def _plain(value: Any) -> Any:
    """A JSON-ready value: timestamps as text, decimals as floats (the same on both targets)."""
    if isinstance(value, datetime):
        return value.strftime(TIMESTAMP_FORMAT)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _number(value: Any, digits: int = 4) -> float:
    return round(float(value or 0), digits)


def _ts(value: Any) -> str | None:
    return value.strftime(TIMESTAMP_FORMAT) if isinstance(value, datetime) else value


def _require_marts(warehouse: Warehouse) -> None:
    rows = warehouse.query(
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'contacts'"
    )
    if not rows or not rows[0][0]:
        raise ExplainError(
            f"no marts.contacts on {warehouse.target}: build the warehouse first (audience run)"
        )


def _distinct_keys(rows: Sequence[tuple[Any, ...]]) -> list[str]:
    return sorted({str(row[0]) for row in rows})


def find_contact(warehouse: Warehouse, query: str) -> tuple[str, Lookup]:
    """The contact key of an email (as the project normalizes it), a contact key or another
    identifier (user id, CRM contact id, anonymous id), and how it was found.

    An email is looked up as written (trimmed, lower-cased), then by its identity form, so
    `Jane.Doe+promo@acme.com` finds the contact of `jane.doe@acme.com`.
    """
    text = query.strip()
    if not text:
        raise ContactNotFound("give an email address or a contact key")
    if "@" in text:
        email = normalize_email(text)
        if email is None:
            raise ContactNotFound(f"{text!r} is not an email address")
        for matched_by, value, column in (
            ("email", email, "identifier"),
            ("canonical_email", canonical_email(email), "canonical_identifier"),
        ):
            keys = _distinct_keys(
                warehouse.query(
                    "select contact_key from marts.identity_map "
                    f"where identifier_type = 'email' and {column} = ?",
                    [value],
                )
            )
            if len(keys) > 1:
                raise ContactNotFound(f"{value} belongs to several contacts: {', '.join(keys)}")
            if keys:
                return keys[0], Lookup(query, matched_by, value)
        raise ContactNotFound(f"no contact has the email {email}")

    keys = _distinct_keys(
        warehouse.query("select contact_key from marts.contacts where contact_key = ?", [text])
    )
    if keys:
        return keys[0], Lookup(query, "contact_key", text)
    rows = warehouse.query(
        "select identifier_type, contact_key from marts.identity_map "
        "where identifier = ? and identifier_type <> 'email'",
        [text],
    )
    keys = _distinct_keys([(row[1],) for row in rows])
    if len(keys) == 1:
        return keys[0], Lookup(query, str(min(row[0] for row in rows)), text)
    if keys:
        found = ", ".join(sorted(f"{row[0]} of {row[1]}" for row in rows))
        raise ContactNotFound(f"{text} names several contacts ({found}); give the contact key")
    raise ContactNotFound(f"no contact has the email, contact key or identifier {text}")


def _fit_readable(warehouse: Warehouse) -> bool:
    wanted = {f"{schema}.{table}" for schema, table in FIT_TABLES}
    rows = warehouse.query(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('intermediate', 'seeds')"
    )
    return wanted <= {f"{row[0]}.{row[1]}" for row in rows}


def fit_components(warehouse: Warehouse, contact_key: str) -> list[FitComponent] | None:
    """The fit weights that apply to the contact (of the size bands only the largest), or None
    when the warehouse user cannot read the seeds and the account features."""
    if not _fit_readable(warehouse):
        return None
    best: dict[str, FitComponent] = {}
    for attribute, value, points, description in warehouse.query(FIT_QUERY, [contact_key]):
        component = FitComponent(str(attribute), str(value), _number(points, 2), description)
        if attribute not in best or component.points > best[attribute].points:
            best[attribute] = component
    order = {name: i for i, name in enumerate(FIT_ATTRIBUTE_ORDER)}
    return sorted(best.values(), key=lambda c: (order.get(c.attribute, 99), c.attribute))


def lead_model(
    warehouse: Warehouse, contact_key: str, fit_score: float, signals: Sequence[Signal]
) -> LeadModel | None:
    """The trained lead model's terms for the contact, or None when the hand-set weights
    score (no model in scoring.score_weights) or the user cannot read the weights."""
    if not warehouse.column_names("scoring", "score_weights"):
        return None
    weights = {
        str(t): (float(w), r[0], r[1])
        for t, w, *r in warehouse.query(
            "select feature_type, weight, model_id, holdout_auc from scoring.score_weights "
            "where score = 'lead' and feature_type <> 'signal' and weight is not null"
        )
    }
    if not weights:
        return None
    third_party = 0.0
    if _fit_readable(warehouse):
        row = warehouse.query(
            "select accounts.third_party_intent_score from intermediate.int_contact_profiles "
            "as profiles inner join intermediate.int_account_features as accounts "
            "on profiles.company_id = accounts.company_id where profiles.contact_key = ?",
            [contact_key],
        )
        third_party = float(row[0][0] or 0) / 100 if row else 0.0
    any_weight = next(iter(weights.values()))

    def weight(name: str) -> float:
        return weights[name][0] if name in weights else 0.0

    fit = fit_score / 100
    terms = [
        LeadTerm("intercept", None, None, _number(weight("intercept"))),
        LeadTerm(
            "fit_score", fit, _number(weight("fit_score")), _number(weight("fit_score") * fit)
        ),
        LeadTerm(
            "third_party_intent",
            third_party,
            _number(weight("third_party_intent")),
            _number(weight("third_party_intent") * third_party),
        ),
        LeadTerm("signals", None, None, _number(sum(s.lead_points for s in signals))),
    ]
    log_odds = sum(t.points for t in terms)
    probability = 100 / (1 + math.exp(-max(min(log_odds, 30), -30)))
    auc = any_weight[2]
    return LeadModel(
        model_id=str(any_weight[1]),
        holdout_auc=None if auc is None else _number(auc, 3),
        terms=terms,
        log_odds=_number(log_odds),
        probability=_number(probability, 1),
    )


def _segment_dates(
    qualified_at: Any, entered_at: Any, expiry_days: Any, min_dwell_days: Any
) -> tuple[str | None, str | None]:
    expires = (
        _ts(qualified_at + timedelta(days=int(expiry_days)))
        if expiry_days is not None and isinstance(qualified_at, datetime)
        else None
    )
    dwell = (
        _ts(entered_at + timedelta(days=int(min_dwell_days)))
        if min_dwell_days is not None and isinstance(entered_at, datetime)
        else None
    )
    return expires, dwell


def _primary(contact_primary: str | None, segments: list[Membership]) -> PrimarySegment | None:
    chosen = next((s for s in segments if s.segment_id == contact_primary), None)
    if chosen is None:
        return None
    count = len(segments)
    if count == 1:
        why = "its only segment"
    else:
        others = [s for s in segments if s is not chosen]
        runner_up = min(others, key=lambda s: (s.priority is None, s.priority or 0, s.segment_id))
        why = (
            f"the highest priority ({chosen.priority}; the lowest number wins) of its "
            f"{count} segments; next: {runner_up.segment_id} ({runner_up.priority})"
        )
    return PrimarySegment(chosen.segment_id, chosen.name, chosen.priority, count, why)


def explain_contact(target: str, query: str) -> Explanation:
    """Connect to `target` (never creating a DuckDB file) and explain the contact of `query`."""
    if target == "duckdb" and not duckdb_path().exists():
        raise ExplainError(f"no DuckDB warehouse at {duckdb_path()}: build it first (audience run)")
    with connected(target) as warehouse:
        return explain(warehouse, query)


def explain(warehouse: Warehouse, query: str) -> Explanation:
    """Everything that says why the contact of `query` is where it is."""
    _require_marts(warehouse)
    contact_key, lookup = find_contact(warehouse, query)
    columns = ("as_of", "primary_segment_id", *PROFILE_COLUMNS, *SCORE_COLUMNS)
    row = warehouse.query(
        f"select {', '.join(columns)} from marts.contacts where contact_key = ?", [contact_key]
    )
    if not row:
        raise ContactNotFound(f"{contact_key} is in marts.identity_map but not marts.contacts")
    contact = {name: _plain(value) for name, value in zip(columns, row[0], strict=True)}
    for name in ("engagement_score", "engagement_score_30d_ago", "fit_score", "intent_score"):
        contact[name] = _number(contact[name], 1)
    contact["lead_score"] = _number(contact["lead_score"], 1)

    identifiers = sorted(
        (
            Identifier(str(r[0]), str(r[1]), r[2], r[3], bool(r[4]), _ts(r[5]), _ts(r[6]))
            for r in warehouse.query(
                "select identifier_type, identifier, canonical_identifier, resolution, "
                "is_shared_identifier, first_seen_at, last_seen_at "
                "from marts.identity_map where contact_key = ?",
                [contact_key],
            )
        ),
        key=lambda i: (i.identifier_type, i.identifier),
    )
    links = sorted(
        (
            Link(
                str(r[0]),
                str(r[1]),
                str(r[2]),
                str(r[3]),
                str(r[4]),
                str(r[5]),
                None if r[6] is None else int(r[6]),
                _ts(r[7]),
            )
            for r in warehouse.query(
                "select identifier_type_a, identifier_a, identifier_type_b, identifier_b, "
                "link_rule, link_outcome, evidence_count, first_seen_at "
                "from marts.identity_merge_audit where contact_key_a = ? or contact_key_b = ?",
                [contact_key, contact_key],
            )
        ),
        key=lambda k: (k.outcome != "merged", k.rule, k.identifier_a, k.identifier_b),
    )
    signals = sorted(
        (
            Signal(
                str(r[0]),
                str(r[1]),
                int(r[2] or 0),
                _number(r[3]),
                _number(r[4]),
                _number(r[5]),
                _number(r[6]),
                _number(r[7]),
            )
            for r in warehouse.query(
                "select signal_type, signal, events, engagement_points, "
                "engagement_points_30d_ago, intent_points, share_of_engagement_points, "
                "lead_points from marts.contact_score_signals where contact_key = ?",
                [contact_key],
            )
        ),
        key=lambda s: (
            -s.engagement_points,
            -s.intent_points,
            -s.lead_points,
            s.signal_type,
            s.signal,
        ),
    )
    segments: list[Membership] = []
    for r in warehouse.query(
        "select membership.segment_id, segments.name, segments.goal, segments.priority, "
        "segments.channel, segments.expiry_days, segments.min_dwell_days, membership.reason, "
        "membership.qualified_at, membership.entered_at "
        "from marts.segment_membership as membership "
        "left join marts.segments as segments on membership.segment_id = segments.segment_id "
        "where membership.contact_key = ?",
        [contact_key],
    ):
        expires, dwell = _segment_dates(r[8], r[9], r[5], r[6])
        segments.append(
            Membership(
                segment_id=str(r[0]),
                name=r[1],
                goal=r[2],
                priority=None if r[3] is None else int(r[3]),
                channel=r[4],
                reason=str(r[7]),
                qualified_at=_ts(r[8]),
                entered_at=_ts(r[9]),
                expires_at=expires,
                min_dwell_until=dwell,
                is_primary=str(r[0]) == contact["primary_segment_id"],
            )
        )
    segments.sort(key=lambda s: (s.priority is None, s.priority or 0, s.segment_id))
    history = sorted(
        (
            HistoryEntry(_ts(r[2]) or "", str(r[1]), str(r[0]), r[3], r[4])
            for r in warehouse.query(
                "select transitions.segment_id, transitions.transition, "
                "transitions.transitioned_at, segments.name, transitions.reason_at_entry "
                "from marts.segment_transitions as transitions "
                "left join marts.segments as segments "
                "on transitions.segment_id = segments.segment_id "
                "where transitions.contact_key = ?",
                [contact_key],
            )
        ),
        # at one instant, an exit before an entry (a contact moving from one spell to the next)
        key=lambda h: (h.at, h.transition != "exited", h.segment_id),
    )
    return Explanation(
        contact_key=contact_key,
        as_of=contact["as_of"],
        lookup=lookup,
        profile={name: contact[name] for name in PROFILE_COLUMNS},
        scores={name: contact[name] for name in SCORE_COLUMNS},
        identifiers=identifiers,
        links=links,
        signals=signals,
        fit_components=fit_components(warehouse, contact_key),
        segments=segments,
        primary_segment=_primary(contact["primary_segment_id"], segments),
        history=history,
        lead_model=lead_model(warehouse, contact_key, contact["fit_score"], signals),
    )


# --- the terminal view ---------------------------------------------------------------------------


def _table(
    title: str,
    *columns: str,
    justify_right: Sequence[str] = (),
    no_wrap: Sequence[str] = (),
    min_widths: dict[str, int] | None = None,
) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    for column in columns:
        table.add_column(
            column,
            justify="right" if column in justify_right else "left",
            no_wrap=column in no_wrap,
            min_width=(min_widths or {}).get(column),
        )
    return table


SIGNAL_TYPES = {"page_category": "page", "event": "event"}


def _days_before(earlier: str | None, later: str | None) -> float | None:
    if not earlier or not later:
        return None
    gap = datetime.strptime(later, TIMESTAMP_FORMAT) - datetime.strptime(earlier, TIMESTAMP_FORMAT)
    return gap.total_seconds() / 86400


def _day(value: str | None) -> str:
    return value[:10] if value else "-"


def _points(value: float) -> str:
    return f"{value:.2f}"


def _yes(flag: Any, yes: str, no: str) -> str:
    return yes if flag else no


def renderables(explanation: Explanation) -> list[Any]:
    """The terminal view: one rich renderable per section."""
    from rich.text import Text

    e = explanation
    p, s = e.profile, e.scores
    found = (
        "by its contact key"
        if e.lookup.matched_by == "contact_key"
        else f"by {e.lookup.matched_by.replace('_', ' ')} {e.lookup.identifier}"
    )
    header = Text()
    header.append(f"Contact {e.contact_key}", style="bold")
    header.append(f"  (found {found}; as of {e.as_of})\n")
    facts = [
        p["primary_email"] or "no email",
        f"CRM {p['crm_contact_id']}" if p["crm_contact_id"] else "no CRM record",
        f"user {p['user_id']}" if p["user_id"] else None,
        f"company {p['company_id']}" if p["company_id"] else None,
        f"owner {p['owner_id']}" if p["owner_id"] else None,
    ]
    header.append(" · ".join(f for f in facts if f) + "\n")
    email_state = (
        f"email suppressed ({p['email_suppression_reason']})"
        if p["is_email_suppressed"]
        else "email not suppressed"
    )
    header.append(
        f"lifecycle {p['lifecycle_stage']} · "
        f"{_yes(p['is_customer'], 'customer', 'not a customer')} · "
        f"{_yes(p['is_identified'], 'identified', 'anonymous only')} · {email_state}"
    )
    sections: list[Any] = [header]

    identifiers = _table(
        f"Identifiers merged ({len(e.identifiers)})",
        "type",
        "identifier",
        "resolution",
        "first seen",
        "last seen",
        no_wrap=("type", "resolution", "first seen", "last seen"),
    )
    for i in e.identifiers:
        form = i.canonical_identifier
        identifiers.add_row(
            i.identifier_type,
            i.identifier
            + (" (shared mailbox)" if i.is_shared_identifier else "")
            + (f"\n  = {form}" if form and form != i.identifier else ""),
            i.resolution or "",
            _day(i.first_seen_at),
            _day(i.last_seen_at),
        )
    sections.append(identifiers)

    links = _table(
        "How they were linked",
        "rule",
        "link",
        "outcome",
        "evidence",
        justify_right=("evidence",),
        no_wrap=("rule", "outcome"),
    )
    for k in e.links:
        links.add_row(
            k.rule,
            f"{k.identifier_type_a} {k.identifier_a} - {k.identifier_type_b} {k.identifier_b}",
            k.outcome,
            "" if k.evidence_count is None else str(k.evidence_count),
        )
    sections.append(links if e.links else Text("No identity links: a single identifier."))

    scores = Text()
    scores.append("Scores\n", style="bold")
    idle = _days_before(s["last_activity_at"], e.as_of)
    last = (
        f"last activity {s['last_activity_at']}, {idle:.1f} days before as_of"
        if idle is not None
        else "no meaningful activity"
    )
    points = sum(g.engagement_points for g in e.signals)
    scores.append(
        f"  engagement {s['engagement_score']:.1f} from {points:.2f} decayed points "
        f"(30 days ago {s['engagement_score_30d_ago']:.1f}: {s['engagement_trend']})\n"
        f"  recency    {s['recency_bucket']} ({last})\n"
        f"  visits     {s['return_visit_pattern'] or '-'}\n"
        f"  fit {s['fit_score']:.1f} · intent {s['intent_score']:.1f} · "
        f"lead {s['lead_score']:.1f}"
    )
    sections.append(scores)

    # the trained lead model's log-odds per signal, when there is one
    learned = e.lead_model is not None
    lead_column = ("lead",) if learned else ()
    signals = _table(
        "Score by signal",
        "signal",
        "events",
        "engagement",
        "30d ago",
        "intent",
        *lead_column,
        "share",
        justify_right=("events", "engagement", "30d ago", "intent", *lead_column, "share"),
        no_wrap=("signal",),
    )
    for g in e.signals:
        signals.add_row(
            f"{SIGNAL_TYPES.get(g.signal_type, g.signal_type)}: {g.signal}",
            str(g.events),
            _points(g.engagement_points),
            _points(g.engagement_points_30d_ago),
            _points(g.intent_points),
            *((_points(g.lead_points),) if learned else ()),
            f"{g.share_of_engagement_points:.0%}",
        )
    if e.signals:
        signals.add_row(
            "total",
            str(sum(g.events for g in e.signals)),
            _points(sum(g.engagement_points for g in e.signals)),
            _points(sum(g.engagement_points_30d_ago for g in e.signals)),
            _points(sum(g.intent_points for g in e.signals)),
            *((_points(sum(g.lead_points for g in e.signals)),) if learned else ()),
            "",
            style="bold",
        )
        sections.append(signals)
    else:
        sections.append(Text("No scored activity."))

    if e.lead_model is not None:
        model = e.lead_model
        lead = _table(
            "Lead score (trained model)",
            "term",
            "value",
            "weight",
            "log-odds",
            justify_right=("value", "weight", "log-odds"),
        )
        for t in model.terms:
            lead.add_row(
                t.term,
                "" if t.value is None else f"{t.value:.2f}",
                "" if t.weight is None else f"{t.weight:+.3f}",
                f"{t.points:+.3f}",
            )
        lead.add_row(
            "total",
            "",
            "",
            f"{model.log_odds:+.3f}",
            style="bold",
        )
        sections.append(lead)
        auc = "" if model.holdout_auc is None else f", held-out AUC {model.holdout_auc:.3f}"
        sections.append(
            Text(
                f"  lead {model.probability:.1f} = 100 / (1 + e^-({model.log_odds:+.3f}))"
                f"  (model {model.model_id}{auc})"
            )
        )

    if e.fit_components is None:
        sections.append(Text("Fit components: not readable with this warehouse user."))
    elif e.fit_components:
        fit = _table(
            "Fit components", "attribute", "value", "points", "why", justify_right=("points",)
        )
        for c in e.fit_components:
            fit.add_row(c.attribute, c.value, f"{c.points:g}", c.description or "")
        fit.add_row(
            "total",
            "",
            f"{sum(c.points for c in e.fit_components):g}",
            "(capped at 100)",
            style="bold",
        )
        sections.append(fit)
    else:
        sections.append(Text("Fit components: no fit weight applies (fit 0)."))

    segments = _table(
        f"Segments ({len(e.segments)})",
        "priority",
        "segment",
        "reason",
        "qualified",
        "expires",
        justify_right=("priority",),
        no_wrap=("priority", "qualified", "expires"),
        min_widths={"segment": max((len(m.segment_id) for m in e.segments), default=7)},
    )
    for m in e.segments:
        segments.add_row(
            "" if m.priority is None else str(m.priority),
            f"{m.segment_id}\n{m.name or ''}{' · primary' if m.is_primary else ''}",
            m.reason,
            _day(m.qualified_at),
            (_day(m.expires_at) if m.expires_at else "no expiry")
            + (
                f"\nheld to {_day(m.min_dwell_until)}"
                if m.min_dwell_until and e.as_of and m.min_dwell_until > e.as_of
                else ""
            ),
            style="bold" if m.is_primary else None,
        )
    sections.append(segments if e.segments else Text("Segments: none.", style="bold"))

    primary = Text()
    primary.append("Primary segment: ", style="bold")
    if e.primary_segment is None:
        primary.append("none (the contact is in no segment)")
    else:
        ps = e.primary_segment
        primary.append(f"{ps.segment_id} ({ps.name}): {ps.why}")
    sections.append(primary)

    history = _table(
        f"Segment history ({len(e.history)})",
        "date",
        "change",
        "segment",
        "reason at entry",
        no_wrap=("date", "change", "segment"),
    )
    for h in e.history:
        history.add_row(h.at, h.transition, h.segment_id, h.reason_at_entry or "")
    sections.append(history if e.history else Text("Segment history: none."))
    return sections


def render(explanation: Explanation, file: IO[str] | None = None, width: int | None = None) -> Any:
    """Print the terminal view; returns the rich Console (record it to save an SVG)."""
    from rich.console import Console

    console = Console(file=file, width=width, highlight=False, record=True)
    for section in renderables(explanation):
        console.print(section)
        console.print()
    return console
