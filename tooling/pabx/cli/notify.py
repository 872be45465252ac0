"""`pabx notify missed`: "<caller> te ligou" e-mails for the calls nobody answered."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from pabx.audit.clock import platform_timezone
from pabx.cli.options import repo_option
from pabx.cli.report import DATE

DEFAULT_DAYS = 2


@click.group("notify")
def command() -> None:
    """Notices the platform mails from what happened on the servers.

    Example: pabx notify missed --cdr /var/log/asterisk/cdr-csv/Master.csv
    """


@command.command("missed")
@repo_option
@click.option(
    "--cdr",
    "cdr_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Master.csv file or folder (plain or .gz) to ingest into the CDR store first (repeatable).",
)
@click.option("--digest", is_flag=True, help="One e-mail per extension listing its new missed calls.")
@click.option(
    "--days",
    type=click.IntRange(1, 31),
    default=DEFAULT_DAYS,
    show_default=True,
    help="Look at calls of this many local days, up to --today.",
)
@click.option("--today", type=DATE, default=None, help="Last day to look at [today, platform time zone].")
@click.option("--send/--no-send", default=True, show_default=True, help="Send the outbox after queuing.")
def missed(
    repo: Path, cdr_paths: tuple[Path, ...], digest: bool, days: int, today: dt.date | None, send: bool
) -> None:
    """Queue (and send) a "<caller> te ligou" e-mail to each rung extension that has an e-mail,
    for every call where no leg was answered (a ring-all group someone answered is not missed).

    The CDR files are ingested into the store (only new rows are read); calls of the last --days
    are considered, and each call is mailed once, ever, per extension: running it again, or with
    overlapping files, queues nothing twice. Times are shown in the platform's time zone.

    Example: pabx notify missed --cdr /var/log/asterisk/cdr-csv/ --digest
    """
    from pabx.cdr.ingest import ingest
    from pabx.cdr.store import store_dir
    from pabx.cli.mail import send_lines
    from pabx.loader import load_valid_repository
    from pabx.mail.missed import missed_calls, queue_missed
    from pabx.mail.outbox import Outbox
    from pabx.mail.service import send_outbox
    from pabx.report.cdrsource import ingest_lines

    loaded, _ = load_valid_repository(repo)
    tz = platform_timezone(repo)
    last = today or dt.datetime.now(tz).date()
    first = last - dt.timedelta(days=days - 1)
    store = store_dir(repo)
    if cdr_paths:
        for line in ingest_lines(ingest(list(cdr_paths), store)):
            click.echo(line)
    calls = missed_calls(loaded, store, first, last)
    with Outbox.for_repo(repo) as outbox:
        result = queue_missed(loaded, outbox, calls, digest=digest)
    click.echo(
        f"chamadas não atendidas de {first:%d/%m/%Y} a {last:%d/%m/%Y}: {result.calls} (por ramal que tocou); "
        f"{len(result.queued)} e-mail(s) na fila, {result.already} já avisada(s), "
        f"{result.without_email} sem e-mail do ramal"
    )
    if not send:
        return
    sent = send_outbox(loaded)
    for line in send_lines(sent, tz):
        click.echo(line)
    if sent.failed:
        sys.exit(1)
