"""dbt docs as the catalog: every model, column, test, exposure and metric, browsable.

`dbt docs generate --static` writes the manifest, the catalog (the relations and columns
as the warehouse has them) and a self-contained static_index.html that opens straight
from disk. The site is copied to `<output>/dbt_docs/`: index.html (the static page),
manifest.json, catalog.json and semantic_manifest.json (the metrics, for MetricFlow) for
tools that read dbt's artifacts.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from audience.dbt import run_dbt
from audience.project import output_dir, target_dir

DOCS_DIR = "dbt_docs"
#: dbt's artifact -> the name it gets in the docs folder
FILES = {
    "static_index.html": "index.html",
    "manifest.json": "manifest.json",
    "catalog.json": "catalog.json",
    "semantic_manifest.json": "semantic_manifest.json",
}


class DocsError(RuntimeError):
    """dbt docs generate did not produce a complete catalog."""


@dataclass
class DocsSite:
    path: Path  # the folder with index.html
    relations: int  # relations in the catalog (models, seeds, snapshots)
    sources: int  # raw tables in the catalog
    seconds: float

    def format_line(self) -> str:
        return (
            f"dbt docs: {self.relations} relations and {self.sources} sources in "
            f"{self.path / 'index.html'} ({self.seconds:.1f}s)"
        )


def generate_docs(target: str, as_of: datetime, out: Path | None = None) -> DocsSite:
    """Run `dbt docs generate --static` on `target` and copy the site to `out`
    (default `<output>/dbt_docs`)."""
    started = time.perf_counter()
    run_dbt(["docs", "generate", "--static", "--quiet"], target=target, as_of=as_of)
    built = target_dir()
    catalog = json.loads((built / "catalog.json").read_text())
    errors = catalog.get("errors") or []
    if errors:
        raise DocsError("dbt docs generate could not read the catalog: " + "; ".join(errors))
    out = out or output_dir() / DOCS_DIR
    out.mkdir(parents=True, exist_ok=True)
    for name, copy in FILES.items():
        shutil.copyfile(built / name, out / copy)
    return DocsSite(
        path=out,
        relations=len(catalog.get("nodes") or {}),
        sources=len(catalog.get("sources") or {}),
        seconds=time.perf_counter() - started,
    )
