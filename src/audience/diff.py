"""`audience diff`: what a change to the segment models does to membership, before merging.

The changed models of two project trees (the working tree and a base ref) are built against
the same warehouse data and `as_of`, each into its own copy of the DuckDB file, with
segment_membership and the destinations' export models rebuilt on top. The real warehouse is
only read (copied): its membership history, its tables and the destinations are untouched.

Changed models are found by comparing the trees: a segment (or other) model whose SQL
differs, a segment whose YAML entry differs, and the segment models downstream of a changed
model. A changed macro may touch any segment, so then every segment model is rebuilt. Seeds
and project vars are not compared: a change to them needs a full build.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml

from audience.dbt import DbtError, run_dbt
from audience.project import duckdb_path, environment, project_dir
from audience.syncs.changes import _export_query
from audience.syncs.config import load_config

#: members listed per segment as added and removed (all are counted)
SAMPLE_SIZE = 10
#: what a built segment relation's members and reasons are read from
MEMBERSHIP = "marts.segment_membership"


class DiffError(RuntimeError):
    """The base could not be checked out, or the warehouse has nothing to diff against."""


@dataclass
class SegmentDiff:
    segment_id: str
    before: int
    after: int
    added_count: int
    removed_count: int
    #: (contact_key, reason) of some added members (after's reason), and of some removed
    #: ones (before's reason)
    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    #: other segment -> members of this segment (after) also in it (after)
    overlap: dict[str, int] = field(default_factory=dict)
    #: destination -> (records of this segment's audience before, after)
    destinations: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class MembershipDiff:
    base: str
    as_of: str
    models: list[str]
    segments: list[SegmentDiff]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    def to_markdown(self) -> str:
        lines = [f"### Segment membership diff against `{self.base}` (as of {self.as_of})", ""]
        if not self.segments:
            lines.append("No segment model changed.")
        for note in self.notes:
            lines.append(f"> {note}")
        if self.notes:
            lines.append("")
        for seg in self.segments:
            change = seg.after - seg.before
            lines += [
                f"#### `{seg.segment_id}`: {seg.before:,} → {seg.after:,} members ({change:+,})",
                "",
                f"- added: {seg.added_count:,}; removed: {seg.removed_count:,}",
            ]
            for title, rows in (("Added", seg.added), ("Removed", seg.removed)):
                if rows:
                    lines += ["", f"{title} (sample):", "", "| contact_key | reason |", "|---|---|"]
                    lines += [f"| `{key}` | {reason} |" for key, reason in rows]
            if seg.overlap:
                lines += ["", "Overlap with other segments (after):", ""]
                lines += [
                    f"- `{other}`: {count:,}"
                    for other, count in sorted(seg.overlap.items(), key=lambda kv: (-kv[1], kv[0]))
                ]
            if seg.destinations:
                lines += ["", "| destination | before | after | change |", "|---|---|---|---|"]
                lines += [
                    f"| {name} | {b:,} | {a:,} | {a - b:+,} |"
                    for name, (b, a) in sorted(seg.destinations.items())
                ]
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"


# --- which models changed ---------------------------------------------------------------


def _files(root: Path, folder: str, suffix: str) -> dict[str, bytes]:
    base = root / folder
    if not base.is_dir():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes() for p in base.rglob(f"*{suffix}") if p.is_file()
    }


def _project_file(root: Path) -> dict[str, bytes]:
    path = root / "dbt_project.yml"
    return {path.name: path.read_bytes()} if path.exists() else {}


def _segment_entries(root: Path) -> dict[str, Any]:
    """Each segment model's YAML entry, by model name."""
    entries: dict[str, Any] = {}
    for path in sorted((root / "models" / "segments").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            entries[model["name"]] = model
    return entries


def segment_names(root: Path) -> set[str]:
    return {p.stem for p in (root / "models" / "segments").rglob("*.sql")}


def changed_models(base_root: Path, after_root: Path) -> tuple[set[str], bool]:
    """The models whose SQL or segment YAML differs between the trees (removed ones
    included), and whether a macro differs."""
    before, after = _files(base_root, "models", ".sql"), _files(after_root, "models", ".sql")
    changed = {Path(p).stem for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    old, new = _segment_entries(base_root), _segment_entries(after_root)
    changed |= {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}
    macros = _files(base_root, "macros", ".sql") != _files(after_root, "macros", ".sql")
    return changed, macros


# --- building one side --------------------------------------------------------------------


def _selection(root: Path, changed: set[str], macros: bool) -> list[str]:
    """dbt's --select for one tree: its changed models, the segment models downstream of
    them, segment_membership (and its treated members, what destinations read), the catalog
    and the destinations' export models.

    By name (fqn), not by path: dbt reads a path selector from the working directory, not
    from the project's root. `fqn:segments` is every model under models/segments/ (and the
    catalog model, named segments); `fqn:marts.segments` is the catalog alone."""
    present = {p.stem for p in (root / "models").rglob("*.sql")}
    picked = sorted(changed & present)
    downstream = [f"{name}+,fqn:segments" for name in picked]
    segments = ["fqn:segments"] if macros else []
    exports = sorted({c.model for c in load_config(root / "syncs.yml").values()})
    membership = ["segment_membership", "segment_membership_treated"]
    return [*picked, *downstream, *segments, *membership, "fqn:marts.segments", *exports]


def _copy_warehouse(source: Path, dest: Path) -> None:
    shutil.copyfile(source, dest)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, dest.with_name(dest.name + ".wal"))


def _build_side(
    root: Path, warehouse: Path, scratch: Path, as_of: datetime, select: list[str]
) -> set[str]:
    """Run the selection of the tree at `root` on the copy `warehouse`; return the models
    run. The project's own tree keeps its target folder (dbt parses again only what
    changed); another tree parses into the scratch folder."""
    settings = {"AUDIENCE_PROJECT_DIR": str(root), "AUDIENCE_DUCKDB_PATH": str(warehouse)}
    if root.resolve() != project_dir():
        settings["DBT_TARGET_PATH"] = str(scratch / "target")
    with environment(**settings):
        result = run_dbt(["run", "--select", *select, "--quiet"], target="duckdb", as_of=as_of)
    return {r.node.name for r in result.result.results if r.node.resource_type == "model"}


@dataclass
class _Side:
    members: dict[str, dict[str, str]]  # segment -> contact_key -> reason
    audiences: dict[str, dict[str, int]]  # destination -> segment -> records


def _read_side(warehouse: Path, root: Path) -> _Side:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        members: dict[str, dict[str, str]] = {}
        for segment_id, contact_key, reason in con.execute(
            f"select segment_id, contact_key, reason from {MEMBERSHIP}"
        ).fetchall():
            members.setdefault(segment_id, {})[contact_key] = reason
        audiences: dict[str, dict[str, int]] = {}
        for name, config in load_config(root / "syncs.yml").items():
            rows = con.execute(
                f"select audience_key, count(*) from ({_export_query(config)}) group by 1"
            ).fetchall()
            audiences[name] = {str(key): count for key, count in rows}
        return _Side(members, audiences)
    finally:
        con.close()


def diff_projects(
    base_root: Path,
    after_root: Path,
    *,
    warehouse: Path,
    as_of: datetime,
    base_name: str,
    scratch: Path,
) -> MembershipDiff:
    """Build the changed models of both trees on copies of `warehouse`; compare them."""
    if not warehouse.exists():
        raise DiffError(f"no warehouse at {warehouse}: build one first (`audience run`)")
    changed, macros = changed_models(base_root, after_root)
    segments_before, segments_after = segment_names(base_root), segment_names(after_root)
    notes = []
    unbuilt = [
        name
        for name, before, after in (
            ("seeds", _files(base_root, "seeds", ""), _files(after_root, "seeds", "")),
            ("dbt_project.yml", *(_project_file(r) for r in (base_root, after_root))),
        )
        if before != after
    ]
    if unbuilt:
        notes.append(
            f"{' and '.join(unbuilt)} differ: not built here (only models are); "
            "a full build shows their effect."
        )
    if macros:
        notes.append("A macro changed: every segment model was rebuilt on both sides.")
    if not changed and not macros:
        return MembershipDiff(base_name, str(as_of), [], [], notes)
    sides: dict[str, _Side] = {}
    built: set[str] = set()
    for name, root in (("base", base_root), ("after", after_root)):
        side = scratch / name
        side.mkdir(parents=True, exist_ok=True)
        # the same file name: DuckDB names the database (and the views' references) after it
        copy = side / warehouse.name
        _copy_warehouse(warehouse, copy)
        built |= _build_side(root, copy, side, as_of, _selection(root, changed, macros))
        sides[name] = _read_side(copy, root)
    base, after = sides["base"], sides["after"]
    # a segment rebuilt only because a model upstream of it changed is reported when its
    # membership moved
    affected = sorted(s for s in segments_before | segments_after if s in changed | built)
    diffs = []
    for segment_id in affected:
        old = base.members.get(segment_id, {})
        new = after.members.get(segment_id, {})
        if segment_id not in changed and old.keys() == new.keys():
            continue
        added = sorted(new.keys() - old.keys())
        removed = sorted(old.keys() - new.keys())
        overlap = {
            other: len(new.keys() & keys)
            for other, keys in after.members.items()
            if other != segment_id and new.keys() & keys
        }
        destinations = {
            dest: (base.audiences.get(dest, {}).get(segment_id, 0), counts.get(segment_id, 0))
            for dest, counts in after.audiences.items()
            if base.audiences.get(dest, {}).get(segment_id, 0) or counts.get(segment_id, 0)
        }
        diffs.append(
            SegmentDiff(
                segment_id=segment_id,
                before=len(old),
                after=len(new),
                added_count=len(added),
                removed_count=len(removed),
                added=[(k, new[k]) for k in added[:SAMPLE_SIZE]],
                removed=[(k, old[k]) for k in removed[:SAMPLE_SIZE]],
                overlap=overlap,
                destinations=destinations,
            )
        )
    return MembershipDiff(base_name, str(as_of), sorted(built), diffs, notes)


# --- the base tree from git ---------------------------------------------------------------


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DiffError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def export_base(root: Path, ref: str, dest: Path) -> str:
    """Write the tree of the merge-base of `ref` and HEAD to `dest`; return its commit."""
    commit = _git(root, "merge-base", ref, "HEAD")
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=root, capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise DiffError(f"git archive {commit}: {archive.stderr.decode().strip()}")
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return commit


def diff_against(ref: str, as_of: datetime, warehouse: Path | None = None) -> MembershipDiff:
    """`audience diff`: the working tree against the merge-base of `ref`."""
    root = project_dir()
    with tempfile.TemporaryDirectory(prefix="audience-diff-") as tmp:
        scratch = Path(tmp)
        commit = export_base(root, ref, scratch / "base-tree")
        try:
            return diff_projects(
                scratch / "base-tree",
                root,
                warehouse=warehouse or duckdb_path(),
                as_of=as_of,
                base_name=f"{ref} ({commit[:10]})",
                scratch=scratch,
            )
        except DbtError as exc:
            raise DiffError(f"building the changed models failed: {exc}") from exc
