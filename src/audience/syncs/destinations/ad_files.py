"""Hashed ad-audience files, one per audience and platform, normalized as each platform asks."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from pathlib import Path

from audience.project import output_dir
from audience.syncs.changes import Change, Delivery
from audience.syncs.config import DestinationConfig, SyncError
from audience.syncs.state import StateReader

#: How each ad platform wants an email before hashing. All trim and lower-case; Google also
#: drops the dots of a gmail.com / googlemail.com local part. None asks for plus tags to go.
AD_PLATFORMS: dict[str, dict[str, bool]] = {
    "meta": {"gmail_dots": False, "plus_tags": False},
    "google": {"gmail_dots": True, "plus_tags": False},
    "tiktok": {"gmail_dots": False, "plus_tags": False},
    "linkedin": {"gmail_dots": False, "plus_tags": False},
}
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def normalize_email(email: str, platform: str) -> str:
    """The email as `platform` wants it before hashing."""
    rules = AD_PLATFORMS[platform]
    text = email.strip().lower()
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    if rules["plus_tags"]:
        local = local.split("+", 1)[0]
    if rules["gmail_dots"] and domain in GMAIL_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def hashed_email(email: str, platform: str) -> str:
    return hashlib.sha256(normalize_email(email, platform).encode("utf-8")).hexdigest()


class AdFiles:
    """Hashed ad-audience files: <dir>/<platform>/<audience>.csv, one per audience and
    platform, rewritten (atomically) when the audience changed, from the delivered state."""

    def __init__(self, config: DestinationConfig) -> None:
        self.directory = Path(config.env("directory_env") or output_dir() / "ad_audiences")
        self.platforms = list(config.options.get("platforms") or ["meta"])
        unknown = [p for p in self.platforms if p not in AD_PLATFORMS]
        if unknown:
            raise SyncError(f"{config.name}: unknown ad platform(s) {unknown}")
        self.touched: set[str] = set()

    def send(self, changes: Sequence[Change]) -> Delivery:
        self.touched.update(c.audience_key for c in changes)
        return Delivery(acked=[c.record_key for c in changes])

    def finish(self, state: StateReader) -> None:
        for audience in sorted(self.touched):
            emails = [p["email"] for p in state.payloads(audience) if p.get("email")]
            for platform in self.platforms:
                folder = self.directory / platform
                folder.mkdir(parents=True, exist_ok=True)
                hashes = sorted({hashed_email(e, platform) for e in emails})
                part = folder / f".{audience}.csv.part"
                with part.open("w", newline="") as handle:
                    writer = csv.writer(handle)
                    writer.writerow(["email_sha256"])
                    writer.writerows([h] for h in hashes)
                part.replace(folder / f"{audience}.csv")

    def close(self) -> None:
        pass
