"""`audience sync`: reverse ETL that sends only what changed, and never sends bad data.

Each destination in syncs.yml sends one export model (models/exports/). What it last
delivered is kept in the warehouse (sync_state.delivered: record key, audience, payload
fingerprint and the sent fields), and each run computes in SQL what to add, change and
remove by record key. Unchanged data sends nothing.

Safety: a sync refuses to run when the quality gates of the build failed (or never ran),
when its export is empty, or when it would remove or change more than a configured share
of an audience (the circuit breaker), unless forced (the gates cannot be forced). A dry run prints
the changes and sends nothing.

Reliability: the state advances as the destination acknowledges, in transactions. A
destination that fails midway keeps what it acknowledged; the retry sends the rest. Keyed
requests (the webhook's per record, the lists API's per batch) are recorded in flight before
they go out and re-sent as they were, with the same Idempotency-Key, by the next run; ad
files are named by the state only once renamed into place; the CRM skips an upsert whose
values it already holds. So a record is delivered exactly once for destinations that honour
Idempotency-Key (README, Syncs; audience.sync_faults proves it under injected faults).
Records a destination rejects are kept with the reason in sync_state.rejections and stay
pending, so the next run retries them. Every run is logged in sync_state.sync_runs: a
`running` row when it starts, its outcome when it ends; a run that finds an earlier
`running` row of its destination (a killed process) marks it `interrupted`. One
destination failing or refused never stops the others (`run_syncs`).

Delivery is plain code over two well-kept libraries: `requests` sessions with urllib3's
`Retry` (exponential backoff, Retry-After on 429 and 503, transient 5xx; only for requests
safe to repeat) for the HTTP destinations, and psycopg2 for the CRM database. The batching
and the state are in the warehouse, where the change detection already is.

The package: `config` (syncs.yml), `changes` (the diff), `state` (sync_state), `safety` (the
empty-export guard and the circuit breaker), `runs` (one run and `run_syncs`) and
`destinations/` (one module per kind). Every name is importable from `audience.syncs`.
"""

from __future__ import annotations

from audience.syncs.changes import (
    Change,
    Delivery,
    Destination,
    _export_query,
    _plain,
    diff,
)
from audience.syncs.config import (
    EXPORT_SCHEMA,
    KINDS,
    PUBLIC_SETTINGS,
    STATE_SCHEMA,
    DestinationConfig,
    SyncError,
    SyncRefused,
    _is_dsn,
    all_secrets,
    load_config,
)
from audience.syncs.destinations import (
    AD_PLATFORMS,
    CRM_OWNED_FIELDS,
    GMAIL_DOMAINS,
    RAW_CRM_COLUMNS,
    AdFiles,
    AudienceApi,
    CrmPostgres,
    CrmPull,
    Webhook,
    _http_session,
    ensure_crm_schema,
    hashed_email,
    normalize_email,
    pull_crm_changes,
)
from audience.syncs.runs import (
    INTERRUPTED_MESSAGE,
    SyncRun,
    _batches,
    _insert_run,
    _log_run,
    _newest_sent_as_of,
    _outcome,
    _run_one,
    _start_run,
    missing_settings,
    open_destination,
    run_syncs,
    sync_destination,
)
from audience.syncs.safety import (
    Trip,
    breaker_trips,
    check_safety,
)
from audience.syncs.state import (
    STATE_DDL_MACRO,
    StateReader,
    advance_state,
    dead_letters,
    ensure_state,
    record_rejections,
    state_ddl,
)

__all__ = [
    "AD_PLATFORMS",
    "CRM_OWNED_FIELDS",
    "EXPORT_SCHEMA",
    "GMAIL_DOMAINS",
    "INTERRUPTED_MESSAGE",
    "KINDS",
    "PUBLIC_SETTINGS",
    "RAW_CRM_COLUMNS",
    "STATE_DDL_MACRO",
    "STATE_SCHEMA",
    "AdFiles",
    "AudienceApi",
    "Change",
    "CrmPostgres",
    "CrmPull",
    "Delivery",
    "Destination",
    "DestinationConfig",
    "StateReader",
    "SyncError",
    "SyncRefused",
    "SyncRun",
    "Trip",
    "Webhook",
    "_batches",
    "_export_query",
    "_http_session",
    "_insert_run",
    "_is_dsn",
    "_log_run",
    "_newest_sent_as_of",
    "_outcome",
    "_plain",
    "_run_one",
    "_start_run",
    "advance_state",
    "all_secrets",
    "breaker_trips",
    "check_safety",
    "dead_letters",
    "diff",
    "ensure_crm_schema",
    "ensure_state",
    "hashed_email",
    "load_config",
    "missing_settings",
    "normalize_email",
    "open_destination",
    "pull_crm_changes",
    "record_rejections",
    "run_syncs",
    "state_ddl",
    "sync_destination",
]
