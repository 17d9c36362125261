"""The destinations of syncs.yml: their settings, which of them are secrets, and the errors
a sync raises. Everything else in the package reads a destination through DestinationConfig."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from audience import consent
from audience.project import project_dir
from audience.redaction import secret_values

if TYPE_CHECKING:
    from audience.syncs.runs import SyncRun

STATE_SCHEMA = "sync_state"
EXPORT_SCHEMA = "marts"
KINDS = ("crm_postgres", "audience_api", "ad_files", "webhook", "sequence_api")
#: settings (`*_env` options) whose values may be shown: everything else a destination
#: reads from the environment is treated as a secret
PUBLIC_SETTINGS = frozenset({"directory_env"})


class SyncError(RuntimeError):
    """A sync is misconfigured or its destination failed; the message says which and why.
    Raised by a run of one destination, it carries that run (`run`, logged as failed or
    refused in sync_state.sync_runs)."""

    run: SyncRun | None = None


class SyncRefused(SyncError):
    """A safety rule stopped the sync before it sent anything."""


# --- configuration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DestinationConfig:
    name: str
    kind: str
    model: str
    fields: dict[str, str]
    channels: tuple[str, ...] = ()
    batch_size: int = 1000
    max_remove_share: float = 0.2
    max_change_share: float = 0.5
    min_protected_records: int = 5
    #: a record the destination refuses this many times in a row (same payload) is
    #: dead-lettered: reported, and held back until its payload changes
    max_attempts: int = 5
    append_only: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    def env(self, key: str) -> str | None:
        """The value of the environment variable the option `key` names, if set."""
        name = self.options.get(key)
        return os.environ.get(name) if name else None

    def secrets(self) -> set[str]:
        """What must never be shown of this destination's settings: the value of every
        environment variable it reads (URL, token, the CRM's DSN; PGPASSWORD for the CRM's
        connection) and the pieces of those URLs (see audience.redaction.secret_values).
        A plain database name is no secret: masking it would mask words of messages."""
        found: set[str] = set()
        for key in self.options:
            if key.endswith("_env") and key not in PUBLIC_SETTINGS:
                value = self.env(key)
                if key == "database_env" and value and not _is_dsn(value):
                    continue  # a database's name: shown, as it names nothing secret
                found |= secret_values(value)
        if self.kind == "crm_postgres":
            found |= secret_values(os.environ.get("PGPASSWORD"))
        return found


def _is_dsn(value: str) -> bool:
    """A connection string (URL or libpq key=value) rather than a database's name."""
    return "://" in value or "=" in value


def all_secrets(configs: dict[str, DestinationConfig] | None = None) -> set[str]:
    """The secrets of every destination of syncs.yml (none when it cannot be read)."""
    try:
        configs = load_config() if configs is None else configs
    except (OSError, SyncError, yaml.YAMLError):
        return set()
    return set().union(*(config.secrets() for config in configs.values()))


def load_config(path: Path | None = None) -> dict[str, DestinationConfig]:
    path = path or project_dir() / "syncs.yml"
    raw = yaml.safe_load(path.read_text()) or {}
    configs: dict[str, DestinationConfig] = {}
    known = set(DestinationConfig.__dataclass_fields__) - {"name", "options"}
    for name, spec in (raw.get("destinations") or {}).items():
        spec = dict(spec)
        if spec.get("kind") not in KINDS:
            raise SyncError(f"{path}: destination {name}: kind must be one of {', '.join(KINDS)}")
        if not spec.get("model") or not spec.get("fields"):
            raise SyncError(f"{path}: destination {name} needs a model and fields")
        settings = {k: spec.pop(k) for k in list(spec) if k in known}
        settings["channels"] = tuple(settings.get("channels") or ())
        consent.reaches(name, spec)  # `reaches` (kept in options) names a known channel
        configs[name] = DestinationConfig(name=name, options=spec, **settings)
    return configs
