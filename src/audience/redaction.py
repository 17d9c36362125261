"""Secrets never reach logs, messages or tables.

A destination's settings (webhook URLs whose path is the token, `?api_key=` query strings,
bearer tokens, DSNs with `user:password@`) end up in the text of errors: an HTTP library
names the URL it failed to reach, a server echoes what it was sent. Every text a sync
writes (sync_state.sync_runs.message, sync_state.rejections.reason, its errors, log lines,
the CLI's stderr, Dagster metadata) goes through `redact` first:

- a URL keeps its scheme, host and port; userinfo goes, a path becomes `/…` and query
  values become `***`: `https://hooks.example.com/…?api_key=***`;
- a `Bearer <token>` and a `key=value` of a query string lose the value;
- the exact values of the configured secrets (`secret_values`) become `***`, wherever
  they are, URL or not.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

MASK = "***"
#: shorter configured values are not searched for: they would mask ordinary words
MIN_SECRET_LENGTH = 4

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>()\[\]{}]+", re.IGNORECASE)
_BEARER = re.compile(r"\b(bearer)(\s+)[^\s'\",;]+", re.IGNORECASE)
_DSN_PASSWORD = re.compile(r"\bpassword\s*=\s*'?([^\s']+)", re.IGNORECASE)
_QUERY_VALUE = re.compile(r"([?&][^=&?#\s'\"]+=)([^&#\s'\"]+)")


def redact_url(url: str) -> str:
    """scheme://host:port, `/…` for a path, `***` for each query value."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return MASK
    if ":" in host:  # IPv6
        host = f"[{host}]"
    text = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    if parts.path not in ("", "/"):
        text += "/…"
    elif parts.path:
        text += "/"
    if parts.query:
        keys = [key for key, _ in parse_qsl(parts.query, keep_blank_values=True)]
        text += "?" + "&".join(f"{key}={MASK}" for key in keys) if keys else "?" + MASK
    return text


def _redact_url_match(match: re.Match[str]) -> str:
    url = match.group(0)
    trailing = url[len(url.rstrip(".,:;!")) :]  # the sentence's, not the URL's
    return redact_url(url[: len(url) - len(trailing)]) + trailing


def _redact_query_value(match: re.Match[str]) -> str:
    value = match.group(2)
    trailing = value[len(value.rstrip(".,:;!)")) :]
    return f"{match.group(1)}{MASK}{trailing}"


def secret_values(value: str | None) -> set[str]:
    """The strings of one setting that must not be shown: the value itself and, for a URL
    or DSN, its password, its path and each query value (as written and decoded), since
    errors name the URL in pieces (`...with url: /T000/B000/XXXX?api_key=...`)."""
    if not value:
        return set()
    found = {value}
    # a libpq key=value connection string: its password
    found.update(match.group(1) for match in _DSN_PASSWORD.finditer(value))
    if "://" in value:
        try:
            parts = urlsplit(value)
            password = parts.password
        except ValueError:
            return found
        if password:
            found.add(password)
        if parts.username and password:
            found.add(f"{parts.username}:{password}")
        path = parts.path.rstrip("/")
        if path:
            found.add(path)
        for _, item in parse_qsl(parts.query, keep_blank_values=True):
            found.add(item)
    expanded = set()
    for item in found:
        expanded.update({item, unquote(item), quote(item, safe="/"), quote_plus(item)})
    return {item for item in expanded if len(item) >= MIN_SECRET_LENGTH}


def redact(text: str, secrets: Collection[str] = ()) -> str:
    """`text` with URLs shortened, tokens and query values masked and each secret hidden."""
    if not text:
        return text
    text = _URL.sub(_redact_url_match, text)
    text = _BEARER.sub(lambda match: f"{match.group(1)}{match.group(2)}{MASK}", text)
    text = _QUERY_VALUE.sub(_redact_query_value, text)
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, MASK)
    return text


def redactor(secrets: Iterable[str]) -> Callable[[str], str]:
    """`redact` with these secrets."""
    frozen = frozenset(secrets)
    return lambda text: redact(text, frozen)


@contextmanager
def redacting_logs(secrets: Iterable[str]) -> Iterator[None]:
    """Every log record made meanwhile, by any logger (urllib3 names the URLs it retries),
    is redacted before a handler sees it."""
    hide = redactor(secrets)
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: leave it to logging's own error handling
            return record
        record.msg, record.args = hide(message), None
        if record.exc_info and record.exc_info[1] is not None:
            # the traceback text would carry the exception's own words
            record.msg += f" ({type(record.exc_info[1]).__name__}: {hide(str(record.exc_info[1]))})"
            record.exc_info, record.exc_text = None, None
        return record

    logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        logging.setLogRecordFactory(previous)
