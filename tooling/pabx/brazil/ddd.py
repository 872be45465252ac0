"""The 67 real DDDs (area codes) and their UF, from the packaged ddd_uf.csv."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def ddd_table() -> dict[str, tuple[str, str]]:
    """DDD -> (UF, region name)."""
    text = resources.files("pabx").joinpath("data/ddd_uf.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return {row["ddd"]: (row["uf"], row["region_name"]) for row in rows}


def is_real_ddd(ddd: str) -> bool:
    return ddd in ddd_table()


def uf_of(ddd: str) -> str | None:
    entry = ddd_table().get(ddd)
    return entry[0] if entry else None
