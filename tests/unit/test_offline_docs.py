"""Data Docs pages made to open offline: what GX loads from CDNs goes, its tables are
written out, its stylesheets inlined, the data asset named."""

from __future__ import annotations

from pathlib import Path

from audience.offline_docs import make_site_offline

PAGE = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<link rel="stylesheet" type="text/css" href="../static/styles/site.css"/>
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<script src="https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js"
  integrity="sha384-x" crossorigin="anonymous"></script>
</head><body>
<img
  src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&id=2"
  alt="logo"/>
<div class="x">Data asset: None<br></div>
<table
  id="t-1"
  class="table-sm" data-toggle="table"
>
</table>
<script>
  function rowStyleLinks(row, index) { return {}; }
</script>
<script>
  $('#t-1').bootstrapTable(
    Object.assign(
      {
        columns: [{'field': 'run_name', 'title': 'Run Name'}, {'field': 'asset', 'title': 'Asset'}],
        data: @DATA@,
        toolbar: '#t-1-toolbar'
      },
      {'search': 'true', 'sortName': 'run_name', 'sortOrder': 'desc'}
    )
  );
</script>
<style>.logo { background: url('https://example.com/logo.png'); }</style>
</body></html>
"""
ROWS = [
    {
        "run_name": "as_of-2026-06-29T000000-build-b1",
        "asset": "<span>a</span>",
        "_table_row_link_path": "validations/s/1.html",
    },
    {
        "run_name": "as_of-2026-06-30T000000-build-b2",
        "asset": "b",
        "_table_row_link_path": "validations/s/2.html",
    },
]
PAGE = PAGE.replace("@DATA@", repr(ROWS))  # one line, as GX writes it


def test_a_page_opens_offline(tmp_path: Path):
    docs = tmp_path / "docs"
    page = docs / "validations" / "raw_volume" / "run" / "page.html"
    page.parent.mkdir(parents=True)
    page.write_text(PAGE)
    (docs / "static" / "styles").mkdir(parents=True)
    (docs / "static" / "styles" / "site.css").write_text(".ge { color: red; }")
    (docs / "static" / "images").mkdir(parents=True)
    (docs / "static" / "images" / "logo-long.png").write_bytes(b"png")
    # the stylesheet link is relative to the page
    page.write_text(PAGE.replace("../static", "../../../static"))

    assert make_site_offline(docs, {"raw_volume": "check_raw_sources"}, "quality") == 1
    text = page.read_text()

    assert "https://" not in text and "//code.jquery" not in text
    assert "bootstrapTable" not in text and "$(" not in text
    assert "function rowStyleLinks" in text  # a script that needs no library stays
    assert ".ge { color: red; }" in text and "<link" not in text
    assert 'src="../../../static/images/logo-long.png"' in text
    assert "Data asset: quality.check_raw_sources" in text
    # the table's rows, newest run first, each cell a link to its page
    rows = text.split("<tbody>")[1].split("</tbody>")[0].split("</tr>")
    assert "build-b2" in rows[0] and "build-b1" in rows[1]
    assert '<a href="validations/s/2.html"><span>a</span>' not in rows[0]
    assert '<a href="validations/s/1.html"><span>a</span></a>' in rows[1]
    assert "<th>Run Name</th><th>Asset</th>" in text


def test_a_sql_batch_names_the_table_not_the_query_asset(tmp_path: Path):
    """On PostgreSQL GX shows the query asset's name (the suite's); the page names the table."""
    page = tmp_path / "validations" / "raw_volume" / "run" / "page.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html><head></head><body>Data asset: raw_volume<br></body></html>")
    make_site_offline(tmp_path, {"raw_volume": "check_raw_sources"}, "quality")
    assert "Data asset: quality.check_raw_sources<br>" in page.read_text()
