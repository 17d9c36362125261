"""The dbt side of the raw contract (macros/sources/contract_tables.sql) names the same
tables and columns, in the same order, as the loader's (src/audience/contract.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from audience.contract import RAW_TABLES

MACRO = Path(__file__).resolve().parents[2] / "macros" / "sources" / "contract_tables.sql"


def macro_contract() -> dict[str, list[str]]:
    text = MACRO.read_text()
    tables = re.findall(r"'(\w+)': \{'source': '\w+', 'columns': (\[[^\]]*\])\}", text)
    return {name: ast.literal_eval(columns) for name, columns in tables}


def test_the_dbt_contract_is_the_loaders_contract() -> None:
    assert macro_contract() == {name: list(t.columns) for name, t in RAW_TABLES.items()}
