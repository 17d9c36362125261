"""Write the dbt exposures of the reverse-ETL destinations from syncs.yml, their one source.

Each destination of syncs.yml becomes one exposure of type application that depends on the
export model it sends, so `dbt docs`, `dbt ls --select +exposure:sync_crm` and the lineage
graph show where every export goes. The file models/exposures/_syncs__exposures.yml is
generated: `make format` (or `audience exposures sync`) writes it and `make lint` fails while
it differs from syncs.yml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from audience.project import project_dir
from audience.syncs import DestinationConfig, load_config

#: What each kind of destination does with the export, in words.
KIND_DESCRIPTIONS = {
    "crm_postgres": (
        "upserts the mapped fields onto the CRM's contact records in a PostgreSQL database"
    ),
    "audience_api": "adds and removes members of one list per segment through an HTTP audience API",
    "ad_files": ("writes one CSV of SHA-256-hashed emails per audience and ad platform for upload"),
    "webhook": "POSTs each record once to a webhook, with an Idempotency-Key",
    "sequence_api": (
        "enrolls and unenrolls the members of each mapped segment in an outbound sequence of a "
        "sales-engagement tool through its HTTP API"
    ),
}

#: Environment variables a kind reads besides the ones syncs.yml names (`*_env` options).
KIND_ENV_VARS = {
    "crm_postgres": ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD"),
}

HEADER = """\
# Generated from syncs.yml by `audience exposures sync` (run by `make format`): do not edit.
# One exposure per reverse-ETL destination, depending on the export model it sends;
# `make lint` fails while this file differs from syncs.yml.
"""


class _IndentedDumper(yaml.SafeDumper):
    """Indents list items under their key, as the project's hand-written YAML does."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


class StaleExposuresError(RuntimeError):
    """The exposures file does not describe the destinations of syncs.yml."""


def exposures_path(root: Path | None = None) -> Path:
    return (root or project_dir()) / "models" / "exposures" / "_syncs__exposures.yml"


def exposure_name(destination: str) -> str:
    return f"sync_{destination}"


def env_vars(config: DestinationConfig) -> list[str]:
    """The environment variables the destination reads its connection settings from."""
    named = [
        str(value)
        for key, value in config.options.items()
        if key.endswith("_env") and isinstance(value, str)
    ]
    return [*named, *KIND_ENV_VARS.get(config.kind, ())]


def _owner(config: DestinationConfig, default: Any, syncs_file: Path) -> dict[str, str]:
    owner = config.options.get("owner") or default
    if not isinstance(owner, dict) or not (owner.get("name") or owner.get("email")):
        raise StaleExposuresError(
            f"{syncs_file}: destination {config.name} needs an owner "
            "(a top-level `owner: {name: ...}` or the destination's own) with a name or email"
        )
    return {key: str(owner[key]) for key in ("name", "email") if owner.get(key)}


def exposure(config: DestinationConfig, owner: dict[str, str]) -> dict[str, Any]:
    """The exposure of one destination."""
    variables = env_vars(config)
    sentences = [
        f"Reverse-ETL destination `{config.name}` of syncs.yml, kind {config.kind}: "
        f"{KIND_DESCRIPTIONS[config.kind]}.",
        f"Sends {config.model} ({', '.join(config.fields)}).",
    ]
    reaches = config.options.get("reaches")
    if reaches:
        sentences.append(
            f"Reaches people by {reaches}: sends only those it can reach ({reaches}_reach), "
            "never anyone suppressed for the channel (contact_suppressions)."
        )
    if config.channels:
        sentences.append(f"Only segments of channel {' or '.join(config.channels)}.")
    if variables:
        sentences.append(f"Settings from the environment: {', '.join(variables)}.")
    sentences.append(f"Run with `audience sync {config.name}`.")
    return {
        "name": exposure_name(config.name),
        "label": f"Sync to {config.name} ({config.kind})",
        "type": "application",
        "maturity": "high",
        "owner": owner,
        "description": " ".join(sentences),
        "depends_on": [f"ref('{config.model}')"],
        "config": {
            "meta": {
                "destination": config.name,
                "kind": config.kind,
                "env_vars": variables,
                # what report_destination_reach counts: the export's rows the destination
                # takes (its segments' channels) and the channel it reaches them by
                "model": config.model,
                "reaches": config.options.get("reaches"),
                "channels": list(config.channels),
            }
        },
    }


def render(syncs_file: Path | None = None) -> str:
    """The exposures file for the destinations of `syncs_file` (default: the project's)."""
    syncs_file = syncs_file or project_dir() / "syncs.yml"
    raw = yaml.safe_load(syncs_file.read_text()) or {}
    default_owner = raw.get("owner")
    exposures = [
        exposure(config, _owner(config, default_owner, syncs_file))
        for config in load_config(syncs_file).values()
    ]
    body = yaml.dump(
        {"version": 2, "exposures": exposures},
        Dumper=_IndentedDumper,
        sort_keys=False,
        width=96,
        allow_unicode=True,
    )
    return HEADER + "\n" + body


def sync(root: Path | None = None, *, check: bool = False) -> list[str]:
    """Write (or with `check`, verify) the exposures file; return the exposure names."""
    base = root or project_dir()
    wanted = render(base / "syncs.yml")
    path = exposures_path(base)
    current = path.read_text() if path.exists() else None
    if wanted != current:
        if check:
            raise StaleExposuresError(
                f"{path.relative_to(base)} does not describe the destinations of syncs.yml; "
                "run `make format` (or `audience exposures sync`)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted)
    names = yaml.safe_load(wanted)["exposures"]
    return [item["name"] for item in names]
