"""The audit report: every change of a period with its author, commit and pull request, as the
spreadsheet (CSV) or Markdown page an auditor asks for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pabx.audit.clock import local, platform_timezone
from pabx.audit.history import Selector, history
from pabx.audit.output import Row, rows, to_csv, to_markdown
from pabx.errors import UserError


@dataclass(frozen=True)
class AuditReport:
    since: dt.datetime
    until: dt.datetime
    rows: list[Row]
    commits: int
    notes: list[str]


def audit_report(
    root: Path, since: dt.datetime, until: dt.datetime, *, ref: str | None = None
) -> AuditReport:
    """Every field-level change that reached `ref` between `since` and `until` (inclusive)."""
    if until < since:
        raise UserError(f"--until ({until.isoformat()}) is before --since ({since.isoformat()})")
    found = history(root, Selector(), since=since, until=until, ref=ref)
    tz = platform_timezone(root)
    return AuditReport(since, until, rows(found.events, tz), len(found.events), found.notes)


def write_report(report: AuditReport, out: Path, root: Path) -> str:
    """Write the report as CSV or Markdown (by the file's extension); returns the format used."""
    suffix = out.suffix.lower()
    tz = platform_timezone(root)
    if suffix == ".csv":
        text = to_csv(report.rows)
        kind = "csv"
    elif suffix in (".md", ".markdown"):
        title = (
            f"# Relatório de auditoria: {local(report.since, tz)} a {local(report.until, tz)} ({tz.key})\n\n"
        )
        summary = f"{report.commits} commit(s), {len(report.rows)} alteração(ões).\n\n"
        notes = "".join(f"> {note}\n\n" for note in report.notes)
        text = title + summary + notes + to_markdown(report.rows)
        kind = "markdown"
    else:
        raise UserError(f"--out {out}: write a .csv or a .md file")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8", newline="")
    return kind
