"""`pabx deploys`: what was live on each server at a time, from the git notes alone."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from pabx.cli.options import format_option, repo_option
from pabx.deploy.records import live_at
from pabx.errors import UserError
from pabx.plan.records import read_records


def parse_time(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise UserError(f"--at {text!r}: not an ISO 8601 time (2026-05-01T14:00:00Z)") from exc
    if when.tzinfo is None:
        raise UserError(f"--at {text!r}: give the time zone (Z or -03:00)")
    return when


@click.command("deploys")
@repo_option
@click.option("--server", default=None, help="Only this server.")
@click.option("--at", "at", default=None, metavar="TIME", help="ISO 8601 time with zone [now].")
@click.option("--history", is_flag=True, help="List every record (oldest first) instead.")
@format_option("text", "json")
def command(repo: Path, server: str | None, at: str | None, history: bool, fmt: str) -> None:
    """What was live on each server at TIME, from the deploy records in git notes
    (refs/notes/pabx-deploy; fetch them first: git fetch origin refs/notes/pabx-deploy:refs/notes/pabx-deploy).

    A server's live revision is the one of its latest "ok" record not after TIME; "failed" and
    "rolled-back" records left the previous one live.

    Example: pabx deploys --server pbx-sp-01 --at 2026-05-01T14:00:00-03:00
    """
    when = parse_time(at)
    if history:
        records = [r for r in read_records(repo) if server is None or r.server == server]
        rows = [r.to_json() for r in records if when is None or r.time <= when]
    else:
        rows = [r.to_json() for r in live_at(repo, when, server).values()]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo(
            "no deploy record" + (f" for {server}" if server else "") + (f" before {at}" if at else "")
        )
        return
    for row in rows:
        click.echo(
            f"{row['server']:<16} {row['revision'][:12]}  {row['time']}  {row['result']:<11} "
            f"{row['actor']}  {row['release']}"
        )
