"""The exposures file is generated from syncs.yml, and `--check` catches drift."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from audience.exposures import StaleExposuresError, exposures_path, render, sync
from audience.project import project_dir


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copyfile(project_dir() / "syncs.yml", tmp_path / "syncs.yml")
    sync(tmp_path)
    return tmp_path


def exposures(root: Path) -> dict[str, dict]:
    text = exposures_path(root).read_text()
    return {item["name"]: item for item in yaml.safe_load(text)["exposures"]}


def test_the_project_file_is_in_step_with_syncs_yml():
    assert sync(check=True) == [
        "sync_crm",
        "sync_crm_tasks",
        "sync_marketing_lists",
        "sync_sequences",
        "sync_ad_audiences",
        "sync_lead_routing",
    ]


def test_each_destination_is_an_application_depending_on_its_export(project):
    found = exposures(project)
    crm = found["sync_crm"]
    assert crm["type"] == "application"
    assert crm["depends_on"] == ["ref('export_crm_contacts')"]
    assert crm["owner"] == {"name": "Audience warehouse on-call"}
    assert "kind crm_postgres" in crm["description"]
    assert crm["config"]["meta"]["env_vars"][:2] == ["AUDIENCE_CRM_DATABASE", "PGHOST"]
    lists = found["sync_marketing_lists"]
    assert lists["config"]["meta"]["env_vars"] == [
        "AUDIENCE_LISTS_API_URL",
        "AUDIENCE_LISTS_API_TOKEN",
    ]
    assert "AUDIENCE_LISTS_API_TOKEN" in lists["description"]


def test_a_new_destination_is_drift_until_synced(project):
    syncs = project / "syncs.yml"
    syncs.write_text(
        syncs.read_text()
        + """
  sales_alerts:
    kind: webhook
    model: export_lead_notifications
    url_env: SALES_ALERTS_URL
    owner: {name: Sales desk, email: desk@example.com}
    fields: {contact_key: contact_key}
"""
    )
    with pytest.raises(StaleExposuresError, match="make format"):
        sync(project, check=True)
    assert "sync_sales_alerts" in sync(project)
    sync(project, check=True)
    alerts = exposures(project)["sync_sales_alerts"]
    assert alerts["depends_on"] == ["ref('export_lead_notifications')"]
    assert alerts["owner"] == {"name": "Sales desk", "email": "desk@example.com"}
    assert "SALES_ALERTS_URL" in alerts["description"]


def test_a_hand_edit_is_drift(project):
    path = exposures_path(project)
    path.write_text(path.read_text().replace("maturity: high", "maturity: low", 1))
    with pytest.raises(StaleExposuresError, match="does not describe the destinations"):
        sync(project, check=True)


def test_a_destination_without_an_owner_is_refused(tmp_path):
    text = (project_dir() / "syncs.yml").read_text()
    owner = "owner:\n  name: Audience warehouse on-call\n"
    assert owner in text
    (tmp_path / "syncs.yml").write_text(text.replace(owner, ""))
    with pytest.raises(StaleExposuresError, match="destination crm needs an owner"):
        render(tmp_path / "syncs.yml")
