"""`audience backtest`: what a segment would have contained at each instant of a period.

The segment is replayed on a COPY of the DuckDB warehouse (the real one is only read, its
membership history and the destinations are untouched), with the project's own SQL: at each
instant, in order, dbt builds as of that instant the models between the staging layer and
the segment (identity, the event tables, features, scores, the segment model,
segment_membership) and the copy's membership snapshot. The staging layer reads no `as_of`
(every window starts downstream of it), so it is read as it is; the event-level incremental
models rebuild what lies after the instant on the first one ("holds rows later than as_of")
and then move forward one window at a time, as the daily builds did. Before the first
instant the copy's membership history is cut back to its state before the period, so each
instant sees the spells the replay itself left (entered_at, exit thresholds, dwell times)
exactly as a real build as of that instant would have.

The project is parsed once per tree and every instant reuses that parse (`as_of` is only
read when SQL is compiled): an instant costs the SQL of the models on the segment's path.

The same replay runs on the base ref's tree (like `audience diff --base`) when the segment,
a model on its path or a macro differs there. What entrants did next (an opportunity, a won
deal, an order, an unsubscribe within the outcome window) is counted by the project's
segment_outcomes macro on the spells the replay wrote, and for all contacts alike.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

from audience import dbt_cached
from audience.dbt import AS_OF_FORMAT, run_dbt
from audience.diff import DiffError, _copy_warehouse, changed_models, export_base, segment_names
from audience.project import duckdb_path, environment, project_dir, target_dir

#: the membership history the replay writes in its copy (and cuts back first)
SNAPSHOT = "snapshots.segment_membership_snapshot"
SNAPSHOT_NODE = "segment_membership_snapshot"
#: what every instant builds beside the segment's own path
MEMBERSHIP_MODEL = "segment_membership"
#: the models the outcome macro reads that may lie off the segment's path
OUTCOME_MODELS = ("segment_membership_history", "int_email_suppression_events")
#: the layer that reads no `as_of`: read as it is, never rebuilt
AS_OF_FREE_LAYERS = frozenset({"staging"})
EVERY = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
OUTCOMES = ("opportunity", "won_deal", "order", "unsubscribe")
#: the timestamp type, as the project spells it (dbt's cross-database macro)
TIMESTAMP = "{{ dbt.type_timestamp() }}"
#: what a replay reports its progress to (a line per instant)
Progress = Callable[[str], None]


class BacktestError(RuntimeError):
    """The segment is unknown, the period is empty, or the replay could not be built."""


# --- the period --------------------------------------------------------------------------


def parse_every(text: str) -> timedelta:
    """`1d`, `12h`, `1w`: the step between instants."""
    match = EVERY.match(text)
    if not match or int(match.group(1)) == 0:
        raise BacktestError(f"--every {text!r}: give a number of hours, days or weeks (1d, 12h)")
    return int(match.group(1)) * UNITS[match.group(2)]


def instants(end: datetime, days: int, every: timedelta) -> list[datetime]:
    """The instants of the period of `days` days that ends at `end`, oldest first, `every`
    apart and ending at `end` (the first is after the period's start)."""
    if days <= 0:
        raise BacktestError("--days must be at least 1")
    start = end - timedelta(days=days)
    found: list[datetime] = []
    at = end
    while at > start:
        found.append(at)
        at -= every
    return found[::-1]


# --- what the replay builds ----------------------------------------------------------------


def _layer(node: Any) -> str:
    return node.fqn[1] if len(node.fqn) > 1 else ""


def _ancestors(manifest: Any, starts: Iterable[str], *, other_segments: bool) -> set[str]:
    """The models `starts` (unique ids) and the models upstream of them, less the staging
    layer and, unless `other_segments`, the segment models among the parents."""
    picked: set[str] = set()
    todo = list(starts)
    first = set(todo)
    while todo:
        uid = todo.pop()
        node = manifest.nodes.get(uid)
        if uid in picked or node is None or node.resource_type != "model":
            continue
        if _layer(node) in AS_OF_FREE_LAYERS:
            continue
        if not other_segments and _layer(node) == "segments" and uid not in first:
            continue
        picked.add(uid)
        todo.extend(manifest.parent_map.get(uid, []))
    return picked


def path_models(manifest: Any, names: Iterable[str], segment: str) -> list[str]:
    """The models `names` and every model upstream of them that reads as_of: the ancestors,
    less the staging layer (as_of-free) and the other segments' models (their rows are not
    read back: segment_membership computes each segment from its own model), unless the
    segment itself reads one."""
    by_name = {
        node.name: uid for uid, node in manifest.nodes.items() if node.resource_type == "model"
    }
    names = list(names)
    missing = [name for name in names if name not in by_name]
    if missing:
        raise BacktestError(f"no model named {', '.join(missing)} in this project")
    picked = _ancestors(manifest, [by_name[n] for n in names], other_segments=False)
    if segment in by_name:
        picked |= _ancestors(manifest, [by_name[segment]], other_segments=True)
    return sorted(manifest.nodes[uid].name for uid in picked)


def segment_models(manifest: Any) -> set[str]:
    return {
        node.name
        for node in manifest.nodes.values()
        if node.resource_type == "model" and _layer(node) == "segments"
    }


def cut_history(warehouse: Path, start: datetime) -> int:
    """Put the copy's membership history back to its state before `start`: spells that
    began at or after it removed, spells that ended at or after it open again, the instants
    from it on forgotten. Returns the instants forgotten."""
    con = duckdb.connect(str(warehouse))
    try:
        held = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        if SNAPSHOT not in held:
            return 0
        at = start.strftime(AS_OF_FORMAT)
        con.execute(f"delete from {SNAPSHOT} where dbt_valid_from >= cast(? as timestamp)", [at])
        con.execute(
            f"update {SNAPSHOT} set dbt_valid_to = null where dbt_valid_to >= cast(? as timestamp)",
            [at],
        )
        builds = f"{SNAPSHOT}__builds"
        if builds not in held:
            return 0
        (forgotten,) = con.execute(
            f"select count(*) from {builds} where built_as_of >= cast(? as timestamp)", [at]
        ).fetchone()
        con.execute(f"delete from {builds} where built_as_of >= cast(? as timestamp)", [at])
        return int(forgotten)
    finally:
        con.close()


# --- one replay ----------------------------------------------------------------------------


@dataclass
class Replay:
    """What one tree's segment held at each instant."""

    #: members before the period (the history's open spells at its start)
    before: set[str]
    #: instant -> contact_key -> entered_at
    members: dict[datetime, dict[str, datetime]]
    #: instant -> every contact then (int_contact_profiles)
    contacts: dict[datetime, set[str]]
    built: list[str]
    seconds: float
    parse_seconds: float
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)


def _variables() -> dict[str, Any]:
    """The vars of a replay's builds besides as_of (all of them: the kept parse is found by
    them). The other segments' tables are not rebuilt, so the snapshot's guard against a
    mass end-dating must not judge them."""
    variables: dict[str, Any] = {"snapshots__max_drop_share": 1}
    adapters = os.environ.get("AUDIENCE_VENDOR_ADAPTERS")
    if adapters is not None:  # what run_dbt passes as a var too (audience.dbt.dbt_args)
        variables["vendor_adapters"] = adapters
    return variables


def _manifest(root: Path, scratch: Path) -> tuple[Any, float]:
    """The parsed project at `root` for the warehouse the environment names (the DuckDB path
    names every node's database): the kept parse of this code version (audience.dbt_cached),
    else a parse, into `scratch`, that is then kept; and the seconds it took."""
    started = time.perf_counter()
    variables = _variables()
    key = dbt_cached.code_version(root, "duckdb", variables)
    cache = dbt_cached.cache_dir(project_dir())
    manifest = dbt_cached.kept_manifest(cache, key)
    if manifest is not None:
        return manifest, time.perf_counter() - started
    run_dbt(["parse", "--quiet"], target="duckdb", as_of=datetime.now(), extra_vars=variables)
    parsed = scratch / "target" / dbt_cached.PARTIAL_PARSE
    if not parsed.is_file():
        raise BacktestError(f"dbt parse left no {parsed}")
    dbt_cached.keep(parsed, cache, key)
    return dbt_cached.load_manifest(cache / f"{key}.msgpack"), time.perf_counter() - started


def _members(con: duckdb.DuckDBPyConnection, segment: str) -> dict[str, datetime]:
    rows = con.execute(
        "select contact_key, entered_at from marts.segment_membership where segment_id = ?",
        [segment],
    ).fetchall()
    return {str(key): entered for key, entered in rows}


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def outcome_sql(segment: str, period: Sequence[datetime], window_days: int) -> str:
    """Counts of what the segment's entrants in the period did next, and of the same for every
    contact entering at each instant (a baseline), with the project's segment_outcomes
    macro; compiled as of the period's end."""
    start = period[0].strftime(AS_OF_FORMAT)
    at = " union all ".join(
        f"select cast('{i.strftime(AS_OF_FORMAT)}' as {TIMESTAMP}) as entered_at" for i in period
    )
    counts = ", ".join(
        f"sum(case when is_matured then has_{name} else 0 end) as {name}" for name in OUTCOMES
    )
    has = ", ".join(
        f"max(case when outcomes.outcome = '{name}' then 1 else 0 end) as has_{name}"
        for name in OUTCOMES
    )
    window_end = f"{{{{ dbt.dateadd('day', {window_days}, 'baseline.entered_at') }}}}"
    matured = (
        f"{{{{ dbt.dateadd('day', {window_days}, 'instants.entered_at') }}}} <= {{{{ as_of() }}}}"
    )
    return f"""with {{{{ segment_outcomes({window_days}) }}}},
instants as ({at}),
baseline as (
    select outcome_profiles.contact_key, instants.entered_at, {matured} as is_matured
    from outcome_profiles cross join instants
    where outcome_profiles.first_seen_at <= instants.entered_at
),
baseline_outcomes as (
    select baseline.contact_key, baseline.entered_at, baseline.is_matured, {has}
    from baseline
    left join outcomes
        on baseline.contact_key = outcomes.contact_key
        and baseline.entered_at <= outcomes.ended_at
        and {window_end} >= outcomes.started_at
    group by baseline.contact_key, baseline.entered_at, baseline.is_matured
)
select 'segment' as side, count(*) as entrants,
    sum(case when is_matured then 1 else 0 end) as matured, {counts}
from spell_outcomes
where membership_spell_id in (
    select membership_spell_id from spells
    where segment_id = {_quote(segment)} and entered_at >= cast('{start}' as {TIMESTAMP})
)
union all
select 'contacts', count(*), sum(case when is_matured then 1 else 0 end), {counts}
from baseline_outcomes"""


def replay(
    root: Path,
    source: Path,
    scratch: Path,
    segment: str,
    period: Sequence[datetime],
    *,
    window_days: int,
    progress: Progress | None = None,
    label: str = "",
) -> Replay:
    """Replay `segment` of the project tree at `root` over `period` on a copy of `source`."""
    scratch.mkdir(parents=True, exist_ok=True)
    copy = scratch / source.name  # the same name: DuckDB names the database after it
    _copy_warehouse(source, copy)
    (scratch / "tmp").mkdir(exist_ok=True)
    settings = {
        "AUDIENCE_PROJECT_DIR": str(root),
        "AUDIENCE_DUCKDB_PATH": str(copy),
        "AUDIENCE_DUCKDB_TEMP_DIR": str(scratch / "tmp"),
        "DBT_TARGET_PATH": str(scratch / "target"),
    }
    try:
        with environment(**settings):
            manifest, parse_seconds = _manifest(root, scratch)
            if segment not in segment_models(manifest):
                raise BacktestError(f"no segment model named {segment!r} in {root}")
            models = path_models(manifest, [segment, MEMBERSHIP_MODEL], segment)
            cut_history(copy, period[0])
            con = duckdb.connect(str(copy), read_only=True)
            try:
                before = {
                    str(key)
                    for (key,) in con.execute(
                        f"select contact_key from {SNAPSHOT} "
                        "where segment_id = ? and dbt_valid_to is null",
                        [segment],
                    ).fetchall()
                }
            except duckdb.CatalogException:
                before = set()
            finally:
                con.close()
            select = ["--select", *models, SNAPSHOT_NODE]
            exclude = ["--exclude", "resource_type:test", "resource_type:unit_test"]
            members: dict[datetime, dict[str, datetime]] = {}
            contacts: dict[datetime, set[str]] = {}
            started = time.perf_counter()
            for number, at in enumerate(period, 1):
                run_dbt(
                    ["build", *select, *exclude, "--quiet"],
                    target="duckdb",
                    as_of=at,
                    extra_vars=_variables(),
                    manifest=manifest,
                )
                con = duckdb.connect(str(copy), read_only=True)
                try:
                    members[at] = _members(con, segment)
                    contacts[at] = {
                        str(k)
                        for (k,) in con.execute(
                            "select contact_key from intermediate.int_contact_profiles"
                        ).fetchall()
                    }
                finally:
                    con.close()
                if progress is not None:
                    progress(
                        f"{label or root.name}: {number}/{len(period)} as of {at:{AS_OF_FORMAT}}"
                    )
            seconds = time.perf_counter() - started
            # what entrants did next, as of the period's end: the spells the replay wrote and
            # the outcome models (those off the segment's path built as of the end too)
            outcome_models = [
                m for m in path_models(manifest, list(OUTCOME_MODELS), segment) if m not in models
            ]
            run_dbt(
                ["run", "--select", *outcome_models, "--quiet"],
                target="duckdb",
                as_of=period[-1],
                extra_vars=_variables(),
                manifest=manifest,
            )
            compiled = run_dbt(
                [
                    "compile",
                    "--inline",
                    outcome_sql(segment, period, window_days),
                    "--log-level",
                    "none",
                ],
                target="duckdb",
                as_of=period[-1],
                extra_vars=_variables(),
                manifest=manifest,
            )
            sql = compiled.result.results[0].node.compiled_code
            con = duckdb.connect(str(copy), read_only=True)
            try:
                cursor = con.execute(sql)
                names = [d[0] for d in cursor.description]
                outcomes = {
                    str(row[0]): {n: int(v or 0) for n, v in zip(names[1:], row[1:], strict=True)}
                    for row in cursor.fetchall()
                }
            finally:
                con.close()
    finally:
        # the copy is scratch: a real warehouse may be large
        for leftover in (copy, copy.with_name(copy.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return Replay(
        before, members, contacts, [*models, SNAPSHOT_NODE], seconds, parse_seconds, outcomes
    )


# --- figures -------------------------------------------------------------------------------


@dataclass
class DayFigures:
    at: str
    size: int
    entries: int
    exits: int


@dataclass
class Outcomes:
    entrants: int
    matured: int
    counts: dict[str, int]

    @property
    def rates(self) -> dict[str, float | None]:
        return {
            name: (round(count / self.matured, 4) if self.matured else None)
            for name, count in self.counts.items()
        }


@dataclass
class SideFigures:
    name: str
    days: list[DayFigures]
    #: median days between entry (entered_at) and exit, over the spells that ended in the
    #: period; None when none ended
    median_days_in_segment: float | None
    outcomes: Outcomes | None
    #: same figures as another side (nothing on its path differs)
    same_as: str | None = None

    @property
    def entries(self) -> int:
        return sum(day.entries for day in self.days)

    @property
    def exits(self) -> int:
        return sum(day.exits for day in self.days)


def daily_figures(before: set[str], members: dict[datetime, Iterable[str]]) -> list[DayFigures]:
    days = []
    previous = set(before)
    for at in sorted(members):
        now = set(members[at])
        days.append(
            DayFigures(
                at.strftime(AS_OF_FORMAT), len(now), len(now - previous), len(previous - now)
            )
        )
        previous = now
    return days


def median_days(members: dict[datetime, dict[str, datetime]]) -> float | None:
    """The median time from entry to exit of the spells that ended in the period."""
    spans: list[float] = []
    previous: dict[str, datetime] = {}
    for at in sorted(members):
        now = members[at]
        for key, entered in previous.items():
            if key not in now:
                spans.append((at - entered).total_seconds() / 86400)
        previous = now
    return round(statistics.median(spans), 2) if spans else None


def _outcomes(counts: dict[str, int] | None) -> Outcomes | None:
    if not counts:
        return None
    return Outcomes(
        counts.get("entrants", 0),
        counts.get("matured", 0),
        {name: counts.get(name, 0) for name in OUTCOMES},
    )


def segment_figures(name: str, run: Replay) -> SideFigures:
    return SideFigures(
        name,
        daily_figures(run.before, run.members),
        median_days(run.members),
        _outcomes(run.outcomes.get("segment")),
    )


def contact_figures(run: Replay) -> SideFigures:
    """Every contact (int_contact_profiles) at each instant: how many, how many new (first
    seen, or split off by identity resolution) and how many gone (merged, forgotten)."""
    first = min(run.contacts)
    return SideFigures(
        "all contacts",
        daily_figures(run.contacts[first], run.contacts),
        None,
        _outcomes(run.outcomes.get("contacts")),
    )


@dataclass
class Backtest:
    segment: str
    base: str
    every: str
    window_days: int
    instants: list[str]
    sides: list[SideFigures]
    models: list[str]
    seconds: float
    seconds_per_instant: float
    parse_seconds: float
    notes: list[str] = field(default_factory=list)
    #: side -> instant -> its members (contact_key), for `--members`; not in the JSON
    members: dict[str, dict[str, list[str]]] = field(default_factory=dict, repr=False)

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("members")
        for side, figures in zip(data["sides"], self.sides, strict=True):
            side["entries"], side["exits"] = figures.entries, figures.exits
            if figures.outcomes is not None:
                side["outcomes"]["rates"] = figures.outcomes.rates
        return json.dumps(data, indent=2, sort_keys=True, default=str)

    def timing_line(self) -> str:
        builds = len(self.instants) * sum(
            1 for s in self.sides if s.name != "all contacts" and not s.same_as
        )
        return (
            f"{builds} instants in {self.seconds:.0f} s ({self.seconds_per_instant:.1f} s per "
            f"instant; parsing {self.parse_seconds:.0f} s)"
        )

    def to_markdown(self) -> str:
        period = f"{self.instants[0]} → {self.instants[-1]}, every {self.every}"
        lines = [f"### Backtest of `{self.segment}` ({period})", ""]
        lines += [f"> {note}" for note in self.notes]
        if self.notes:
            lines.append("")
        lines += [
            "| | mean size | last size | entries | exits | median days in segment |",
            "|---|---|---|---|---|---|",
        ]
        for side in self.sides:
            sizes = [d.size for d in side.days]
            median = (
                "-" if side.median_days_in_segment is None else f"{side.median_days_in_segment:g}"
            )
            lines.append(
                f"| {side.name} | {statistics.fmean(sizes):,.1f} | {sizes[-1]:,} | "
                f"{side.entries:,} | {side.exits:,} | {median} |"
            )
        lines += [
            "",
            f"What entrants did next (within {self.window_days} days of entry; matured entries):",
            "",
            "| | entrants | matured | opportunity | won deal | order | unsubscribe |",
            "|---|---|---|---|---|---|---|",
        ]
        for side in self.sides:
            if side.outcomes is None:
                continue
            rates = side.outcomes.rates
            cells = " | ".join(
                "-" if rates[n] is None else f"{rates[n]:.1%} ({side.outcomes.counts[n]:,})"
                for n in OUTCOMES
            )
            counted = side.outcomes
            lines.append(f"| {side.name} | {counted.entrants:,} | {counted.matured:,} | {cells} |")
        lines += [
            "",
            "(all contacts: every contact at each instant counts as one entry, a baseline.)",
        ]
        lines += ["", "Daily:", "", "| instant | " + " | ".join(s.name for s in self.sides) + " |"]
        lines.append("|---|" + "---|" * len(self.sides))
        for number, at in enumerate(self.instants):
            cells = " | ".join(
                f"{s.days[number].size:,} (+{s.days[number].entries}/-{s.days[number].exits})"
                for s in self.sides
            )
            lines.append(f"| {at} | {cells} |")
        lines += ["", self.timing_line()]
        return "\n".join(lines) + "\n"


# --- the command ---------------------------------------------------------------------------


def outcome_window_days(root: Path) -> int:
    variables = yaml.safe_load((root / "dbt_project.yml").read_text()).get("vars") or {}
    return int(variables.get("reports__outcome_window_days", 14))


def _path_changed(base_root: Path, root: Path, segment: str, path: Sequence[str]) -> bool:
    changed, macros = changed_models(base_root, root)
    return macros or bool(changed & ({segment} | set(path)))


def backtest(
    segment: str,
    end: datetime,
    *,
    days: int = 90,
    every: str = "1d",
    base: str | None = "main",
    warehouse: Path | None = None,
    scratch: Path | None = None,
    progress: Progress | None = None,
    period: Sequence[datetime] | None = None,
) -> Backtest:
    """`audience backtest`: replay `segment` of the working tree (and of the base ref's tree)
    over the `days` days up to `end` (or at the instants of `period`) on copies of the
    warehouse."""
    root = project_dir()
    source = warehouse or duckdb_path()
    if not source.exists():
        raise BacktestError(f"no warehouse at {source}: build one first (`audience run`)")
    if segment not in segment_names(root):
        raise BacktestError(f"no segment model named {segment!r} under models/segments/")
    period = sorted(period) if period else instants(end, days, parse_every(every))
    # stable places (under target/): the kept parse of a tree is found again next time
    scratch = scratch or target_dir() / "backtest"
    window = outcome_window_days(root)
    after = replay(
        root,
        source,
        scratch / "after",
        segment,
        period,
        window_days=window,
        progress=progress,
        label="this tree",
    )
    sides = [segment_figures("this tree", after)]
    members = {"this tree": _member_lists(after)}
    notes: list[str] = []
    seconds, parse_seconds, builds = after.seconds, after.parse_seconds, len(period)
    base_name = "-"
    if base is not None:
        base_root = scratch / "base-tree"
        if base_root.exists():
            shutil.rmtree(base_root)
        try:
            commit = export_base(root, base, base_root)
        except DiffError as exc:
            raise BacktestError(str(exc)) from exc
        base_name = f"{base} ({commit[:10]})"
        if segment not in segment_names(base_root):
            notes.append(f"`{segment}` is new: no segment of that name on {base_name}.")
        elif not _path_changed(base_root, root, segment, after.built):
            notes.append(
                f"Nothing on the path of `{segment}` differs on {base_name}: same figures."
            )
            sides.append(replace_name(sides[0], f"{base}", same_as="this tree"))
        else:
            before = replay(
                base_root,
                source,
                scratch / "base",
                segment,
                period,
                window_days=window,
                progress=progress,
                label=base,
            )
            sides.append(segment_figures(base, before))
            members[base] = _member_lists(before)
            seconds += before.seconds
            parse_seconds += before.parse_seconds
            builds += len(period)
    sides.append(contact_figures(after))
    return Backtest(
        segment=segment,
        base=base_name,
        every=every,
        window_days=window,
        instants=[at.strftime(AS_OF_FORMAT) for at in period],
        sides=sides,
        models=after.built,
        seconds=round(seconds, 2),
        seconds_per_instant=round(seconds / builds, 2),
        parse_seconds=round(parse_seconds, 2),
        notes=notes,
        members=members,
    )


def _member_lists(run: Replay) -> dict[str, list[str]]:
    return {at.strftime(AS_OF_FORMAT): sorted(keys) for at, keys in sorted(run.members.items())}


def write_members(result: Backtest, path: Path) -> Path:
    """Each side's members at each instant, as JSON (side -> instant -> contact keys)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.members, indent=1, sort_keys=True), encoding="utf-8")
    return path


def replace_name(side: SideFigures, name: str, *, same_as: str) -> SideFigures:
    return SideFigures(name, side.days, side.median_days_in_segment, side.outcomes, same_as)


# --- the HTML page -------------------------------------------------------------------------

SIDE_COLORS = ("#1f77b4", "#ff7f0e", "#7f7f7f")
CHART_WIDTH, CHART_HEIGHT, MARGIN = 720, 220, 40


def svg_lines(title: str, series: dict[str, list[float]], labels: Sequence[str]) -> str:
    """A line chart (inline SVG, no script) of `series` over the instants `labels`."""
    values = [v for points in series.values() for v in points] or [0.0]
    top = max(max(values), 1.0)
    count = max(len(labels), 2)
    width, height = CHART_WIDTH - 2 * MARGIN, CHART_HEIGHT - 2 * MARGIN

    def x(i: int) -> float:
        return MARGIN + width * i / (count - 1)

    def y(v: float) -> float:
        return MARGIN + height * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {CHART_WIDTH} '
        f'{CHART_HEIGHT}" width="{CHART_WIDTH}" height="{CHART_HEIGHT}">',
        f"<title>{html.escape(title)}</title>",
        f'<line x1="{MARGIN}" y1="{MARGIN + height}" x2="{MARGIN + width}" '
        f'y2="{MARGIN + height}" stroke="#999"/>',
        f'<text x="{MARGIN - 4}" y="{MARGIN + 4}" text-anchor="end" font-size="11">{top:g}</text>',
        f'<text x="{MARGIN - 4}" y="{MARGIN + height}" text-anchor="end" font-size="11">0</text>',
    ]
    for end, label in ((0, labels[0]), (len(labels) - 1, labels[-1])):
        anchor = "start" if end == 0 else "end"
        parts.append(
            f'<text x="{x(end):.1f}" y="{CHART_HEIGHT - 8}" text-anchor="{anchor}" '
            f'font-size="11">{html.escape(label[:10])}</text>'
        )
    for number, (name, points) in enumerate(series.items()):
        color = SIDE_COLORS[number % len(SIDE_COLORS)]
        path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(points))
        parts.append(
            f'<polyline data-series="{html.escape(name)}" fill="none" stroke="{color}" '
            f'stroke-width="2" points="{path}"/>'
        )
        parts.append(
            f'<text x="{MARGIN + 8 + 160 * number}" y="{MARGIN - 12}" fill="{color}" '
            f'font-size="12">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(result: Backtest) -> str:
    """The backtest as one page: charts (inline SVG) and the markdown tables' figures."""
    segments = [s for s in result.sides if s.name != "all contacts"]
    contacts = [s for s in result.sides if s.name == "all contacts"]
    labels = result.instants
    figures = (("Members", "size", segments), ("Entries", "entries", segments),
               ("Exits", "exits", segments), ("All contacts", "size", contacts))  # fmt: skip
    charts = [
        svg_lines(
            f"{title} at each instant",
            {s.name: [float(getattr(d, figure)) for d in s.days] for s in sides},
            labels,
        )
        for title, figure, sides in figures
    ]
    sections = "\n".join(
        f'<section data-chart="{t.lower().replace(" ", "-")}"><h2>{t}</h2>{c}</section>'
        for (t, _, _), c in zip(figures, charts, strict=True)
    )
    table = html.escape(result.to_markdown())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Backtest of {html.escape(result.segment)}</title>
<style>body{{font-family:sans-serif;margin:2em}}pre{{background:#f6f6f6;padding:1em}}</style>
</head>
<body data-segment="{html.escape(result.segment)}">
<h1>Backtest of <code>{html.escape(result.segment)}</code></h1>
<p>{len(labels)} instants from {html.escape(labels[0])} to {html.escape(labels[-1])}, every
{html.escape(result.every)}; base {html.escape(result.base)}. Built on a copy of the
warehouse: its history and the destinations are untouched.</p>
{sections}
<section data-chart="figures"><h2>Figures</h2><pre>{table}</pre></section>
</body>
</html>
"""


def write_html(result: Backtest, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(result), encoding="utf-8")
    return path
