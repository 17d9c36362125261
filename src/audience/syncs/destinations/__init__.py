"""One module per destination kind; each opens from its DestinationConfig and sends changes."""

from audience.syncs.destinations.ad_files import (
    AD_PLATFORMS,
    GMAIL_DOMAINS,
    AdFiles,
    hashed_email,
    normalize_email,
)
from audience.syncs.destinations.audience_api import AudienceApi
from audience.syncs.destinations.crm_postgres import (
    CRM_OWNED_FIELDS,
    RAW_CRM_COLUMNS,
    CrmPostgres,
    CrmPull,
    ensure_crm_schema,
    pull_crm_changes,
)
from audience.syncs.destinations.http import _http_session
from audience.syncs.destinations.sequence_api import SequenceApi
from audience.syncs.destinations.webhook import Webhook

__all__ = [
    "AD_PLATFORMS",
    "CRM_OWNED_FIELDS",
    "GMAIL_DOMAINS",
    "RAW_CRM_COLUMNS",
    "AdFiles",
    "AudienceApi",
    "CrmPostgres",
    "CrmPull",
    "SequenceApi",
    "Webhook",
    "_http_session",
    "ensure_crm_schema",
    "hashed_email",
    "normalize_email",
    "pull_crm_changes",
]
