"""`pabx report`: the static report site (Dashboard, lists, Extrato, tenant panels) from CDRs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from pabx.cli.options import repo_option
from pabx.errors import UserError
from pabx.gitinfo import revision
from pabx.loader import load_valid_repository
from pabx.loader.layout import state_dir
from pabx.mail.outbox import outbox_path
from pabx.render.secrets import KEY_VARIABLE, Secrets
from pabx.report import Period, Provenance, build_site, load_registrations
from pabx.report.cdrsource import cdr_datasets
from pabx.report.emails import load_mail_log
from pabx.report.source import commit_url


class DateParam(click.ParamType):
    """A date as 2026-05-14 or 14/05/2026."""

    name = "DATE"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return dt.datetime.strptime(text, pattern).date()
            except ValueError:
                continue
        self.fail(f"{text!r} is not a date: write 2026-05-14 or 14/05/2026", param, ctx)


DATE = DateParam()


@click.command("report")
@repo_option
@click.option(
    "--cdr",
    "cdr_paths",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Master.csv file (plain or .gz) to ingest into the CDR store first (repeatable).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the site (created; a previous build there is replaced).",
)
@click.option(
    "--from", "date_from", type=DATE, default=None, help="First date of the period [30 days to --to]."
)
@click.option("--to", "date_to", type=DATE, default=None, help="Last date of the period [Hoje].")
@click.option(
    "--today", type=DATE, default=None, help="The day the counters call Hoje [today, platform time zone]."
)
def command(
    repo: Path,
    cdr_paths: tuple[Path, ...],
    out: Path,
    date_from: dt.date | None,
    date_to: dt.date | None,
    today: dt.date | None,
) -> None:
    """Build the static report site: <out>/admin/ and one <out>/painel/<token>/ per tenant.

    The admin tree (Dashboard, Clientes, Números, Ramais, Rotas, Grupos, Pré-atendimentos,
    Extrato) carries personal data: publish it only behind access control. Each tenant's Painel
    do usuário lives at an address derived from PABX_SECRET_KEY and its access_rotation, so the
    key is required. The CDR files given with --cdr are ingested into the store under the state
    directory first; the charts read the store. Pages work offline, from file:// or any web server.

    Example: PABX_SECRET_KEY=... pabx report --cdr /var/log/asterisk/cdr-csv/Master.csv --out build/site
    """
    loaded, _ = load_valid_repository(repo)
    secrets = Secrets.from_environment()
    if secrets.masked:
        raise UserError(
            f"{KEY_VARIABLE} is not set: the tenant panel addresses (each tenant's 'senha') derive from it"
        )
    timezone = loaded.platform.timezone if loaded.platform else "America/Sao_Paulo"
    hoje = today or dt.datetime.now(ZoneInfo(timezone)).date()
    period = Period.resolve(today=hoje, date_from=date_from, date_to=date_to)
    state = state_dir(repo)
    datasets, ingested = cdr_datasets(loaded, cdr_paths, period)
    for line in ingested:
        click.echo(line)
    rev = revision(repo)
    result = build_site(
        loaded,
        out,
        datasets,
        secrets=secrets,
        period=period,
        registrations=load_registrations(state),
        provenance=Provenance(rev, commit_url(repo, rev), dt.datetime.now(dt.UTC)),
        mail_log=load_mail_log(outbox_path(repo)),
    )
    click.echo(
        f"site: {result.pages} pages, {len(result.panels)} tenant panels, "
        f"period {period.date_from:%d/%m/%Y} to {period.date_to:%d/%m/%Y}, Hoje {period.today:%d/%m/%Y}"
    )
    click.echo(
        f"tenant panels: {len(result.panels)} under {out / 'painel'}/ (linked from admin/clientes.html)"
    )
    click.echo(f"admin, publish only behind access control: {result.admin_index.resolve()}")


def demo_step(repo: Path) -> None:
    """`pabx demo`'s report step: simulated CDRs into build/demo/, the site, where to look."""
    from pabx.report.demo import DEMO_CALLS_PER_DAY, DEMO_DAYS, build_demo_site

    loaded, _ = load_valid_repository(repo)
    secrets = Secrets.from_environment()
    if secrets.masked:
        raise UserError(f"{KEY_VARIABLE} is not set: `make demo` sets a throwaway one")
    click.echo(f"\n== pabx cdr simulate --days {DEMO_DAYS} --calls-per-day {DEMO_CALLS_PER_DAY}")
    demo = build_demo_site(loaded, repo / "build" / "demo", secrets)
    click.echo(f"{demo.rows} CDR rows in {demo.master_csv}")
    click.echo(f"\n== pabx report --cdr {demo.master_csv} --out {demo.site.out}")
    for line in demo.lines:
        click.echo(line)
    click.echo(f"site: {demo.site.pages} pages, {len(demo.site.panels)} tenant panels")
    click.echo(f"open the Dashboard: {demo.site.admin_index.resolve()}")
