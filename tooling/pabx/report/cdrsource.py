"""The report's data from the CDR store: ingest the given files, then one dataset per scope."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pabx.errors import UserError
from pabx.loader import Repository
from pabx.report.site import DatasetSource, Period


def cdr_datasets(
    repo: Repository, state: Path, cdr_paths: Sequence[Path], period: Period
) -> tuple[DatasetSource, list[str]]:
    """(dataset per tenant or None for the platform, lines telling what the ingest did)."""
    try:
        dataset = importlib.import_module("pabx.cdr.dataset")
    except ImportError:
        raise UserError("the CDR analytics (pabx.cdr) are not installed in this pabx") from None
    if cdr_paths:
        raise UserError("ingesting --cdr files needs pabx.cdr's ingest")
    store = state / "cdr"

    def source(tenant: str | None) -> Mapping[str, Any]:
        result: Mapping[str, Any] = dataset.build_dataset(
            repo,
            store,
            tenant=tenant,
            date_from=period.date_from,
            date_to=period.date_to,
            today=period.today,
        )
        return result

    return source, []
