"""The lead-routing webhook: one POST per record."""

from __future__ import annotations

from collections.abc import Sequence

from audience.syncs.changes import Change, Delivery
from audience.syncs.config import DestinationConfig, SyncError
from audience.syncs.destinations.http import _http_session
from audience.syncs.state import StateReader


class Webhook:
    """Lead-routing notifications: one POST per record, with an Idempotency-Key header."""

    def __init__(self, config: DestinationConfig) -> None:
        url = config.env("url_env")
        if not url:
            raise SyncError(f"{config.name}: set {config.options.get('url_env')} to the URL")
        self.url = url
        self.session = _http_session(config.env("token_env"))

    def send(self, changes: Sequence[Change]) -> Delivery:
        delivery = Delivery()
        for change in changes:
            response = self.session.post(
                self.url,
                json={"event": "lead_routed", **change.fields},
                headers={"Idempotency-Key": change.record_key},
                timeout=30,
            )
            if response.status_code < 300:
                delivery.acked.append(change.record_key)
            elif 400 <= response.status_code < 500:
                delivery.rejected[change.record_key] = f"HTTP {response.status_code}"
            else:
                raise SyncError(f"HTTP {response.status_code}: {response.text[:300]}")
        return delivery

    def finish(self, state: StateReader) -> None:
        pass

    def close(self) -> None:
        self.session.close()
