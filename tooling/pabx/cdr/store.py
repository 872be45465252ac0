"""The CDR store: Parquet files partitioned by UTC date (Hive layout), read with DuckDB.

    <state>/cdr/date=2026-03-02/part-<batch>-<n>.parquet   one or more per ingest batch
    <state>/cdr/_pabx/ingest-log.json                       what was read: streams, offsets, files
    <state>/cdr/_pabx/staging/                              a batch being written (never read)

Every part file has the same columns (`STORE_COLUMNS`); `date` lives only in the directory
name, as Hive, Spark and Trino expect. Names starting with `_` are hidden from those engines,
so pointing any of them at `<state>/cdr/` reads exactly the CDRs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pabx.loader.layout import state_dir

STORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("accountcode", "VARCHAR"),
    ("src", "VARCHAR"),
    ("dst", "VARCHAR"),
    ("dcontext", "VARCHAR"),
    ("clid", "VARCHAR"),
    ("channel", "VARCHAR"),
    ("dstchannel", "VARCHAR"),
    ("lastapp", "VARCHAR"),
    ("lastdata", "VARCHAR"),
    ("start", "TIMESTAMPTZ"),
    ("answer", "TIMESTAMPTZ"),
    ("end", "TIMESTAMPTZ"),
    ("duration", "INTEGER"),
    ("billsec", "INTEGER"),
    ("disposition", "VARCHAR"),
    ("amaflags", "VARCHAR"),
    ("uniqueid", "VARCHAR"),
    ("userfield", "VARCHAR"),
    ("peeraccount", "VARCHAR"),
    ("linkedid", "VARCHAR"),
    ("sequence", "BIGINT"),
    ("source", "VARCHAR"),
)

META_DIR = "_pabx"
CALLS_DIR = f"{META_DIR}/calls"  # one row per call and batch (analytics.FRAGMENT_SQL), by UTC date
MERGE_DIR = f"{CALLS_DIR}/merge"  # call_ids whose legs came in several batches


def store_dir(repo: Path) -> Path:
    """Where the repository's CDR store lives: `<state>/cdr`."""
    return state_dir(repo) / "cdr"


def connect(*, memory_limit: str = "1GB", temp_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session in UTC, bounded in memory, spilling under `temp_dir`."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = {_sql_text(str(temp_dir))}")
    return con


def partitions(store: Path) -> list[dt.date]:
    """The dates that have at least one part file, ascending."""
    found = []
    if store.is_dir():
        for entry in store.iterdir():
            if entry.is_dir() and entry.name.startswith("date=") and any(entry.glob("*.parquet")):
                try:
                    found.append(dt.date.fromisoformat(entry.name[5:]))
                except ValueError:
                    continue
    return sorted(found)


def create_fragment_views(
    con: duckdb.DuckDBPyConnection, store: Path, *, utc_from: dt.date | None, utc_to: dt.date | None
) -> None:
    """Views `fragments` (the per-call rows of the dates asked) and `merge_ids`."""
    calls = store / CALLS_DIR
    files = []
    for day in partitions(calls):
        if (utc_from and day < utc_from) or (utc_to and day > utc_to):
            continue
        files.extend(sorted((calls / f"date={day.isoformat()}").glob("*.parquet")))
    if files:
        listed = ", ".join(_sql_text(str(f)) for f in files)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW fragments AS SELECT * FROM read_parquet([{listed}], hive_partitioning = false)"
        )
    else:
        from pabx.cdr.analytics import DDD_MACRO, FRAGMENT_SQL

        con.execute(DDD_MACRO)
        empty = FRAGMENT_SQL.replace("{source}", f"(SELECT {_empty_columns()} LIMIT 0)")
        con.execute(f"CREATE OR REPLACE TEMP VIEW fragments AS {empty}")
    merges = sorted((store / MERGE_DIR).glob("*.parquet"))
    if merges:
        listed = ", ".join(_sql_text(str(f)) for f in merges)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW merge_ids AS SELECT DISTINCT call_id FROM read_parquet([{listed}])"
        )
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW merge_ids AS SELECT NULL::VARCHAR AS call_id LIMIT 0")


def _empty_columns() -> str:
    return ", ".join(f'NULL::{kind} AS "{col}"' for col, kind in STORE_COLUMNS)


def create_cdr_view(
    con: duckdb.DuckDBPyConnection,
    store: Path,
    *,
    name: str = "cdr",
    utc_from: dt.date | None = None,
    utc_to: dt.date | None = None,
) -> int:
    """Create view `name` over the part files (only the partitions in [utc_from, utc_to]).

    Returns how many files it reads; with none, the view is empty but has the columns.
    """
    files = []
    for day in partitions(store):
        if (utc_from and day < utc_from) or (utc_to and day > utc_to):
            continue
        files.extend(sorted((store / f"date={day.isoformat()}").glob("*.parquet")))
    if not files:
        con.execute(
            f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT {_empty_columns()}, NULL::DATE AS date LIMIT 0'
        )
        return 0
    listed = ", ".join(_sql_text(str(f)) for f in files)
    con.execute(
        f'CREATE OR REPLACE TEMP VIEW "{name}" AS '
        f"SELECT * FROM read_parquet([{listed}], hive_partitioning = true, hive_types = {{'date': DATE}})"
    )
    return len(files)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
