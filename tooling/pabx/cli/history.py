"""`pabx history`: the field-level timeline of a tenant, number, route, plan or file, from git."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.audit.clock import parse_time, platform_timezone
from pabx.audit.fields import NUMBER, PLAN, ROUTE, TENANT
from pabx.audit.history import Selector, history
from pabx.audit.output import OUTPUTS
from pabx.cli.options import format_option, repo_option
from pabx.errors import UserError


@click.command("history")
@repo_option
@click.option("--tenant", metavar="T", help="A tenant: slug, ID or service code (renames followed).")
@click.option("--number", metavar="N", help="A number (DDD+number), in whichever numbers file it lived.")
@click.option("--route", metavar="R", help="A route slug.")
@click.option("--plan", metavar="P", help="A plan slug.")
@click.option(
    "--path", "path", metavar="FILE", help="A data file, relative to the repository (renames followed)."
)
@click.option(
    "--since", metavar="DATE", help="From this date or time (platform time zone unless an offset is given)."
)
@click.option("--until", metavar="DATE", help="Up to this date (inclusive) or time.")
@click.option(
    "--ref",
    metavar="REV",
    default=None,
    help="The history to read: main, else origin/main, else HEAD.",
)
@format_option("text", "csv", "json", "markdown")
def command(
    repo: Path,
    tenant: str | None,
    number: str | None,
    route: str | None,
    plan: str | None,
    path: str | None,
    since: str | None,
    until: str | None,
    ref: str | None,
    fmt: str,
) -> None:
    """Who changed what, when: every commit that changed the tenant, number, route, plan or file
    (or everything, with no selector), each change as `field: old → new`, with its author, date
    (platform time zone) and pull request. Read-only: git history is never touched; an index in
    the state directory makes repeated questions fast and follows new commits.

    Example: pabx history --number 1130010000 --since 2026-01-01 --format csv > numero.csv
    """
    chosen = [
        (kind, value)
        for kind, value in ((TENANT, tenant), (NUMBER, number), (ROUTE, route), (PLAN, plan), ("path", path))
        if value
    ]
    if len(chosen) > 1:
        raise UserError("choose one of --tenant, --number, --route, --plan or --path")
    selector = Selector()
    if chosen:
        kind, value = chosen[0]
        selector = Selector(path=_relative(repo, value)) if kind == "path" else Selector(kind=kind, key=value)
    tz = platform_timezone(repo)
    found = history(
        repo,
        selector,
        since=parse_time(since, tz, what="--since") if since else None,
        until=parse_time(until, tz, end_of_day=True, what="--until") if until else None,
        ref=ref,
    )
    if fmt != "text":
        for note in found.notes:
            click.echo(f"note: {note}", err=True)
    click.echo(OUTPUTS[fmt].render(found, tz), nl=False)


def _relative(repo: Path, path: str) -> str:
    """A --path as the repository names it (relative to its root, with / separators)."""
    given = Path(path)
    if not given.is_absolute():
        return given.as_posix().removeprefix("./")
    try:
        return given.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        raise UserError(f"--path {path} is not inside the repository {repo}") from None
