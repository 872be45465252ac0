"""`pabx audit at|report`: point-in-time questions and the period report for auditors."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.audit.clock import parse_time, platform_timezone
from pabx.audit.output import point_in_time_json, point_in_time_text
from pabx.audit.pointintime import point_in_time
from pabx.audit.report import audit_report, write_report
from pabx.cli.options import format_option, repo_option

_REF_HELP = "The history to read: main, else origin/main, else HEAD."


@click.group("audit")
def command() -> None:
    """Answers for auditors from git history: what was true at a moment, what changed in a period.

    Example: pabx audit at --when 2026-10-01T12:00 --number 1130010000
    """


@command.command("at")
@repo_option
@click.option(
    "--when", required=True, metavar="TIME", help="2026-10-01T12:00 (platform time zone), or with an offset."
)
@click.option("--number", metavar="N", help="A number (DDD+number).")
@click.option("--tenant", metavar="T", help="A tenant: slug, ID or service code.")
@click.option("--ref", metavar="REV", default=None, help=_REF_HELP)
@format_option("text", "json")
def at(repo: Path, when: str, number: str | None, tenant: str | None, ref: str | None, fmt: str) -> None:
    """Who owned a number at a moment, its route and destination (or a tenant's full record),
    as of main then (the first-parent commit current at that time), and which revision each
    server was running then according to the deploy records (refs/notes/pabx-deploy), and
    whether it differed from main.

    Example: pabx audit at --when 2026-10-01T12:00 --tenant acme --format json
    """
    tz = platform_timezone(repo)
    result = point_in_time(repo, parse_time(when, tz, what="--when"), number=number, tenant=tenant, ref=ref)
    text = point_in_time_json(result, tz) if fmt == "json" else point_in_time_text(result, tz)
    click.echo(text, nl=False)


@command.command("report")
@repo_option
@click.option("--since", required=True, metavar="DATE", help="First day (or time) of the period.")
@click.option("--until", required=True, metavar="DATE", help="Last day (inclusive) or time of the period.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="FILE.csv (spreadsheet: ';', UTF-8 with BOM) or FILE.md.",
)
@click.option("--ref", metavar="REV", default=None, help=_REF_HELP)
def report(repo: Path, since: str, until: str, out: Path, ref: str | None) -> None:
    """Every change that reached main in the period, one line per field, with author, commit and
    pull request: columns Data, Autor, Commit, Pull request, Arquivo, Entidade, Campo, Antes,
    Depois (dates in the platform time zone).

    Example: pabx audit report --since 2026-10-01 --until 2026-10-31 --out auditoria-outubro.csv
    """
    tz = platform_timezone(repo)
    result = audit_report(
        repo,
        parse_time(since, tz, what="--since"),
        parse_time(until, tz, end_of_day=True, what="--until"),
        ref=ref,
    )
    kind = write_report(result, out, repo)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"{out}: {len(result.rows)} change(s) in {result.commits} commit(s) ({kind})")
