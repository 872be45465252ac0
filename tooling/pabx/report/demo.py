"""The report step of `make demo`: a month of simulated CDRs, then the site, all under build/demo/.

The demo keeps its own CDR store (rebuilt each run), so simulated calls never mix with the real
store under the state directory, and a run on another day does not count a day twice.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from pabx.cdr.simulate import simulate, write_csv
from pabx.gitinfo import revision
from pabx.loader import Repository
from pabx.loader.layout import state_dir
from pabx.render.secrets import Secrets
from pabx.report.cdrsource import cdr_datasets
from pabx.report.emails import load_mail_log
from pabx.report.registrations import load_registrations
from pabx.report.site import Period, Provenance, SiteResult, build_site
from pabx.report.source import commit_url

DEMO_DAYS = 30
DEMO_CALLS_PER_DAY = 200


@dataclass(frozen=True)
class DemoSite:
    site: SiteResult
    master_csv: Path
    rows: int
    lines: list[str]


def build_demo_site(
    repo: Repository, workdir: Path, secrets: Secrets, *, today: dt.date | None = None
) -> DemoSite:
    timezone = repo.platform.timezone if repo.platform else "America/Sao_Paulo"
    hoje = today or dt.datetime.now(ZoneInfo(timezone)).date()
    workdir.mkdir(parents=True, exist_ok=True)
    master = workdir / "Master.csv"
    rows = write_csv(simulate(repo, days=DEMO_DAYS, calls_per_day=DEMO_CALLS_PER_DAY, end=hoje), master)
    store = workdir / "cdr-store"
    shutil.rmtree(store, ignore_errors=True)
    period = Period.resolve(today=hoje)
    datasets, lines = cdr_datasets(repo, [master], period, store=store)
    rev = revision(repo.root)
    site = build_site(
        repo,
        workdir / "site",
        datasets,
        secrets=secrets,
        period=period,
        registrations=load_registrations(state_dir(repo.root)),
        provenance=Provenance(rev, commit_url(repo.root, rev), dt.datetime.now(dt.UTC)),
        mail_log=load_mail_log(workdir / "mail" / "outbox.sqlite3"),  # the e-mail step's own outbox
    )
    return DemoSite(site, master, rows, lines)
