"""`pabx cdr ...`: ingest Master.csv files into the store, simulate CDRs, print the dataset."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path

import click

from pabx.cdr.dataset import build_dataset, platform_timezone
from pabx.cdr.ingest import IngestResult, ingest
from pabx.cdr.simulate import simulate, write_csv
from pabx.cdr.store import store_dir
from pabx.cli.options import format_option, repo_option
from pabx.errors import UserError
from pabx.loader import load_valid_repository

SHOWN_PROBLEMS = 10


@click.group("cdr")
def command() -> None:
    """Call detail records: ingest Asterisk's Master.csv, simulate CDRs, build the dataset.

    Example: pabx cdr ingest /var/log/asterisk/cdr-csv/
    """


@command.command("ingest")
@repo_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--source-timezone",
    default="UTC",
    show_default=True,
    help="Time zone of the times in the files (UTC when cdr.conf has usegmtime=yes, as pabx renders it).",
)
@format_option("text", "json")
def ingest_command(repo: Path, paths: tuple[Path, ...], source_timezone: str, fmt: str) -> None:
    """Read what is new in Master.csv files (plain or .gz, any cdr_csv layout) into the CDR store.

    Directories are searched for *.csv, *.gz and Master.csv*. A re-run reads only new rows (a
    growing file from where the last run stopped; a rotated copy of known data adds nothing).
    Malformed rows are counted and listed with file:line; they never stop the ingest.

    Example: pabx cdr ingest /var/log/asterisk/cdr-csv/Master.csv state/import/*.csv.gz
    """
    store = store_dir(repo)
    result = ingest(list(paths), store, source_timezone=source_timezone)
    if fmt == "json":
        click.echo(json.dumps(_result_json(result, store), ensure_ascii=False, indent=2))
        return
    for line in _result_lines(result, store):
        click.echo(line)


def _result_lines(result: IngestResult, store: Path) -> list[str]:
    changed = [f for f in result.files if f.status != "unchanged"]
    lines = [
        f"{len(result.files)} file(s): {len(changed)} with new data, {result.unchanged} unchanged",
        f"rows read: {result.rows_read}, new: {result.rows_new}, malformed: {result.malformed}",
    ]
    for problem in result.problems[:SHOWN_PROBLEMS]:
        lines.append(f"  {problem.format()}")
    if result.malformed > SHOWN_PROBLEMS:
        lines.append(
            f"  ... and {result.malformed - SHOWN_PROBLEMS} more malformed row(s) (--format json lists them)"
        )
    for report in result.files:
        if report.waiting_bytes:
            lines.append(
                f"  {report.path}: last line incomplete ({report.waiting_bytes} bytes), read next time"
            )
    lines.append(f"store: {store}")
    return lines


def _result_json(result: IngestResult, store: Path) -> dict[str, object]:
    return {
        "store": str(store),
        "rows_read": result.rows_read,
        "rows_new": result.rows_new,
        "malformed": result.malformed,
        "problems": [{"path": p.path, "line": p.line, "reason": p.reason} for p in result.problems],
        "files": [
            {
                "path": f.path,
                "status": f.status,
                "rows": f.rows,
                "malformed": f.malformed,
                "waiting_bytes": f.waiting_bytes,
            }
            for f in result.files
        ],
        "batch": result.batch,
    }


@command.command("simulate")
@repo_option
@click.option("--days", type=click.IntRange(1, 3660), required=True, help="How many days of calls.")
@click.option("--calls-per-day", type=click.IntRange(0), required=True, help="Calls (not rows) per day.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Master.csv to write (.gz: gzip).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same bytes.")
@click.option(
    "--end",
    "end",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day (local date) [today in the platform time zone].",
)
def simulate_command(
    repo: Path, days: int, calls_per_day: int, out: Path, seed: int, end: dt.datetime | None
) -> None:
    """Write realistic CDRs for this repository's tenants, exactly as Asterisk's cdr_csv would.

    Real extensions, DIDs, routes and plans; business hours in the platform time zone written
    in UTC; answered, unanswered, busy and failed calls; ringall queues with one leg per
    member; IVRs; voicemail. 21 columns, as the rendered cdr.conf configures.

    Example: pabx cdr simulate --days 30 --calls-per-day 500 --out state/demo/Master.csv --seed 7
    """
    loaded, _ = load_valid_repository(repo)
    last = end.date() if end else _today(platform_timezone(loaded))
    rows = write_csv(simulate(loaded, days=days, calls_per_day=calls_per_day, end=last, seed=seed), out)
    first = last - dt.timedelta(days=days - 1)
    click.echo(f"wrote {out}: {rows} CDR rows, {days * calls_per_day} calls, {first} .. {last}")


@command.command("dataset")
@repo_option
@click.option("--tenant", default=None, help="Only this tenant (its Painel do usuário).")
@click.option("--from", "date_from", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@click.option("--to", "date_to", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
def dataset_command(
    repo: Path,
    tenant: str | None,
    date_from: dt.datetime | None,
    date_to: dt.datetime | None,
    today: dt.datetime | None,
) -> None:
    """Print the report dataset (JSON) from the CDR store: counters, daily, concurrency, UFs...

    Dates are local dates in the platform time zone; --to defaults to today, --from to 30 days
    before --to.

    Example: pabx cdr dataset --from 2026-03-01 --to 2026-03-31 --tenant acme
    """
    loaded, _ = load_valid_repository(repo)
    if tenant and tenant not in loaded.tenants:
        raise UserError(f"unknown tenant {tenant!r}")
    now = today.date() if today else _today(platform_timezone(loaded))
    last = date_to.date() if date_to else now
    first = date_from.date() if date_from else last - dt.timedelta(days=30)
    if first > last:
        raise UserError(f"--from {first} is after --to {last}")
    data = build_dataset(loaded, store_dir(repo), tenant=tenant, date_from=first, date_to=last, today=now)
    click.echo(json.dumps(data, ensure_ascii=False, indent=1))


def _today(timezone: str) -> dt.date:
    return dt.datetime.now(zoneinfo.ZoneInfo(timezone)).date()
