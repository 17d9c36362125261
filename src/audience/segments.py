"""Keep segment_membership's parents in step with the segment models on disk.

dbt learns a model's parents when it parses it, before it knows the project graph, so a
model cannot discover "every segment" by itself. segment_membership therefore names each
segment model in a `-- depends_on:` hint between two marker lines, and this module writes
that block from the files under models/segments/. Adding a segment is adding its model and
YAML; `make format` (or `audience segments sync`) updates the block and `make lint` fails
while it is stale.
"""

from __future__ import annotations

from pathlib import Path

from audience.project import project_dir

BEGIN = "-- begin segment models"
END = "-- end segment models"


class StaleSegmentsError(RuntimeError):
    """segment_membership does not name exactly the segment models on disk."""


def segment_models(root: Path | None = None) -> list[str]:
    """The names of the segment models: every .sql file under models/segments/."""
    base = (root or project_dir()) / "models" / "segments"
    return sorted(path.stem for path in base.rglob("*.sql"))


def membership_model(root: Path | None = None) -> Path:
    return (root or project_dir()) / "models" / "marts" / "segment_membership.sql"


def render_block(names: list[str]) -> str:
    lines = [BEGIN, *(f"-- depends_on: {{{{ ref('{name}') }}}}" for name in names), END]
    return "\n".join(lines)


def synced_text(text: str, names: list[str]) -> str:
    """`text` with its marker block replaced by one naming `names`."""
    start = text.find(BEGIN)
    stop = text.find(END)
    if start < 0 or stop < start:
        raise StaleSegmentsError(f"segment_membership.sql lacks the lines {BEGIN!r} ... {END!r}")
    return text[:start] + render_block(names) + text[stop + len(END) :]


def sync(root: Path | None = None, *, check: bool = False) -> list[str]:
    """Rewrite (or with `check`, verify) the block; return the segment model names."""
    names = segment_models(root)
    path = membership_model(root)
    text = path.read_text()
    wanted = synced_text(text, names)
    if wanted != text:
        if check:
            raise StaleSegmentsError(
                "segment_membership.sql does not list the segment models on disk; "
                "run `make format` (or `audience segments sync`)"
            )
        path.write_text(wanted)
    return names
