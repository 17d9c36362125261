"""Hashed ad-audience files, one per audience and platform, normalized as each platform asks."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from audience.project import output_dir
from audience.syncs.changes import Change, Delivery, RunContext, WrittenFile
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
    """Hashed ad-audience files, one per audience and platform and build.

    Each file holds the whole audience as delivered (the state plus the run's changes) and is
    named for what it is: `<dir>/<platform>/<audience>/<destination>-<as_of>-<n>.csv`, `n`
    counting the files the state names for that audience, platform and as_of. It is written
    to a hidden temporary name in the same folder, flushed and fsynced, renamed to its final
    name, and only then does the state name it, in the transaction that records its records
    as delivered. So the state never names a file that was not written; a crash before the
    rename leaves no final file and no state (the temporary file is removed by the next
    run); a crash after the rename, before the state, is followed by a rerun that writes the
    same name again (the state did not count it) rather than a second file.
    """

    #: the run hands over all changes of one audience at once: a file is a whole audience
    whole_audiences = True

    def __init__(self, config: DestinationConfig) -> None:
        self.name = config.name
        self.directory = Path(config.env("directory_env") or output_dir() / "ad_audiences")
        self.platforms = list(config.options.get("platforms") or ["meta"])
        unknown = [p for p in self.platforms if p not in AD_PLATFORMS]
        if unknown:
            raise SyncError(f"{config.name}: unknown ad platform(s) {unknown}")
        self.context: RunContext | None = None

    def begin(self, context: RunContext) -> None:
        self.context = context
        self.remove_stale_parts()

    def remove_stale_parts(self) -> list[Path]:
        """Delete the temporary files a killed run left (they were never renamed, so never
        delivered); runs of one destination do not overlap (one warehouse writer)."""
        stale = [*self.directory.glob("*/.*.part"), *self.directory.glob("*/*/.*.part")]
        for part in stale:
            part.unlink(missing_ok=True)
        return stale

    def file_path(self, audience: str, platform: str, as_of: datetime, sequence: int) -> Path:
        """The final name of a file: the same for the same audience, platform, build and
        sequence, whichever run writes it."""
        stamp = as_of.strftime("%Y%m%dT%H%M%S")
        return self.directory / platform / audience / f"{self.name}-{stamp}-{sequence}.csv"

    def send(self, changes: Sequence[Change]) -> Delivery:
        if self.context is None:
            raise SyncError(f"{self.name}: the run did not begin (AdFiles.begin)")
        state, as_of = self.context.state, self.context.as_of
        audience = changes[0].audience_key
        records = state.records(audience)
        for change in changes:
            if change.op == "remove":
                records.pop(change.record_key, None)
            else:
                records[change.record_key] = change.fields
        emails = [p["email"] for p in records.values() if p.get("email")]
        delivery = Delivery(acked=[c.record_key for c in changes])
        for platform in self.platforms:
            sequence = state.files_written(audience, platform, as_of) + 1
            final = self.file_path(audience, platform, as_of, sequence)
            hashes = sorted({hashed_email(e, platform) for e in emails})
            digest = self.write_file(final, hashes)
            delivery.files.append(
                WrittenFile(audience, platform, as_of, sequence, str(final), len(hashes), digest)
            )
        return delivery

    def write_file(self, final: Path, hashes: Sequence[str]) -> str:
        """Write the file under a temporary name, make it durable, rename it into place;
        returns its sha256."""
        final.parent.mkdir(parents=True, exist_ok=True)
        part = final.with_name(f".{final.name}.{os.getpid()}.part")
        text = "email_sha256\n" + "".join(f"{h}\n" for h in hashes)
        data = text.encode("utf-8")
        with part.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        self.publish(part, final)
        return hashlib.sha256(data).hexdigest()

    def publish(self, part: Path, final: Path) -> None:
        """Rename the written file to its final name (atomic within a folder), and make the
        rename durable before the state names the file."""
        os.replace(part, final)
        folder = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def finish(self, state: StateReader) -> None:
        self.remove_superseded(state)

    def remove_superseded(self, state: StateReader) -> list[Path]:
        """Delete this destination's files that a newer file of the same audience and
        platform replaced, once the state names the newer one: the platform reads the newest,
        and an older file would keep people who left the audience (or asked to be forgotten)
        on disk. `sync_state.files` keeps the record of every file written."""
        removed: list[Path] = []
        for (audience, platform), current in state.current_files().items():
            folder = self.directory / platform / audience
            for file in folder.glob(f"{self.name}-*.csv"):
                if file.name != Path(current).name:
                    file.unlink(missing_ok=True)
                    removed.append(file)
        return removed

    def close(self) -> None:
        pass
