"""`audience diff`: which models changed between two trees, what each side builds, the base
tree from git, and the Markdown and JSON it prints."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from audience.diff import (
    DiffError,
    MembershipDiff,
    SegmentDiff,
    _selection,
    changed_models,
    diff_projects,
    export_base,
)

SEGMENT_YAML = """
version: 2
models:
  - name: seg_a
    config: {meta: {segment: {priority: 1}}}
  - name: seg_b
    config: {meta: {segment: {priority: 2}}}
"""


def tree(root: Path, *, seg_a: str = "select 1", yaml_text: str = SEGMENT_YAML) -> Path:
    (root / "models" / "segments" / "goal").mkdir(parents=True)
    (root / "models" / "intermediate").mkdir(parents=True)
    (root / "macros").mkdir()
    (root / "models" / "segments" / "goal" / "seg_a.sql").write_text(seg_a)
    (root / "models" / "segments" / "goal" / "seg_b.sql").write_text("select 2")
    (root / "models" / "segments" / "goal" / "_goal.yml").write_text(yaml_text)
    (root / "models" / "intermediate" / "int_x.sql").write_text("select 3")
    (root / "macros" / "m.sql").write_text("{% macro m() %}1{% endmacro %}")
    (root / "syncs.yml").write_text(
        "destinations:\n  ads:\n    kind: ad_files\n    model: export_ads\n"
        "    reaches: ads\n    fields: {email: email}\n"
    )
    return root


def test_identical_trees_change_nothing(tmp_path):
    assert changed_models(tree(tmp_path / "a"), tree(tmp_path / "b")) == (set(), False)


def test_a_changed_sql_and_a_changed_yaml_entry_are_changed_models(tmp_path):
    base = tree(tmp_path / "a")
    after = tree(
        tmp_path / "b",
        seg_a="select 10",
        yaml_text=SEGMENT_YAML.replace("priority: 2", "priority: 3"),
    )
    assert changed_models(base, after) == ({"seg_a", "seg_b"}, False)


def test_a_new_model_a_removed_one_and_a_macro(tmp_path):
    base = tree(tmp_path / "a")
    after = tree(tmp_path / "b")
    (after / "models" / "segments" / "goal" / "seg_new.sql").write_text("select 4")
    (after / "models" / "intermediate" / "int_x.sql").unlink()
    (after / "macros" / "m.sql").write_text("{% macro m() %}2{% endmacro %}")
    assert changed_models(base, after) == ({"seg_new", "int_x"}, True)


def test_each_side_builds_its_changed_models_and_what_reads_them(tmp_path):
    root = tree(tmp_path / "a")
    select = _selection(root, {"seg_a", "int_x", "gone"}, macros=False)
    # a model the tree lacks is not selected (dbt would refuse the name)
    assert select == [
        "int_x",
        "seg_a",
        "int_x+,fqn:segments",
        "seg_a+,fqn:segments",
        "segment_membership",
        "segment_membership_treated",
        "fqn:marts.segments",
        "export_ads",
    ]
    assert "fqn:segments" in _selection(root, set(), macros=True)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_the_base_is_the_merge_base_tree(tmp_path):
    repo = tree(tmp_path / "repo")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    base_commit = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "change")
    (repo / "models" / "segments" / "goal" / "seg_a.sql").write_text("select 10")
    git(repo, "commit", "-q", "-am", "change")
    # main moves on after the branch left it: the diff is against where the branch started
    git(repo, "checkout", "-q", "main")
    (repo / "models" / "segments" / "goal" / "seg_b.sql").write_text("select 20")
    git(repo, "commit", "-q", "-am", "main moves")
    git(repo, "checkout", "-q", "change")

    assert export_base(repo, "main", tmp_path / "base") == base_commit
    exported = tmp_path / "base" / "models" / "segments" / "goal"
    assert (exported / "seg_a.sql").read_text() == "select 1"
    assert (exported / "seg_b.sql").read_text() == "select 2"
    with pytest.raises(DiffError, match="no-such-ref"):
        export_base(repo, "no-such-ref", tmp_path / "other")


def test_markdown_and_json():
    result = MembershipDiff(
        base="main (abc)",
        as_of="2026-06-30 00:00:00",
        models=["seg_a", "segment_membership"],
        segments=[
            SegmentDiff(
                segment_id="seg_a",
                before=1200,
                after=1250,
                added_count=60,
                removed_count=10,
                added=[("c1", "viewed pricing 2 times in the last 7 days")],
                removed=[("c9", "viewed pricing 3 times in the last 7 days")],
                overlap={"seg_b": 7, "seg_c": 30},
                destinations={"marketing_lists": (1000, 1040)},
            )
        ],
    )
    text = result.to_markdown()
    assert "#### `seg_a`: 1,200 → 1,250 members (+50)" in text
    assert "- added: 60; removed: 10" in text
    assert "| `c1` | viewed pricing 2 times in the last 7 days |" in text
    assert "| `c9` | viewed pricing 3 times in the last 7 days |" in text
    assert text.index("`seg_c`: 30") < text.index("`seg_b`: 7")
    assert "| marketing_lists | 1,000 | 1,040 | +40 |" in text
    data = json.loads(result.to_json())
    assert data["segments"][0]["destinations"] == {"marketing_lists": [1000, 1040]}
    empty = MembershipDiff("main (abc)", "2026-06-30 00:00:00", [], [])
    assert "No segment model changed." in empty.to_markdown()


def test_seeds_and_vars_are_named_as_not_built(tmp_path):
    base = tree(tmp_path / "a")
    after = tree(tmp_path / "b")
    (base / "seeds").mkdir()
    (after / "seeds").mkdir()
    (base / "seeds" / "weights.csv").write_text("signal,points\npricing,5\n")
    (after / "seeds" / "weights.csv").write_text("signal,points\npricing,9\n")
    warehouse = tmp_path / "w.duckdb"
    warehouse.write_bytes(b"")
    result = diff_projects(
        base,
        after,
        warehouse=warehouse,
        as_of=datetime(2026, 6, 30),
        base_name="main",
        scratch=tmp_path / "scratch",
    )
    assert result.segments == []
    assert result.notes == [
        "seeds differ: not built here (only models are); a full build shows their effect."
    ]
    assert "> seeds differ" in result.to_markdown()


def test_no_warehouse_is_an_error(tmp_path):
    with pytest.raises(DiffError, match="no warehouse"):
        diff_projects(
            tree(tmp_path / "a"),
            tree(tmp_path / "b"),
            warehouse=tmp_path / "missing.duckdb",
            as_of=datetime(2026, 6, 30),
            base_name="main",
            scratch=tmp_path,
        )
