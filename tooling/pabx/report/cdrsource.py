"""The report's data from the CDR store: ingest the given files, then one dataset per scope."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pabx.cdr.dataset import build_dataset
from pabx.cdr.ingest import IngestResult, ingest
from pabx.cdr.store import store_dir
from pabx.loader import Repository
from pabx.report.site import DatasetSource, Period

MALFORMED_SHOWN = 5


def ingest_lines(result: IngestResult) -> list[str]:
    """What the ingest did, for the command's output (malformed rows with file:line)."""
    lines = [
        f"cdr: {len(result.files)} file(s), {result.rows_read} row(s) read, {result.rows_new} new, "
        f"{result.malformed} malformed"
    ]
    lines += [f"  {problem.format()}" for problem in result.problems[:MALFORMED_SHOWN]]
    if result.malformed > MALFORMED_SHOWN:
        lines.append(f"  … and {result.malformed - MALFORMED_SHOWN} more (pabx cdr ingest lists them all)")
    return lines


def cdr_datasets(
    repo: Repository, cdr_paths: Sequence[Path], period: Period, *, store: Path | None = None
) -> tuple[DatasetSource, list[str]]:
    """Ingest `cdr_paths` (only what is new) into the store (default: the repository's, under the
    state directory); then a dataset source over it, and the lines telling what the ingest did."""
    target = store or store_dir(repo.root)
    lines = ingest_lines(ingest(list(cdr_paths), target)) if cdr_paths else []

    def source(tenant: str | None) -> Mapping[str, Any]:
        result: Mapping[str, Any] = build_dataset(
            repo,
            target,
            tenant=tenant,
            date_from=period.date_from,
            date_to=period.date_to,
            today=period.today,
        )
        return result

    return source, lines
