"""Consent, suppression and deletion requests: whom a destination may reach, and forgetting.

Membership says who qualifies for a segment; whom a destination may send to is a matter of
the channel it reaches people by (syncs.yml `reaches`: email, ads or crm, the dbt var
`consent__channels`). Each export a destination sends carries, per channel, a
`<channel>_reach` column (reachable, suppressed, no_address) computed in SQL from
marts.contact_suppressions; a sync sends only the rows its channel reaches
(`reach_condition`), so a person who becomes suppressed drops out of the export and the
destination's mirror semantics remove them.

Two kinds of request are written here, into the warehouse's `privacy` schema (defined once,
in macros/privacy/privacy_ddl.sql; the build creates the tables too and reads them as
sources), never into the repository, as they name people:

- `forget`: a deletion request. The next build leaves the person out of identity_map and so
  out of every mart, segment and export, and keeps them out when a later load brings their
  rows back; the next sync removes them from every destination that holds them.
- `suppress`: a manual suppression of one channel (or all) for one person.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from audience.project import project_dir
from audience.warehouse import Warehouse, quote_ident

PRIVACY_SCHEMA = "privacy"
#: the one definition of the privacy tables: a dbt macro the build runs and the CLI renders
PRIVACY_DDL_MACRO = Path("macros") / "privacy" / "privacy_ddl.sql"
#: what a destination knows about a person's reach on its channel (`<channel>_reach`)
REACHABLE, SUPPRESSED, NO_ADDRESS = "reachable", "suppressed", "no_address"


class ConsentError(ValueError):
    """A privacy request names something unknown (a channel, a contact)."""


@cache
def channels() -> tuple[str, ...]:
    """The channels destinations reach people by: dbt var consent__channels."""
    project = yaml.safe_load((project_dir() / "dbt_project.yml").read_text())
    return tuple(project["vars"]["consent__channels"])


# --- destinations -----------------------------------------------------------------------------


def reaches(name: str, options: dict[str, Any]) -> str | None:
    """The channel a destination of syncs.yml reaches people by (its `reaches` setting),
    checked against the known channels; None when it sets none (it sends every row)."""
    channel = options.get("reaches")
    if channel is None:
        return None
    if channel not in channels():
        # a misconfigured destination, as syncs.load_config reports the others (imported
        # here: syncs imports this module)
        from audience.syncs import SyncError

        raise SyncError(
            f"syncs.yml: destination {name}: reaches must be one of {', '.join(channels())}, "
            f"not {channel!r}"
        )
    return str(channel)


def reach_column(channel: str) -> str:
    """The export column that says whether a row may be sent on `channel`."""
    return f"{channel}_reach"


def reach_condition(name: str, options: dict[str, Any]) -> str | None:
    """The SQL condition on an export's rows a destination may send: those its channel
    reaches (an address for it, no suppression); None when the destination sets no
    `reaches`."""
    channel = reaches(name, options)
    if channel is None:
        return None
    return f"{quote_ident(reach_column(channel))} = '{REACHABLE}'"


# --- privacy requests -------------------------------------------------------------------------


def privacy_ddl() -> list[str]:
    """The statements of macro privacy_ddl with the plain types DuckDB and PostgreSQL take."""
    import jinja2

    template = jinja2.Environment(extensions=["jinja2.ext.do"]).from_string(
        (project_dir() / PRIVACY_DDL_MACRO).read_text()
    )
    text = str(template.module.privacy_ddl())
    return [statement.strip() for statement in text.split(";") if statement.strip()]


def ensure_privacy_tables(warehouse: Warehouse) -> None:
    for statement in privacy_ddl():
        warehouse.execute(statement)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def parse_person(text: str) -> tuple[str, str]:
    """(identifier_type, identifier) of what a person was named by: an email (trimmed and
    lower-cased, as the warehouse keeps them) or a contact key."""
    value = text.strip()
    if not value:
        raise ConsentError("name a person by an email or a contact key")
    if "@" in value:
        return "email", value.lower()
    return "contact_key", value


def _contact_identifiers(warehouse: Warehouse, kind: str, value: str) -> list[tuple[str, str]]:
    """Every (identifier_type, identifier) of the contact an email or key names now, from the
    last build's identity_map; none when the warehouse does not know them (or was never
    built)."""
    if not warehouse.column_names("marts", "identity_map"):
        return []
    if kind == "contact_key":
        where = "contact_key = ?"
    else:
        where = (
            "contact_key in (select contact_key from marts.identity_map "
            "where identifier_type = 'email' and identifier = ?)"
        )
    rows = warehouse.query(
        "select identifier_type, identifier from marts.identity_map "
        f"where {where} order by identifier_type, identifier",
        (value,),
    )
    return [(str(t), str(i)) for t, i in rows]


@dataclass
class ForgetRequest:
    request_id: str
    requested_as: str
    #: the identifiers recorded: what was given and every identifier of the contact now
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    #: the warehouse knew the person when the request was made
    known: bool = False


def forget(warehouse: Warehouse, person: str) -> ForgetRequest:
    """Record a deletion request for the person an email or contact key names.

    The email (or key) is recorded with every identifier the person has in the last build
    (user ids, device ids, other addresses, CRM ids), so the request still finds them when
    their identity changes. An email the warehouse does not know yet is recorded anyway:
    a later load of their data finds them forgotten. An unknown contact key is refused: a
    key means something only in this warehouse."""
    kind, value = parse_person(person)
    known = _contact_identifiers(warehouse, kind, value)
    if kind == "contact_key" and not known:
        raise ConsentError(f"no contact {value} in the warehouse's identity_map")
    request = ForgetRequest(uuid.uuid4().hex[:16], person.strip(), known=bool(known))
    request.identifiers = sorted({(kind, value), *known})
    ensure_privacy_tables(warehouse)
    now = _now()
    warehouse.begin()
    try:
        for identifier_type, identifier in request.identifiers:
            warehouse.execute(
                f"insert into {PRIVACY_SCHEMA}.deletion_requests "
                "(request_id, requested_as, identifier_type, identifier, requested_at) "
                "values (?, ?, ?, ?, ?)",
                (request.request_id, request.requested_as, identifier_type, identifier, now),
            )
        warehouse.commit()
    except Exception:
        warehouse.rollback()
        raise
    return request


def suppress(warehouse: Warehouse, person: str, channel: str, note: str) -> tuple[str, str]:
    """Record a manual suppression of `channel` (or `all`) for the person an email or a
    contact key names; the next build lists it in marts.contact_suppressions."""
    if channel != "all" and channel not in channels():
        raise ConsentError(f"channel must be all or one of {', '.join(channels())}")
    kind, value = parse_person(person)
    ensure_privacy_tables(warehouse)
    warehouse.execute(
        f"insert into {PRIVACY_SCHEMA}.manual_suppressions "
        "(identifier_type, identifier, channel, note, suppressed_at) values (?, ?, ?, ?, ?)",
        (kind, value, channel, note, _now()),
    )
    return kind, value
