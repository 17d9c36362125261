"""Names dbt turns into relations fit every target: PostgreSQL cuts identifiers at 63
characters and refuses a longer relation name (a dbt unit test runs as a relation named after
the test)."""

from __future__ import annotations

import yaml

from audience.project import project_dir

POSTGRES_IDENTIFIER_LIMIT = 63


def test_every_model_and_unit_test_name_fits_a_postgres_identifier():
    too_long = []
    root = project_dir()
    for path in sorted((root / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        for unit_test in document.get("unit_tests") or []:
            if len(unit_test["name"]) > POSTGRES_IDENTIFIER_LIMIT:
                too_long.append(f"{path.relative_to(root)}: unit test {unit_test['name']}")
    for path in sorted((root / "models").rglob("*.sql")):
        if len(path.stem) > POSTGRES_IDENTIFIER_LIMIT:
            too_long.append(f"{path.relative_to(root)}: model {path.stem}")
    assert not too_long, "longer than 63 characters:\n" + "\n".join(too_long)
