"""GX Data Docs that open offline: no script or stylesheet from the internet, their own
stylesheets inline, their tables written out as HTML.

Great Expectations writes pages that load Bootstrap, bootstrap-table, jQuery, Popper,
Vega and Font Awesome from public CDNs, and fill the index page's table with bootstrap-table
from data in a script: offline, the index is empty. After GX builds the site, every page is
rewritten here:

- each `<script src>` and `<link href>` that points at the internet is removed, and the
  scripts that need those libraries (jQuery's `$(...)`, bootstrap-table, Vega) with them;
- each table GX fills with bootstrap-table is written out as a plain HTML table (one row per
  validation run, each cell a link to its page);
- an image from GX's web assets (its logo) comes from the site's own copy, and a `url()` to
  the internet in a stylesheet is dropped;
- the site's own stylesheets (`static/styles/*.css`) and a small base stylesheet standing in
  for Bootstrap's are inlined in a `<style>` element;
- the data asset of a validation (GX shows "None" for a dataframe batch, the query asset's
  name, the suite's, for a SQL one) is the table of schema `quality` the suite validated.

The build a validation checked is its run name (`as_of-<as_of>-build-<build id>`, set by
audience.checks), shown on its page and in the index.
"""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Callable
from pathlib import Path

EXTERNAL_TAG = re.compile(
    r"<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*[\"'](?:https?:)?//[^\"']*[\"'][^>]*>"
    r"(?:\s*</script>)?",
    re.IGNORECASE | re.DOTALL,
)
INLINE_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)
#: what a script that needs one of the removed libraries says
NEEDS_LIBRARY = re.compile(r"\$\(|\$`|jQuery|bootstrapTable|vegaEmbed|\.tooltip\(|\.popover\(")
TABLE_SCRIPT = re.compile(
    r"<script>\s*\$\('#(?P<id>[^']+)'\)\.bootstrapTable\((?P<body>.*?)</script>", re.DOTALL
)
EXTERNAL_IMAGE = re.compile(
    r"(<img\b[^>]*?\bsrc\s*=\s*[\"'])(?:https?:)?//[^\"']*?/(?P<name>[\w.-]+?)(?:\?[^\"']*)?([\"'])",
    re.IGNORECASE,
)
EXTERNAL_URL = re.compile(r"url\(\s*[\"']?(?:https?:)?//[^)]*\)", re.IGNORECASE)
LOCAL_STYLESHEET = re.compile(
    r"<link\b[^>]*?rel=[\"']stylesheet[\"'][^>]*?href=[\"'](?P<href>[^\"':]+\.css)[\"'][^>]*>",
    re.IGNORECASE,
)
BASE_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
  color: #212529; line-height: 1.45; }
.container-fluid { padding: 1rem 2rem; }
a { color: #0b5ed7; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #dee2e6; padding: 0.25rem 0.5rem; vertical-align: top;
  text-align: left; }
thead th { background: #f1f3f5; }
.text-success { color: #198754; } .text-danger { color: #dc3545; }
.badge, code { font-family: ui-monospace, monospace; background: #f1f3f5; padding: 0 0.25rem; }
.card { border: 1px solid #dee2e6; border-radius: 4px; margin: 0.5rem 0 1rem; padding: 0.5rem; }
.fas.fa-check-circle::before { content: "\\2714"; } .fas.fa-times::before { content: "\\2716"; }
.hide-succeeded-validations-column-section-target-child, .d-none { display: none; }
""".strip()


def _table_html(table_id: str, body: str) -> str | None:
    """The rows a bootstrap-table script would show, as HTML; None when it is not the
    shape GX writes (Python literals on `columns:` and `data:` lines)."""
    columns_match = re.search(r"^\s*columns: (\[.*\]),\s*$", body, re.MULTILINE)
    data_match = re.search(r"^\s*data: (\[.*\]),\s*$", body, re.MULTILINE)
    if not columns_match or not data_match:
        return None
    try:
        columns = ast.literal_eval(columns_match.group(1))
        rows = ast.literal_eval(data_match.group(1))
    except (ValueError, SyntaxError):
        return None
    sort = re.search(r"'sortName': '(?P<field>[^']+)', 'sortOrder': '(?P<order>asc|desc)'", body)
    if sort:
        key = next((c.get("sortName", c["field"]) for c in columns if c["field"] == sort["field"]),
                   sort["field"])  # fmt: skip
        rows = sorted(rows, key=lambda r: str(r.get(key, "")), reverse=sort["order"] == "desc")
    head = "".join(f"<th>{html.escape(str(c.get('title', c['field'])))}</th>" for c in columns)
    lines = []
    for row in rows:
        link = row.get("_table_row_link_path")
        cells = []
        for column in columns:
            value = str(row.get(column["field"], ""))
            if link:
                value = f'<a href="{html.escape(link, quote=True)}">{value}</a>'
            cells.append(f"<td>{value}</td>")
        lines.append(f"<tr>{''.join(cells)}</tr>")
    return f"<thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody>"


def _write_out_tables(page: str) -> str:
    for match in list(TABLE_SCRIPT.finditer(page)):
        table = _table_html(match["id"], match["body"])
        if table is None:
            continue
        opening = re.search(
            rf"<table\b[^>]*\bid=\"{re.escape(match['id'])}\"[^>]*>\s*</table>", page
        )
        if opening:
            start, end = opening.span()
            element = opening.group(0)
            filled = element[: element.rindex("</table>")] + table + "</table>"
            page = page[:start] + filled + page[end:]
    return page


def _inline_styles(page: str, folder: Path) -> str:
    def inline(match: re.Match[str]) -> str:
        path = (folder / match["href"]).resolve()
        if not path.is_file():
            return ""
        return f"<style>\n{path.read_text(encoding='utf-8', errors='replace')}\n</style>"

    page = LOCAL_STYLESHEET.sub(inline, page)
    return page.replace("</head>", f"<style>\n{BASE_STYLE}\n</style>\n</head>", 1)


def _local_images(page: str, folder: Path, docs: Path) -> str:
    """An image GX loads from its web assets (its logo) from the site's own copy, when the
    site has one; else the image is left out."""

    def local(match: re.Match[str]) -> str:
        copy = docs / "static" / "images" / match["name"]
        if not copy.is_file():
            return f"{match.group(1)}{match.group(3)}"
        relative = Path(*[".."] * len(folder.relative_to(docs).parts), "static", "images")
        return f"{match.group(1)}{(relative / match['name']).as_posix()}{match.group(3)}"

    return EXTERNAL_IMAGE.sub(local, page)


def make_offline(
    page: str,
    folder: Path,
    docs: Path,
    data_asset: Callable[[], str | None],
    asset_names: tuple[str, ...] = ("None",),
) -> str:
    """One Data Docs page, made to open offline (see the module's description). The data
    asset GX shows as one of `asset_names` (None for a dataframe batch, the query asset's name
    for a SQL one) is named by `data_asset()`, the table validated."""
    page = _write_out_tables(page)
    page = EXTERNAL_TAG.sub("", page)
    page = _local_images(page, folder, docs)
    page = INLINE_SCRIPT.sub(lambda m: "" if NEEDS_LIBRARY.search(m.group(1)) else m.group(0), page)
    page = _inline_styles(page, folder)
    page = EXTERNAL_URL.sub("none", page)
    shown = [f"Data asset: {html.escape(name)}<" for name in asset_names]
    if any(label in page for label in shown):
        asset = data_asset()
        if asset:
            for label in shown:
                page = page.replace(label, f"Data asset: {html.escape(asset)}<")
    return page


def make_site_offline(docs: Path, batch_of_suite: dict[str, str], schema: str) -> int:
    """Rewrite every page of the Data Docs site under `docs`; the number of pages."""
    pages = sorted(docs.rglob("*.html"))
    for path in pages:
        relative = path.relative_to(docs).parts
        suite = relative[1] if len(relative) > 2 and relative[0] == "validations" else None

        def data_asset(suite: str | None = suite) -> str | None:
            batch = batch_of_suite.get(suite or "")
            return f"{schema}.{batch}" if batch else None

        text = path.read_text(encoding="utf-8")
        names = ("None", suite) if suite else ("None",)
        path.write_text(make_offline(text, path.parent, docs, data_asset, names), encoding="utf-8")
    return len(pages)
