"""The marketing-lists API: one list per segment, batch add and remove."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from audience.syncs.changes import Change, Delivery
from audience.syncs.config import DestinationConfig, SyncError
from audience.syncs.destinations.http import IDEMPOTENCY_HEADER, _http_session, http_settings
from audience.syncs.state import StateReader


class AudienceApi:
    """Marketing-audience lists over HTTP JSON: one list per segment, batch add and remove.

    POST {url}/lists/{list}/members/add|remove with {"members": [fields...]}; the answer
    lists the members it refused: {"rejected": [{"email": ..., "reason": ...}]}. Mirror
    semantics: only members this project added (its state) are ever removed.

    Each request carries an `Idempotency-Key` (one per batch, recorded in flight before it
    is sent): the only way a POST whose answer was lost can be sent again without adding
    its members twice, if the API honours the key. Without a key it is never re-sent once it
    reached the server (see destinations/http.py).
    """

    #: one key per request, recorded in sync_state.in_flight by the run
    idempotency = "batch"

    def __init__(self, config: DestinationConfig) -> None:
        url = config.env("url_env")
        if not url:
            raise SyncError(f"{config.name}: set {config.options.get('url_env')} to the API URL")
        # a query string (`?api_key=...`) goes with every call, after the endpoint's path
        parts = urlsplit(url)
        self.url = urlunsplit(parts._replace(path=parts.path.rstrip("/"), query=""))
        self.params = parse_qsl(parts.query, keep_blank_values=True)
        self.timeout, backoff = http_settings(config.options)
        self.session = _http_session(config.env("token_env"), backoff_seconds=backoff)

    def endpoint(self, audience: str, remove: bool) -> str:
        """Where a batch of one audience goes: its list's add or remove."""
        return f"{self.url}/lists/{audience}/members/{'remove' if remove else 'add'}"

    #: the request body's key for the batch
    batch_key = "members"

    def send(self, changes: Sequence[Change]) -> Delivery:
        members = [c.fields for c in changes]
        response = self.session.post(
            self.endpoint(changes[0].audience_key, changes[0].op == "remove"),
            json={self.batch_key: members},
            params=self.params,
            headers=(
                {IDEMPOTENCY_HEADER: changes[0].idempotency_key}
                if changes[0].idempotency_key
                else None
            ),
            timeout=self.timeout,
        )
        if response.status_code >= 400:
            raise SyncError(f"HTTP {response.status_code}: {response.text[:300]}")
        refused = {
            item["email"]: item.get("reason", "rejected")
            for item in response.json().get("rejected", [])
        }
        delivery = Delivery()
        for change in changes:
            reason = refused.get(change.fields.get("email"))
            if reason:
                delivery.rejected[change.record_key] = reason
            else:
                delivery.acked.append(change.record_key)
        return delivery

    def finish(self, state: StateReader) -> None:
        pass

    def close(self) -> None:
        self.session.close()
