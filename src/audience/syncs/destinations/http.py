"""The HTTP session the HTTP destinations share: urllib3's Retry for backoff, Retry-After on
429 and 503, and transient 5xx."""

from __future__ import annotations

from typing import Any


def _http_session(token: str | None) -> Any:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=8,
        connect=2,
        backoff_factor=0.2,
        backoff_max=10,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,  # the calls are idempotent: adds and removes are set operations
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session
