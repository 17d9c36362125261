"""The catalog (dbt docs), the exposures' lineage and the semantic layer's metrics, on the
generated warehouse: docs are generated once for the module and every test reads them."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import duckdb
import pytest
from warehouses import environment

from audience.docs import DocsSite, generate_docs
from audience.exposures import exposure_name
from audience.project import project_dir
from audience.syncs import load_config

pytestmark = pytest.mark.slow

#: the public marts, the exports and the segment models: documented grain first, every column
PUBLIC_PATHS = ("models/marts/", "models/exports/", "models/segments/")
#: the marts the visual report (`audience report`) reads
REPORT_MARTS = {
    "contacts",
    "segments",
    "segment_membership",
    "segment_membership_history",
    "segment_transitions",
    "report_segment_daily_changes",
    "report_segment_conversion",
    "report_score_calibration",
}
#: raw tables (and seeds) that legitimately feed no exposure, with the reason; none today
FEEDS_NO_EXPOSURE: dict[str, str] = {}
MF = Path(sys.executable).parent / "mf"


@pytest.fixture(scope="module")
def docs(generated_warehouse, tmp_path_factory) -> DocsSite:
    out = tmp_path_factory.mktemp("dbt_docs")
    with environment(AUDIENCE_DUCKDB_PATH=str(generated_warehouse.path)):
        return generate_docs("duckdb", generated_warehouse.as_of, out)


def artifact(docs: DocsSite, name: str) -> dict:
    return json.loads((docs.path / name).read_text())


def public_models(manifest: dict) -> dict[str, dict]:
    return {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["original_file_path"].startswith(PUBLIC_PATHS)
    }


# --- the catalog --------------------------------------------------------------------------------


def test_the_site_is_one_page_that_opens_from_disk(docs):
    page = (docs.path / "index.html").read_text()
    # the static page carries the manifest and the catalog inline: no fetch of manifest.json
    assert "model.audience.segment_membership" in page
    assert '"has_stats"' in page  # a key of catalog.json, absent from the manifest
    assert len(page) > 1_000_000
    # the catalog holds the sources that exist: the ten contract tables of the demo data, the
    # two privacy tables the build creates (deletion requests, manual suppressions) and the
    # learned score weights (scoring.score_weights)
    assert docs.relations > 80 and docs.sources == 13


def test_the_catalog_has_every_public_relation_with_its_documented_columns(docs):
    manifest = artifact(docs, "manifest.json")
    catalog = artifact(docs, "catalog.json")
    public = public_models(manifest)
    on_disk = {
        path.stem for folder in PUBLIC_PATHS for path in (project_dir() / folder).rglob("*.sql")
    }
    assert {"contacts", "export_crm_contacts", "report_segment_conversion", "cart_abandoner"} <= (
        on_disk
    )
    assert {node["name"] for node in public.values()} == on_disk
    problems = []
    for unique_id, node in sorted(public.items()):
        relation = catalog["nodes"].get(unique_id)
        if relation is None:
            problems.append(f"{node['name']}: not in the catalog")
            continue
        in_warehouse = {name.lower() for name in relation["columns"]}
        documented = {name.lower() for name in node["columns"]}
        undocumented, absent = in_warehouse - documented, documented - in_warehouse
        if not in_warehouse:
            problems.append(f"{node['name']}: no columns in the catalog")
        if undocumented:
            problems.append(f"{node['name']}: undocumented columns {sorted(undocumented)}")
        if absent:
            problems.append(f"{node['name']}: documented, not in the relation {sorted(absent)}")
        blank = [name for name, column in node["columns"].items() if not column["description"]]
        if blank:
            problems.append(f"{node['name']}: columns without a description {blank}")
    assert not problems, "\n".join(problems)


def test_every_public_description_starts_with_its_grain(docs):
    manifest = artifact(docs, "manifest.json")
    wrong = {
        node["name"]: node["description"][:60]
        for node in public_models(manifest).values()
        if not node["description"].strip().startswith("One row per ")
    }
    assert not wrong


# --- exposures and lineage ----------------------------------------------------------------------


def test_every_sync_destination_is_an_exposure_of_the_export_it_sends(docs):
    manifest = artifact(docs, "manifest.json")
    exposures = {exposure["name"]: exposure for exposure in manifest["exposures"].values()}
    for name, config in load_config().items():
        exposure = exposures.get(exposure_name(name))
        assert exposure is not None, f"no exposure for destination {name}"
        assert exposure["type"] == "application"
        assert exposure["depends_on"]["nodes"] == [f"model.audience.{config.model}"]
        assert config.kind in exposure["description"]
        assert exposure["owner"]["name"] or exposure["owner"]["email"]
        for key, value in config.options.items():
            if key.endswith("_env"):
                assert value in exposure["description"], (name, value)

    report = exposures["audience_report"]
    assert report["type"] == "dashboard"
    assert {node.split(".")[-1] for node in report["depends_on"]["nodes"]} == REPORT_MARTS


def test_lineage_has_no_dead_ends(docs):
    manifest = artifact(docs, "manifest.json")
    children = manifest["child_map"]
    exposures = manifest["exposures"]

    # every exposure's depends_on resolves to nodes of the project
    for unique_id, exposure in exposures.items():
        nodes = exposure["depends_on"]["nodes"]
        assert nodes and len(nodes) == len(exposure["refs"]), unique_id
        assert all(node in manifest["nodes"] for node in nodes), unique_id

    # every export is sent somewhere
    exports = {
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and node["original_file_path"].startswith("models/exports/")
    }
    assert len(exports) >= 3
    exposed = {node for exposure in exposures.values() for node in exposure["depends_on"]["nodes"]}
    assert exports <= exposed, sorted(exports - exposed)

    # every raw table and seed reaches an exposure through the graph
    def reaches_an_exposure(start: str) -> bool:
        seen, stack = {start}, [start]
        while stack:
            for child in children.get(stack.pop(), []):
                if child.startswith("exposure."):
                    return True
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return False

    starts = [*manifest["sources"], *(n for n in manifest["nodes"] if n.startswith("seed."))]
    # the ten contract tables, the two privacy tables, the score weights, and the vendor tables
    # their adapters read
    contract = [
        s for s in manifest["sources"].values() if not (s["config"].get("meta") or {}).get("vendor")
    ]
    assert len(contract) == 13
    dead_ends = {start for start in starts if not reaches_an_exposure(start)}
    assert dead_ends == set(FEEDS_NO_EXPOSURE), sorted(dead_ends)


# --- the semantic layer -------------------------------------------------------------------------


def test_the_semantic_manifest_holds_the_metrics(docs):
    semantic = artifact(docs, "semantic_manifest.json")
    metrics = {metric["name"]: metric["type"] for metric in semantic["metrics"]}
    assert metrics["segment_members"] == "derived"
    assert metrics["segment_entries"] == metrics["segment_exits"] == "simple"
    assert metrics["segment_opportunity_rate"] == metrics["segment_won_rate"] == "ratio"
    assert {"median_engagement_score", "p90_engagement_score", "contacts"} <= set(metrics)
    models = {model["name"] for model in semantic["semantic_models"]}
    assert {"contacts", "segment_transitions", "segment_conversion", "segments"} <= models
    spines = semantic["project_configuration"]["time_spines"]
    assert [spine["node_relation"]["alias"] for spine in spines] == ["time_spine_daily"]


@pytest.fixture(scope="module")
def mf_project(docs, tmp_path_factory) -> Path:
    """What `mf` needs to run: the project's dbt_project.yml and profiles.yml, and the
    semantic manifest the docs wrote (so no other dbt command can swap target/ under it)."""
    folder = tmp_path_factory.mktemp("mf")
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copyfile(project_dir() / name, folder / name)
    (folder / "target").mkdir()
    shutil.copyfile(docs.path / "semantic_manifest.json", folder / "target/semantic_manifest.json")
    return folder


def mf_query(project: Path, warehouse: Path, *args: str) -> list[dict[str, str]]:
    """Rows of `mf query ARGS` on a DuckDB file, as text."""
    out = project / f"query_{uuid.uuid4().hex[:8]}.csv"
    env = {
        **os.environ,
        "AUDIENCE_DUCKDB_PATH": str(warehouse),
        "DBT_PROFILES_DIR": str(project),
        "DBT_PROJECT_DIR": str(project),
    }
    proc = subprocess.run(
        [str(MF), "query", *args, "--csv", str(out)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0 and out.exists(), proc.stdout + proc.stderr
    with out.open() as handle:
        return list(csv.DictReader(handle))


def test_mf_segment_members_per_day_equal_the_membership_history(mf_project, generated_warehouse):
    rows = mf_query(
        mf_project,
        generated_warehouse.path,
        "--metrics",
        "segment_members,segment_entries",
        "--group-by",
        "metric_time__day,segment",
        "--start-time",
        "2026-06-29",
        "--end-time",
        "2026-06-30",
    )
    by_day: dict[str, dict[str, int]] = {}
    for row in rows:
        if row["segment"]:
            members = int(float(row["segment_members"]))
            by_day.setdefault(row["metric_time__day"][:10], {})[row["segment"]] = members
    # the membership history as the warehouse has it: members at the end of each day
    expected = dict(
        generated_warehouse.query(
            "select segment_id, count(*) from marts.segment_membership_history "
            "where valid_from < timestamp '2026-07-01' "
            "and (valid_to is null or valid_to >= timestamp '2026-07-01') group by segment_id"
        )
    )
    assert sum(expected.values()) > 100
    assert by_day["2026-06-30"] == expected
    # the history starts with the first build (2026-06-30): nobody was a member the day before
    assert not any(by_day.get("2026-06-29", {}).values())


def test_mf_segment_members_follow_entries_and_exits_over_days(mf_project, generated_warehouse):
    """On a made-up history: members at the end of each day, days without a change filled."""
    # the semantic manifest names each relation with its database, the DuckDB file's stem
    stub = mf_project / "stub" / generated_warehouse.path.name
    stub.parent.mkdir()
    con = duckdb.connect(str(stub))
    try:
        con.execute("create schema marts")
        con.execute(
            "create table marts.time_spine_daily as select cast(d as date) as date_day "
            "from generate_series(date '2026-05-20', date '2026-06-10', interval 1 day) t(d)"
        )
        con.execute(
            """
            create table marts.segment_transitions as select * from (values
                ('t1', 'a', 's1', 'entered', timestamp '2026-06-01 00:00:00', 'r'),
                ('t2', 'a', 's1', 'exited', timestamp '2026-06-03 00:00:00', 'r'),
                ('t3', 'b', 's1', 'entered', timestamp '2026-06-02 06:00:00', 'r'),
                ('t4', 'c', 's2', 'entered', timestamp '2026-06-02 00:00:00', 'r'),
                ('t5', 'a', 's1', 'entered', timestamp '2026-06-05 00:00:00', 'r')
            ) as v (transition_id, contact_key, segment_id, transition, transitioned_at,
                reason_at_entry)
            """
        )
    finally:
        con.close()
    rows = mf_query(
        mf_project,
        stub,
        "--metrics",
        "segment_members",
        "--group-by",
        "metric_time__day,segment",
        "--start-time",
        "2026-06-01",
        "--end-time",
        "2026-06-06",
    )
    members = {
        (row["metric_time__day"][:10], row["segment"]): int(float(row["segment_members"]))
        for row in rows
        if row["segment"]
    }
    assert {day: n for (day, segment), n in sorted(members.items()) if segment == "s1"} == {
        "2026-06-01": 1,
        "2026-06-02": 2,
        "2026-06-03": 1,
        "2026-06-04": 1,
        "2026-06-05": 2,
        "2026-06-06": 2,
    }
    assert members[("2026-06-04", "s2")] == 1


def test_mf_engagement_distribution_equals_sql(mf_project, generated_warehouse):
    rows = mf_query(
        mf_project,
        generated_warehouse.path,
        "--metrics",
        "contacts,average_engagement_score,median_engagement_score,p90_engagement_score,"
        "contact_opportunity_rate",
        "--group-by",
        "contact__engagement_band",
    )
    got = {int(row["contact__engagement_band"]): row for row in rows}
    expected = generated_warehouse.query(
        """
        select
            cast(least(90, floor(engagement_score / 10) * 10) as integer) as band,
            count(*),
            avg(engagement_score),
            quantile_cont(engagement_score, 0.5),
            quantile_cont(engagement_score, 0.9),
            avg(case when lifecycle_stage in ('opportunity', 'customer') then 1.0 else 0 end)
        from marts.contacts
        group by 1
        """
    )
    assert set(got) == {band for band, *_ in expected}
    assert len(got) >= 5
    for band, contacts, average, median, p90, opportunity_rate in expected:
        row = got[band]
        assert int(row["contacts"]) == contacts, band
        assert float(row["average_engagement_score"]) == pytest.approx(average), band
        assert float(row["median_engagement_score"]) == pytest.approx(median), band
        assert float(row["p90_engagement_score"]) == pytest.approx(p90), band
        assert float(row["contact_opportunity_rate"]) == pytest.approx(opportunity_rate), band


def test_mf_segment_conversion_rates_equal_the_report(mf_project, generated_warehouse):
    rows = mf_query(
        mf_project,
        generated_warehouse.path,
        "--metrics",
        "segment_conversion_entrants,segment_opportunity_rate,segment_won_rate",
        "--group-by",
        "segment",
    )
    got = {row["segment"]: row for row in rows}
    expected = generated_warehouse.query(
        "select segment_id, matured_entrants, opportunity_rate, won_rate "
        "from marts.report_segment_conversion"
    )
    assert set(got) == {segment for segment, *_ in expected}
    for segment, entrants, opportunity_rate, won_rate in expected:
        assert int(float(got[segment]["segment_conversion_entrants"])) == entrants
        # one build: no spell's outcome window has passed, and a rate of none is no rate
        for metric, rate in (
            ("segment_opportunity_rate", opportunity_rate),
            ("segment_won_rate", won_rate),
        ):
            value = got[segment][metric]
            if rate is None:
                assert value in (None, "", "None"), (segment, metric, value)
            else:
                assert float(value) == pytest.approx(float(rate), abs=1e-4)
