"""`audience report`: one self-contained HTML page of charts about the warehouse's segments.

The page reads the public marts (and the quality gates' verdict) with portable SQL, so it is
the same on DuckDB and PostgreSQL, and inlines plotly.js: it opens offline, from a file or an
e-mail attachment, and fetches nothing (a Content-Security-Policy forbids it).

Charts (each a `<section data-chart=ID>` holding `#chart-ID`; a "no data" note when empty):

- `segment-sizes`: members per segment after each build (report_segment_daily_changes)
- `segment-changes`: entries and exits per segment and build day (the same mart)
- `primary-flows`: a Sankey of primary segments between two builds (segment_membership_history)
- `score-distributions`: engagement, fit, intent and lead score histograms (contacts)
- `recency-buckets`: contacts per recency bucket (contacts)
- `segment-conversion`: segment entrants who went on to an opportunity or a won deal within
  the outcome window after entry (report_segment_conversion)
- `score-calibration`: conversion in the next 30 days by engagement-score decile
  (report_score_calibration)
- `quality-status`: the latest quality check of the build (quality.check_runs / check_results)
"""

from __future__ import annotations

import html
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from plotly.colors import qualitative

from audience.dbt import AS_OF_FORMAT
from audience.warehouse import Warehouse

#: the relations the report reads (schema.table)
RELATIONS: tuple[str, ...] = (
    "marts.contacts",
    "marts.segments",
    "marts.segment_membership",
    "marts.segment_membership_history",
    "marts.report_segment_daily_changes",
    "marts.report_segment_conversion",
    "marts.report_score_calibration",
    "quality.check_runs",
    "quality.check_results",
)
#: the chart ids, in page order
CHART_IDS: tuple[str, ...] = (
    "segment-sizes",
    "segment-changes",
    "primary-flows",
    "score-distributions",
    "recency-buckets",
    "segment-conversion",
    "score-calibration",
    "quality-status",
)
SCORES: tuple[str, ...] = ("engagement", "fit", "intent", "lead")
RECENCY_BUCKETS: tuple[str, ...] = (
    "hot",
    "active",
    "warm",
    "cooling",
    "lapsed",
    "dormant",
    "never",
)
RECENCY_COLORS: tuple[str, ...] = (
    "#b2182b",
    "#d6604d",
    "#f4a582",
    "#92c5de",
    "#4393c3",
    "#2166ac",
    "#9e9e9e",
)
#: the folder beside the report that `audience backtest` writes its pages to
BACKTESTS = "backtest"
#: flows compare the latest build with the last build at least this many days before it
FLOW_DAYS = 30
#: the Sankey shows this many segments; the others are one "other segments" node
FLOW_MAX_SEGMENTS = 12
#: the size and change charts show this many segments; the others are a legend click away
VISIBLE_SERIES = 8
NO_SEGMENT = "not in a segment"
OTHER_SEGMENTS = "other segments"
STATUS_COLORS = {"pass": "#2e7d32", "warn": "#f9a825", "fail": "#c62828"}
#: segment colors, by priority
PALETTE: tuple[str, ...] = (*qualitative.Dark24, *qualitative.Light24)


class ReportError(RuntimeError):
    """The report cannot be made (no built marts, an as_of after the latest build)."""


# --- what the page shows ----------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    segment_id: str
    name: str
    goal: str
    priority: int


@dataclass(frozen=True)
class DailyChange:
    segment_id: str
    day: date
    entries: int
    exits: int
    members: int


@dataclass(frozen=True)
class Flow:
    """Contacts whose primary segment was `source` at the window's start and `target` at its
    end (None: in no segment)."""

    source: str | None
    target: str | None
    contacts: int


@dataclass(frozen=True)
class ScoreBin:
    score: str
    low: int  # the bin is [low, low + 10); 90 holds 100
    identified: bool
    contacts: int


@dataclass(frozen=True)
class SegmentConversion:
    segment_id: str
    #: membership spells whose outcome window has passed (the rates' denominator)
    members: int
    with_opportunity: int
    with_won_deal: int
    opportunity_rate: float
    won_rate: float


@dataclass(frozen=True)
class CalibrationDecile:
    decile: int
    contacts: int
    min_score: float
    max_score: float
    converted: int
    conversion_rate: float


@dataclass(frozen=True)
class QualityResult:
    suite: str
    checked_at: datetime
    severity: str
    status: str  # pass, warn, fail
    description: str
    details: str


@dataclass
class ReportData:
    target: str
    #: the latest build of the marts (what the current-state charts show)
    built_as_of: datetime
    #: the end of the history charts (default: the build)
    as_of: datetime
    segments: list[Segment] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    daily_changes: list[DailyChange] = field(default_factory=list)
    flow_window: tuple[datetime, datetime] | None = None
    flows: list[Flow] = field(default_factory=list)
    score_bins: list[ScoreBin] = field(default_factory=list)
    recency: dict[str, int] = field(default_factory=dict)
    conversion: list[SegmentConversion] = field(default_factory=list)
    calibration: list[CalibrationDecile] = field(default_factory=list)
    quality: list[QualityResult] = field(default_factory=list)
    #: relations the report reads that the warehouse does not have
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportFile:
    path: Path
    bytes: int
    seconds: float

    def format_line(self) -> str:
        return f"report: {self.path} ({self.bytes / 1024:,.0f} KB, {self.seconds:.1f}s)"


# --- data shaping (pure functions) ------------------------------------------------------------


def flow_window(
    build_times: Iterable[datetime], days: int = FLOW_DAYS
) -> tuple[datetime, datetime] | None:
    """The two builds whose primary segments the Sankey compares: the latest build, and the
    latest build at least `days` before it (the earliest build when none is that old).
    None when the history holds fewer than two builds."""
    builds = sorted(set(build_times))
    if len(builds) < 2:
        return None
    end = builds[-1]
    older = [b for b in builds if b <= end - timedelta(days=days)]
    return (older[-1] if older else builds[0]), end


def size_series(
    changes: Sequence[DailyChange], last_day: date | None = None
) -> dict[str, list[tuple[date, int]]]:
    """Members per segment after each day it changed, carried on to `last_day` (the last
    build) so that every line reaches the end of the history."""
    series: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for change in sorted(changes, key=lambda c: (c.segment_id, c.day)):
        series[change.segment_id].append((change.day, change.members))
    end = last_day or max((c.day for c in changes), default=None)
    if end is not None:
        for points in series.values():
            if points[-1][0] < end:
                points.append((end, points[-1][1]))
    return dict(series)


def changes_after_first_build(changes: Sequence[DailyChange]) -> list[DailyChange]:
    """The entries and exits worth charting: on the history's first day every member
    "enters" (the history starts there), which would dwarf every later day."""
    if not changes:
        return []
    first = min(c.day for c in changes)
    return [c for c in changes if c.day > first and (c.entries or c.exits)]


@dataclass(frozen=True)
class SankeyData:
    """Plotly Sankey arrays: nodes (left column then right column) and links between them."""

    labels: list[str]
    node_keys: list[str]  # segment id, OTHER_SEGMENTS or NO_SEGMENT
    node_sides: list[str]  # "from" or "to"
    sources: list[int]
    targets: list[int]
    values: list[int]

    @property
    def total(self) -> int:
        return sum(self.values)


def sankey_data(
    flows: Sequence[Flow],
    segments: Sequence[Segment],
    max_segments: int = FLOW_MAX_SEGMENTS,
) -> SankeyData:
    """Nodes and links for flows between primary segments.

    The `max_segments` segments with the most contacts on either side keep their own node;
    the others share one "other segments" node. Contacts in no segment at one end are the
    "not in a segment" node. Each column lists segments by priority (the order that picks a
    primary segment), then "other segments", then "not in a segment". Flows from nowhere to
    nowhere, and empty flows, are dropped.
    """
    priority = {s.segment_id: (s.priority, s.segment_id) for s in segments}
    names = {s.segment_id: s.name for s in segments}
    volume: dict[str, int] = defaultdict(int)
    for flow in flows:
        for key in (flow.source, flow.target):
            if key is not None:
                volume[key] += flow.contacts
    ranked = sorted(volume, key=lambda k: (-volume[k], priority.get(k, (math.inf, k))))
    kept = set(ranked[:max_segments])

    def group(key: str | None) -> str:
        if key is None:
            return NO_SEGMENT
        return key if key in kept else OTHER_SEGMENTS

    links: dict[tuple[str, str], int] = defaultdict(int)
    for flow in flows:
        if flow.contacts <= 0 or (flow.source is None and flow.target is None):
            continue
        links[(group(flow.source), group(flow.target))] += flow.contacts

    def order(key: str) -> tuple[int, tuple[float, str]]:
        if key == NO_SEGMENT:
            return (2, (0, key))
        if key == OTHER_SEGMENTS:
            return (1, (0, key))
        return (0, priority.get(key, (math.inf, key)))

    index: dict[tuple[str, str], int] = {}
    labels: list[str] = []
    node_keys: list[str] = []
    node_sides: list[str] = []
    for side, position in (("from", 0), ("to", 1)):
        for key in sorted({pair[position] for pair in links}, key=order):
            index[(side, key)] = len(labels)
            labels.append(names.get(key, key))
            node_keys.append(key)
            node_sides.append(side)
    sources: list[int] = []
    targets: list[int] = []
    values: list[int] = []
    for (source, target), contacts in sorted(
        links.items(), key=lambda item: (order(item[0][0]), order(item[0][1]))
    ):
        sources.append(index[("from", source)])
        targets.append(index[("to", target)])
        values.append(contacts)
    return SankeyData(labels, node_keys, node_sides, sources, targets, values)


def score_histograms(bins: Sequence[ScoreBin]) -> dict[str, dict[bool, list[int]]]:
    """Contacts per 10-point bin (0-9, 10-19, ..., 90-100) per score and identified flag."""
    counts: dict[str, dict[bool, list[int]]] = {
        score: {True: [0] * 10, False: [0] * 10} for score in SCORES
    }
    for item in bins:
        if item.score not in counts:
            continue
        slot = min(max(item.low // 10, 0), 9)
        counts[item.score][item.identified][slot] += item.contacts
    return counts


# --- reading the warehouse --------------------------------------------------------------------


def _number(value: Any) -> float:
    """A float from a DuckDB double or a PostgreSQL numeric (Decimal); 0 for null."""
    return 0.0 if value is None else float(value)


def _count(value: Any) -> int:
    return int(value or 0)


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value))


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def existing_relations(warehouse: Warehouse) -> set[str]:
    rows = warehouse.query(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('marts', 'quality')"
    )
    return {f"{schema}.{name}" for schema, name in rows}


def latest_build(warehouse: Warehouse) -> datetime:
    rows = warehouse.query("select max(as_of) from marts.contacts")
    if not rows or rows[0][0] is None:
        raise ReportError("marts.contacts is empty: build the warehouse (`audience run`) first")
    return _timestamp(rows[0][0])


PRIMARY_AT_SQL = """
    select
        history.contact_key,
        history.segment_id,
        row_number() over (
            partition by history.contact_key
            order by segments.priority, history.segment_id
        ) as segment_rank
    from marts.segment_membership_history as history
    inner join marts.segments as segments on history.segment_id = segments.segment_id
    where history.valid_from <= cast(? as timestamp)
        and (history.valid_to is null or history.valid_to > cast(? as timestamp))
"""

FLOWS_SQL = f"""
with

primary_before as ({PRIMARY_AT_SQL}),

primary_after as ({PRIMARY_AT_SQL}),

before_build as (select contact_key, segment_id from primary_before where segment_rank = 1),

after_build as (select contact_key, segment_id from primary_after where segment_rank = 1)

select
    before_build.segment_id as source_segment_id,
    after_build.segment_id as target_segment_id,
    count(*) as contacts
from before_build
full outer join after_build on before_build.contact_key = after_build.contact_key
group by before_build.segment_id, after_build.segment_id
"""

BUILDS_SQL = """
select valid_from as built_at
from marts.segment_membership_history
where valid_from <= cast(? as timestamp)
union
select valid_to as built_at
from marts.segment_membership_history
where valid_to is not null and valid_to <= cast(? as timestamp)
"""

SCORE_BINS_SQL = " union all ".join(
    f"""
select
    '{score}' as score,
    cast(floor({score}_score / 10) as integer) * 10 as low,
    is_identified,
    count(*) as contacts
from marts.contacts
where {score}_score is not null
group by cast(floor({score}_score / 10) as integer) * 10, is_identified
"""
    for score in SCORES
)

QUALITY_SQL = """
with

runs as (
    select
        check_runs.run_id,
        check_runs.checked_at,
        check_results.suite,
        check_results.severity,
        check_results.status,
        check_results.description,
        check_results.details
    from quality.check_runs as check_runs
    inner join quality.check_results as check_results
        on check_runs.run_id = check_results.run_id
    where check_runs.as_of = cast(? as timestamp)
),

latest as (
    select
        suite,
        max(checked_at) as checked_at
    from runs
    group by suite
)

select
    runs.suite,
    runs.checked_at,
    runs.severity,
    runs.status,
    runs.description,
    runs.details
from runs
inner join latest on runs.suite = latest.suite and runs.checked_at = latest.checked_at
order by runs.suite, runs.description
"""


def collect(
    warehouse: Warehouse, as_of: datetime | None = None, *, flow_days: int = FLOW_DAYS
) -> ReportData:
    """Read everything the page shows. `as_of` ends the history charts (default: the latest
    build); the current-state charts always show the latest build."""
    have = existing_relations(warehouse)
    if "marts.contacts" not in have:
        raise ReportError(
            "the warehouse has no marts.contacts: build it (`audience run`) before the report"
        )
    built = latest_build(warehouse)
    until = as_of or built
    if until > built:
        raise ReportError(
            f"as_of {until:{AS_OF_FORMAT}} is after the latest build ({built:{AS_OF_FORMAT}}): "
            "the warehouse knows nothing after its build"
        )
    data = ReportData(target=warehouse.target, built_as_of=built, as_of=until)
    data.missing = [r for r in RELATIONS if r not in have]
    at = until.strftime(AS_OF_FORMAT)

    if "marts.segments" in have:
        data.segments = [
            Segment(str(i), str(n or i), str(g or ""), int(p if p is not None else 999))
            for i, n, g, p in warehouse.query(
                "select segment_id, name, goal, priority from marts.segments "
                "order by priority, segment_id"
            )
        ]

    identified, contacts = warehouse.query(
        "select sum(case when is_identified then 1 else 0 end), count(*) from marts.contacts"
    )[0]
    data.totals = {"contacts": _count(contacts), "identified": _count(identified)}
    if "marts.segment_membership" in have:
        memberships, in_segments, segments_used = warehouse.query(
            "select count(*), count(distinct contact_key), count(distinct segment_id) "
            "from marts.segment_membership"
        )[0]
        data.totals |= {
            "memberships": _count(memberships),
            "contacts_in_segments": _count(in_segments),
            "segments_with_members": _count(segments_used),
        }

    if "marts.report_segment_daily_changes" in have:
        data.daily_changes = [
            DailyChange(str(s), _day(d), _count(n), _count(x), _count(m))
            for s, d, n, x, m in warehouse.query(
                "select segment_id, change_date, entries, exits, members_at_end_of_day "
                "from marts.report_segment_daily_changes "
                "where change_date <= cast(? as date) "
                "order by segment_id, change_date",
                (until.date().isoformat(),),
            )
        ]

    if {"marts.segment_membership_history", "marts.segments"} <= have:
        builds = [_timestamp(r[0]) for r in warehouse.query(BUILDS_SQL, (at, at))]
        data.flow_window = flow_window(builds, flow_days)
        if data.flow_window is not None:
            start, end = (t.strftime(AS_OF_FORMAT) for t in data.flow_window)
            data.flows = [
                Flow(
                    None if s is None else str(s),
                    None if t is None else str(t),
                    _count(n),
                )
                for s, t, n in warehouse.query(FLOWS_SQL, (start, start, end, end))
            ]

    data.score_bins = [
        ScoreBin(str(score), int(low), bool(ident), _count(n))
        for score, low, ident, n in warehouse.query(SCORE_BINS_SQL)
    ]
    data.recency = {
        str(bucket): _count(n)
        for bucket, n in warehouse.query(
            "select recency_bucket, count(*) from marts.contacts group by recency_bucket"
        )
    }

    if "marts.report_segment_conversion" in have:
        data.conversion = [
            SegmentConversion(str(s), _count(m), _count(o), _count(w), _number(r1), _number(r2))
            for s, m, o, w, r1, r2 in warehouse.query(
                "select segment_id, matured_entrants, entrants_with_opportunity, "
                "entrants_with_won_deal, opportunity_rate, won_rate "
                "from marts.report_segment_conversion"
            )
        ]
    if "marts.report_score_calibration" in have:
        data.calibration = [
            CalibrationDecile(int(d), _count(n), _number(lo), _number(hi), _count(c), _number(r))
            for d, n, lo, hi, c, r in warehouse.query(
                "select score_decile, contacts, min_score, max_score, converted, "
                "conversion_rate from marts.report_score_calibration order by score_decile"
            )
        ]
    if {"quality.check_runs", "quality.check_results"} <= have:
        data.quality = [
            QualityResult(str(s), _timestamp(c), str(sev), str(st), str(d or ""), str(x or ""))
            for s, c, sev, st, d, x in warehouse.query(QUALITY_SQL, (built.strftime(AS_OF_FORMAT),))
        ]
    return data


# --- charts -----------------------------------------------------------------------------------


@dataclass
class Chart:
    chart_id: str
    title: str
    caption: str
    figure: Any | None  # a plotly Figure; None when there is nothing to draw
    empty_note: str = ""
    extra_html: str = ""
    wide: bool = False
    mode_bar: bool = True  # plotly's zoom / download buttons


def segment_colors(segments: Sequence[Segment]) -> dict[str, str]:
    """One color per segment, by priority, the same in every chart."""
    ordered = sorted(segments, key=lambda s: (s.priority, s.segment_id))
    colors = {s.segment_id: PALETTE[i % len(PALETTE)] for i, s in enumerate(ordered)}
    colors[OTHER_SEGMENTS] = "#b0b0b0"
    colors[NO_SEGMENT] = "#d9d9d9"
    return colors


def _rgba(color: str, alpha: float) -> str:
    value = color.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _layout(**extra: Any) -> dict[str, Any]:
    return {
        "template": "plotly_white",
        "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
        "legend": {"font": {"size": 11}},
        **extra,
    }


def _names(data: ReportData) -> dict[str, str]:
    return {s.segment_id: s.name for s in data.segments}


def _visible_segments(changes: Sequence[DailyChange], count: int) -> set[str]:
    latest: dict[str, tuple[date, int]] = {}
    for c in changes:
        if c.segment_id not in latest or c.day > latest[c.segment_id][0]:
            latest[c.segment_id] = (c.day, c.members)
    ranked = sorted(latest, key=lambda s: (-latest[s][1], s))
    return set(ranked[:count])


def _missing_note(data: ReportData, relation: str) -> str | None:
    if relation in data.missing:
        return f"{relation} is not in the warehouse."
    return None


def chart_segment_sizes(data: ReportData) -> Chart:
    import plotly.graph_objects as go

    chart = Chart(
        "segment-sizes",
        "Segment sizes over time",
        "Members of each segment after every build that changed it (membership history). "
        f"The {VISIBLE_SERIES} largest are shown; click a legend entry for the others.",
        None,
        wide=True,
    )
    note = _missing_note(data, "marts.report_segment_daily_changes")
    if note or not data.daily_changes:
        chart.empty_note = note or "No membership history yet: no build has had members."
        return chart
    names, colors = _names(data), segment_colors(data.segments)
    last = max(c.day for c in data.daily_changes)
    series = size_series(data.daily_changes, last)
    if len({c.day for c in data.daily_changes}) == 1:
        return _single_build_sizes(chart, series, names, colors, last)
    visible = _visible_segments(data.daily_changes, VISIBLE_SERIES)
    figure = go.Figure()
    order = {s.segment_id: (s.priority, s.segment_id) for s in data.segments}
    for segment_id in sorted(series, key=lambda s: order.get(s, (999, s))):
        points = series[segment_id]
        figure.add_trace(
            go.Scatter(
                x=[d for d, _ in points],
                y=[m for _, m in points],
                name=names.get(segment_id, segment_id),
                mode="lines+markers",
                line={"shape": "hv", "color": colors.get(segment_id)},
                marker={"size": 5},
                visible=True if segment_id in visible else "legendonly",
                hovertemplate="%{x|%Y-%m-%d}: %{y} members<extra>" + segment_id + "</extra>",
            )
        )
    figure.update_layout(
        **_layout(height=420, yaxis_title="members", hovermode="closest"),
    )
    chart.figure = figure
    return chart


def _single_build_sizes(
    chart: Chart,
    series: dict[str, list[tuple[date, int]]],
    names: dict[str, str],
    colors: dict[str, str],
    day: date,
) -> Chart:
    """One build so far: a line per segment would be a dot; a bar per segment instead."""
    import plotly.graph_objects as go

    sizes = sorted(((points[-1][1], s) for s, points in series.items() if points[-1][1]))
    chart.caption = (
        f"Members of each segment at the history's only build so far ({day:%Y-%m-%d}); "
        "the next builds make this a line per segment."
    )
    figure = go.Figure(
        go.Bar(
            y=[names.get(s, s) for _, s in sizes],
            x=[n for n, _ in sizes],
            orientation="h",
            marker_color=[colors.get(s, "#888888") for _, s in sizes],
            text=[n for n, _ in sizes],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x} members<extra></extra>",
        )
    )
    figure.update_layout(
        **_layout(
            height=max(300, 60 + 22 * len(sizes)),
            xaxis_title="members",
            margin={"l": 220, "r": 40, "t": 20, "b": 50},
        )
    )
    chart.figure = figure
    return chart


def chart_segment_changes(data: ReportData) -> Chart:
    import plotly.graph_objects as go

    chart = Chart(
        "segment-changes",
        "Daily entries and exits",
        "Contacts entering (up) and leaving (down) each segment, per build day. The history's "
        "first day, when every member enters, is left out.",
        None,
        wide=True,
    )
    note = _missing_note(data, "marts.report_segment_daily_changes")
    changes = changes_after_first_build(data.daily_changes)
    if note or not changes:
        chart.empty_note = note or (
            "No entries or exits yet: they need at least two builds in the membership history."
        )
        return chart
    names, colors = _names(data), segment_colors(data.segments)
    visible = _visible_segments(data.daily_changes, VISIBLE_SERIES)
    order = {s.segment_id: (s.priority, s.segment_id) for s in data.segments}
    by_segment: dict[str, list[DailyChange]] = defaultdict(list)
    for c in changes:
        by_segment[c.segment_id].append(c)
    figure = go.Figure()
    for segment_id in sorted(by_segment, key=lambda s: order.get(s, (999, s))):
        rows = sorted(by_segment[segment_id], key=lambda c: c.day)
        shown = True if segment_id in visible else "legendonly"
        name = names.get(segment_id, segment_id)
        color = colors.get(segment_id)
        figure.add_trace(
            go.Bar(
                x=[c.day for c in rows],
                y=[c.entries for c in rows],
                name=name,
                legendgroup=segment_id,
                marker_color=color,
                visible=shown,
                hovertemplate="%{x|%Y-%m-%d}: %{y} entered<extra>" + segment_id + "</extra>",
            )
        )
        figure.add_trace(
            go.Bar(
                x=[c.day for c in rows],
                y=[-c.exits for c in rows],
                name=name,
                legendgroup=segment_id,
                showlegend=False,
                marker={"color": color, "opacity": 0.55},
                visible=shown,
                customdata=[c.exits for c in rows],
                hovertemplate="%{x|%Y-%m-%d}: %{customdata} exited<extra>"
                + segment_id
                + "</extra>",
            )
        )
    figure.update_layout(
        **_layout(height=420, barmode="relative", yaxis_title="entries (+) / exits (-)"),
    )
    chart.figure = figure
    return chart


def chart_primary_flows(data: ReportData) -> Chart:
    import plotly.graph_objects as go

    chart = Chart(
        "primary-flows",
        "Flows between primary segments",
        "Each contact's primary segment (the highest-priority segment they are in) at an "
        f"earlier build (left; the last one at least {FLOW_DAYS} days back, else the first) "
        "and at the latest build (right).",
        None,
        wide=True,
        mode_bar=False,
    )
    note = _missing_note(data, "marts.segment_membership_history")
    if note or data.flow_window is None:
        chart.empty_note = note or (
            "No flows yet: the membership history needs at least two builds."
        )
        return chart
    sankey = sankey_data(data.flows, data.segments)
    start, end = data.flow_window
    chart.caption += f" From {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}."
    if not sankey.values:
        chart.empty_note = "No contact was in a segment at either build."
        return chart
    colors = segment_colors(data.segments)
    node_colors = [colors.get(k, "#888888") for k in sankey.node_keys]
    when = {"from": f"{start:%Y-%m-%d}", "to": f"{end:%Y-%m-%d}"}
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": sankey.labels,
                "color": node_colors,
                "pad": 12,
                "thickness": 16,
                "line": {"width": 0},
                "customdata": [when[side] for side in sankey.node_sides],
                "hovertemplate": "%{label} on %{customdata}: %{value} contacts<extra></extra>",
            },
            link={
                "source": sankey.sources,
                "target": sankey.targets,
                "value": sankey.values,
                "color": [_rgba(node_colors[s], 0.3) for s in sankey.sources],
                "hovertemplate": "%{source.label} → %{target.label}: %{value}<extra></extra>",
            },
        )
    )
    figure.update_layout(**_layout(height=560, margin={"l": 10, "r": 10, "t": 30, "b": 10}))
    figure.add_annotation(
        x=0, y=1.05, xref="paper", yref="paper", showarrow=False, text=when["from"]
    )
    figure.add_annotation(x=1, y=1.05, xref="paper", yref="paper", showarrow=False, text=when["to"])
    chart.figure = figure
    return chart


def chart_score_distributions(data: ReportData) -> Chart:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    chart = Chart(
        "score-distributions",
        "Score distributions",
        "Contacts per 10-point band of each score, identified contacts and anonymous-only "
        "visitors stacked (anonymous visitors have no firmographics: their fit is 0).",
        None,
        wide=True,
    )
    if not data.score_bins:
        chart.empty_note = "No contacts in marts.contacts."
        return chart
    counts = score_histograms(data.score_bins)
    labels = [f"{low}-{low + 9 if low < 90 else 100}" for low in range(0, 100, 10)]
    figure = make_subplots(rows=1, cols=len(SCORES), subplot_titles=[f"{s} score" for s in SCORES])
    for column, score in enumerate(SCORES, start=1):
        for identified, color, name in (
            (True, "#1f77b4", "identified"),
            (False, "#aec7e8", "anonymous only"),
        ):
            figure.add_trace(
                go.Bar(
                    x=labels,
                    y=counts[score][identified],
                    name=name,
                    legendgroup=name,
                    showlegend=column == 1,
                    marker_color=color,
                    hovertemplate=score + " %{x}: %{y} contacts<extra>" + name + "</extra>",
                ),
                row=1,
                col=column,
            )
    figure.update_layout(
        **_layout(
            height=360,
            barmode="stack",
            bargap=0.05,
            margin={"l": 60, "r": 20, "t": 60, "b": 60},
            legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.22},
        )
    )
    figure.update_xaxes(tickangle=-45, tickfont={"size": 9})
    chart.figure = figure
    return chart


def chart_recency(data: ReportData) -> Chart:
    import plotly.graph_objects as go

    chart = Chart(
        "recency-buckets",
        "Recency buckets",
        "Contacts by the age of their last meaningful activity (web, human open, click).",
        None,
    )
    if not any(data.recency.values()):
        chart.empty_note = "No contacts in marts.contacts."
        return chart
    buckets = [b for b in RECENCY_BUCKETS if b in data.recency] + sorted(
        b for b in data.recency if b not in RECENCY_BUCKETS
    )
    palette = dict(zip(RECENCY_BUCKETS, RECENCY_COLORS, strict=True))
    figure = go.Figure(
        go.Bar(
            x=buckets,
            y=[data.recency[b] for b in buckets],
            marker_color=[palette.get(b, "#9e9e9e") for b in buckets],
            text=[data.recency[b] for b in buckets],
            textposition="outside",
            hovertemplate="%{x}: %{y} contacts<extra></extra>",
        )
    )
    figure.update_layout(**_layout(height=340, yaxis_title="contacts"))
    chart.figure = figure
    return chart


def chart_segment_conversion(data: ReportData) -> Chart:
    import plotly.graph_objects as go

    chart = Chart(
        "segment-conversion",
        "Conversion by segment",
        "Share of each segment's entrants (membership spells whose outcome window has passed) "
        "whose account opened an opportunity, or won a deal, within the window after entry.",
        None,
    )
    note = _missing_note(data, "marts.report_segment_conversion")
    rows = [r for r in data.conversion if r.members > 0]
    if note or not rows:
        chart.empty_note = note or (
            "No segment has entrants whose outcome window has passed yet: the membership "
            "history is shorter than the window (var reports__outcome_window_days)."
        )
        return chart
    names = _names(data)
    rows.sort(key=lambda r: (r.opportunity_rate, r.won_rate, r.members, r.segment_id))
    labels = [names.get(r.segment_id, r.segment_id) for r in rows]
    figure = go.Figure()
    for label, values, counts, color in (
        ("opportunity", [r.opportunity_rate for r in rows], [r.with_opportunity for r in rows],
         "#4393c3"),
        ("won deal", [r.won_rate for r in rows], [r.with_won_deal for r in rows], "#2e7d32"),
    ):  # fmt: skip
        figure.add_trace(
            go.Bar(
                y=labels,
                x=values,
                name=label,
                orientation="h",
                marker_color=color,
                text=[f"{n}/{r.members}" for n, r in zip(counts, rows, strict=True)],
                textposition="outside",
                textfont={"size": 9},
                cliponaxis=False,
                hovertemplate="%{y}: %{x:.1%} (%{text} entrants)<extra>" + label + "</extra>",
            )
        )
    highest = max(max(r.opportunity_rate, r.won_rate) for r in rows)
    figure.update_layout(
        **_layout(
            height=max(300, 60 + 26 * len(rows)),
            barmode="group",
            xaxis={
                "tickformat": ".0%",
                "title": "share of entrants",
                "range": [0, max(highest * 1.2, 0.05)],
            },
            margin={"l": 190, "r": 30, "t": 20, "b": 50},
        )
    )
    chart.figure = figure
    return chart


def chart_score_calibration(data: ReportData) -> Chart:
    import plotly.graph_objects as go

    chart = Chart(
        "score-calibration",
        "Conversion by engagement-score decile",
        "Held out: the 30 days before the build. Contacts that could convert then (identified, "
        "seen, not converted and not customers before it), by decile of their engagement "
        "score as of its start, and the share that converted (form, demo, trial or deal) in "
        "it: a useful score converts more in higher deciles.",
        None,
    )
    note = _missing_note(data, "marts.report_score_calibration")
    if note or not data.calibration:
        chart.empty_note = note or "No contact was eligible (identified, not yet converted)."
        return chart
    rows = data.calibration
    figure = go.Figure(
        go.Bar(
            x=[f"D{r.decile}" for r in rows],
            y=[r.conversion_rate for r in rows],
            marker_color="#756bb1",
            text=[f"{r.converted}/{r.contacts}" for r in rows],
            textposition="outside",
            customdata=[[r.min_score, r.max_score, r.converted, r.contacts] for r in rows],
            hovertemplate="%{x} (score %{customdata[0]:.1f}-%{customdata[1]:.1f}): "
            "%{y:.1%} converted (%{customdata[2]} of %{customdata[3]})<extra></extra>",
        )
    )
    figure.update_layout(
        **_layout(
            height=340,
            yaxis={"tickformat": ".0%", "title": "converted in 30 days"},
            xaxis_title="engagement-score decile (30 days before)",
        )
    )
    chart.figure = figure
    return chart


def quality_verdict(results: Sequence[QualityResult]) -> str:
    """passed, warnings, failed, or not checked."""
    if not results:
        return "not checked"
    statuses = {r.status for r in results}
    if "fail" in statuses:
        return "failed"
    return "warnings" if "warn" in statuses else "passed"


def chart_quality(data: ReportData) -> Chart:
    import plotly.graph_objects as go

    chart = Chart(
        "quality-status",
        "Data quality",
        "The latest result of each quality suite (`audience check`) for this build.",
        None,
    )
    if not data.quality:
        missing = "quality.check_runs" in data.missing
        chart.empty_note = (
            "No quality check has run on this warehouse: run `audience check`."
            if missing
            else f"No quality check has run for the build of {data.built_as_of:{AS_OF_FORMAT}}: "
            "run `audience check`."
        )
        return chart
    suites = sorted({r.suite for r in data.quality}, reverse=True)
    counts = {
        status: [
            sum(1 for r in data.quality if r.suite == s and r.status == status) for s in suites
        ]
        for status in ("pass", "warn", "fail")
    }
    figure = go.Figure()
    for status, values in counts.items():
        figure.add_trace(
            go.Bar(
                y=suites,
                x=values,
                name=status,
                orientation="h",
                marker_color=STATUS_COLORS[status],
                hovertemplate="%{y}: %{x} " + status + "<extra></extra>",
            )
        )
    figure.update_layout(
        **_layout(
            height=max(240, 60 + 32 * len(suites)),
            barmode="stack",
            xaxis_title="expectations",
            margin={"l": 160, "r": 20, "t": 20, "b": 50},
        )
    )
    chart.figure = figure
    checked = max(r.checked_at for r in data.quality)
    verdict = quality_verdict(data.quality)
    problems = [r for r in data.quality if r.status != "pass"]
    rows = "".join(
        f'<tr class="status-{r.status}"><td>{r.status}</td><td>{html.escape(r.suite)}</td>'
        f"<td>{html.escape(r.description)}</td><td>{html.escape(r.details[:300])}</td></tr>"
        for r in sorted(problems, key=lambda r: (r.status != "fail", r.suite, r.description))
    )
    table = (
        f"<table class='problems'><tr><th>status</th><th>suite</th><th>expectation</th>"
        f"<th>details</th></tr>{rows}</table>"
        if problems
        else ""
    )
    chart.extra_html = (
        f'<p class="verdict verdict-{verdict.replace(" ", "-")}">Verdict: <b>{verdict}</b>, '
        f"{len(data.quality)} expectations, {len(problems)} not passing "
        f"(checked {checked:%Y-%m-%d %H:%M} UTC).</p>{table}"
    )
    return chart


def charts(data: ReportData) -> list[Chart]:
    built = [
        chart_segment_sizes(data),
        chart_segment_changes(data),
        chart_primary_flows(data),
        chart_score_distributions(data),
        chart_recency(data),
        chart_score_calibration(data),
        chart_segment_conversion(data),
        chart_quality(data),
    ]
    by_id = {c.chart_id: c for c in built}
    return [by_id[i] for i in CHART_IDS]


# --- the page ---------------------------------------------------------------------------------

STYLE = """
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1d2330;
       font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { background: #1d2330; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; }
header p { margin: 0; color: #c8cdd8; font-size: 13px; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; padding: 16px 28px 0; }
.kpi { background: #fff; border-radius: 8px; padding: 10px 16px; min-width: 150px;
       box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.kpi b { display: block; font-size: 20px; }
.kpi span { font-size: 12px; color: #5b6475; }
main { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px;
       padding: 16px 28px 28px; }
section.panel { background: #fff; border-radius: 8px; padding: 14px 18px;
                box-shadow: 0 1px 2px rgba(0,0,0,.08); min-width: 0; }
section.wide { grid-column: 1 / -1; }
section h2 { margin: 0 0 4px; font-size: 16px; }
p.caption { margin: 0 0 8px; font-size: 12px; color: #5b6475; }
div.no-data { padding: 36px 12px; text-align: center; color: #5b6475; background: #fafafa;
              border: 1px dashed #d0d4dc; border-radius: 6px; font-size: 14px; }
p.verdict { font-size: 13px; margin: 8px 0; }
.verdict-passed b { color: #2e7d32; } .verdict-warnings b { color: #b28704; }
.verdict-failed b, .verdict-not-checked b { color: #c62828; }
table.problems { border-collapse: collapse; width: 100%; font-size: 12px; }
table.problems th, table.problems td { text-align: left; padding: 4px 6px;
                                       border-bottom: 1px solid #eceef2; vertical-align: top; }
tr.status-fail td:first-child { color: #c62828; font-weight: 600; }
tr.status-warn td:first-child { color: #b28704; font-weight: 600; }
footer { padding: 0 28px 20px; font-size: 12px; color: #5b6475; }
"""

#: nothing may be fetched: scripts and styles are inline, images are data: URIs
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)


def _figure_html(chart: Chart) -> str:
    import plotly.io as pio

    return str(
        pio.to_html(
            chart.figure,
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{chart.chart_id}",
            config={
                "displaylogo": False,
                "responsive": True,
                "displayModeBar": "hover" if chart.mode_bar else False,
            },
        )
    )


def _section(chart: Chart) -> str:
    state = "ok" if chart.figure is not None else "empty"
    body = (
        _figure_html(chart)
        if chart.figure is not None
        else f'<div class="no-data" id="chart-{chart.chart_id}">{html.escape(chart.empty_note)}'
        "</div>"
    )
    classes = "panel wide" if chart.wide else "panel"
    return (
        f'<section class="{classes}" id="panel-{chart.chart_id}" '
        f'data-chart="{chart.chart_id}" data-state="{state}">'
        f"<h2>{html.escape(chart.title)}</h2>"
        f'<p class="caption">{html.escape(chart.caption)}</p>{body}{chart.extra_html}</section>'
    )


def _kpis(data: ReportData) -> str:
    totals = data.totals
    items = [
        (f"{totals.get('contacts', 0):,}", "contacts"),
        (f"{totals.get('identified', 0):,}", "identified"),
        (f"{totals.get('contacts_in_segments', 0):,}", "contacts in a segment"),
        (f"{totals.get('memberships', 0):,}", "memberships"),
        (
            f"{totals.get('segments_with_members', 0)} / {len(data.segments)}",
            "segments with members",
        ),
        (quality_verdict(data.quality), "quality gates"),
    ]
    return "".join(
        f'<div class="kpi" data-kpi="{html.escape(label)}"><b>{html.escape(value)}</b>'
        f"<span>{html.escape(label)}</span></div>"
        for value, label in items
    )


def _backtest_links(pages: Sequence[str]) -> str:
    """Links to the segment backtests (`audience backtest`) written beside the report."""
    if not pages:
        return ""
    items = "".join(
        f'<li><a href="{html.escape(page)}">{html.escape(Path(page).stem)}</a></li>'
        for page in pages
    )
    return f'<nav data-backtests="{len(pages)}"><h2>Segment backtests</h2><ul>{items}</ul></nav>'


def render(
    data: ReportData, *, generated_at: datetime | None = None, backtests: Sequence[str] = ()
) -> str:
    """The whole page: plotly.js inlined once, then one section per chart (and links to the
    `backtests` pages, relative to the page)."""
    from plotly.offline import get_plotlyjs

    generated = generated_at or datetime.now(UTC)
    history = (
        "" if data.as_of == data.built_as_of else f"; history up to {data.as_of:{AS_OF_FORMAT}}"
    )
    missing = (
        f"<footer>Not in this warehouse: {html.escape(', '.join(data.missing))}.</footer>"
        if data.missing
        else ""
    )
    sections = "\n".join(_section(chart) for chart in charts(data))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Audience report as of {data.built_as_of:{AS_OF_FORMAT}}</title>
<style>{STYLE}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body data-target="{data.target}" data-as-of="{data.built_as_of:{AS_OF_FORMAT}}">
<header>
<h1>Audience report</h1>
<p>Build as of {data.built_as_of:{AS_OF_FORMAT}} UTC on {data.target}{history}.
Generated {generated:%Y-%m-%d %H:%M} UTC.</p>
</header>
<div class="kpis">{_kpis(data)}</div>
{_backtest_links(backtests)}
<main>
{sections}
</main>
{missing}
</body>
</html>
"""


def write_report(
    warehouse: Warehouse,
    path: Path,
    as_of: datetime | None = None,
    *,
    flow_days: int = FLOW_DAYS,
) -> ReportFile:
    """Read the warehouse and write the page to `path`."""
    started = time.perf_counter()
    # the pages `audience backtest` wrote beside it (output/backtest/SEGMENT.html)
    backtests = sorted(
        p.relative_to(path.parent).as_posix() for p in path.parent.glob(f"{BACKTESTS}/*.html")
    )
    page = render(collect(warehouse, as_of, flow_days=flow_days), backtests=backtests)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return ReportFile(path, len(page.encode("utf-8")), round(time.perf_counter() - started, 3))
