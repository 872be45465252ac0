"""Build the static report site: the admin tree and one Painel do usuário per tenant.

```
<out>/admin/                 Dashboard, Clientes, Números, Ramais, Rotas, Grupos,
                             Pré-atendimentos, Extrato (+ .csv), clientes/<slug>.html, assets/
<out>/painel/<token>/        one tenant's Dashboard, lists and Extrato (token = its "senha")
<out>/painel/assets/         the panels' scripts and styles
```

The admin tree carries personal data and links to each panel; a panel never links outside its
own folder except to the shared assets. Every page works from file:// and from any static web
server: scripts and styles are bundled, the data is embedded in the page.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from pabx.errors import UserError
from pabx.loader import Repository
from pabx.mail.model import KIND_LABELS, Record
from pabx.model import NumberEntry, Status, Tenant
from pabx.render.secrets import Secrets
from pabx.report import dashboard, emails, extrato, fmt, lists
from pabx.report.env import make_environment
from pabx.report.labels import PERSON_TYPE, STATUS
from pabx.report.registrations import Registrations

DatasetSource = Callable[[str | None], Mapping[str, Any]]
"""tenant slug (None: the whole platform) -> the CDR dataset of `pabx.cdr.dataset.build_dataset`."""

MARKER = ".pabx-report"
ADMIN = "admin"
PANELS = "painel"
ASSETS = ("pabx.css", "dashboard.js", "tables.js", "chart.umd.js", "chart.js-LICENSE.md")
DEFAULT_DAYS = 30

ADMIN_NAV = (
    ("index.html", "Dashboard"),
    ("clientes.html", "Clientes"),
    ("numeros.html", "Números"),
    ("ramais.html", "Ramais"),
    ("grupos.html", "Grupos"),
    ("pre-atendimentos.html", "Pré-atendimentos"),
    ("rotas.html", "Rotas"),
    ("extrato.html", "Extrato"),
    ("emails.html", "E-mails"),
)
PANEL_NAV = tuple(item for item in ADMIN_NAV if item[0] not in ("clientes.html", "rotas.html", "emails.html"))


@dataclass(frozen=True)
class Period:
    """The dates the charts may show (Período) and the day the counters call Hoje."""

    date_from: dt.date
    date_to: dt.date
    today: dt.date

    @classmethod
    def resolve(
        cls, *, today: dt.date, date_from: dt.date | None = None, date_to: dt.date | None = None
    ) -> Period:
        """Defaults: up to Hoje, the 30 days before the end."""
        end = date_to or today
        start = date_from or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise UserError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
        if (end - start).days > 366:
            raise UserError("the period is longer than a year: narrow --from/--to")
        return cls(start, end, today)


@dataclass(frozen=True)
class Provenance:
    """The footer: which revision of the repository the site shows, and when it was built."""

    revision: str
    url: str | None
    generated_at: dt.datetime


@dataclass
class SiteResult:
    out: Path
    admin_index: Path
    panels: dict[str, Path] = field(default_factory=dict)  # tenant slug -> its index.html
    pages: int = 0


def visible_tenants(repo: Repository) -> dict[str, Tenant]:
    """Every tenant but the removido ones (kept for audit, shown nowhere)."""
    return {slug: t for slug, t in sorted(repo.tenants.items()) if t.status is not Status.REMOVIDO}


def panel_tokens(repo: Repository, secrets: Secrets) -> dict[str, str]:
    secrets.require_key("derive the tenant panel addresses (Painel do usuário)")
    return {slug: secrets.panel_token(slug, t.access_rotation) for slug, t in visible_tenants(repo).items()}


def build_site(
    repo: Repository,
    out: Path,
    datasets: DatasetSource,
    *,
    secrets: Secrets,
    period: Period,
    registrations: Registrations,
    provenance: Provenance,
    mail_log: Sequence[Record] = (),
) -> SiteResult:
    """Write the whole site into `out`, replacing a previous build there (and only such a build).

    Panels of tenants whose `access_rotation` changed, or that were removed, disappear: the
    trees are built aside and swapped in, so an old panel address stops working at this publish.
    """
    tokens = panel_tokens(repo, secrets)
    _check_target(out)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        builder = _Builder(repo, staging, datasets, period, registrations, provenance, tokens, mail_log)
        try:
            builder.admin()
            for slug, token in tokens.items():
                builder.panel(slug, token)
            builder.panel_root()
        except jinja2.TemplateSyntaxError as exc:  # a repository's own override of a template
            raise UserError(
                f"{exc.filename or exc.name}:{exc.lineno}: report template: {exc.message}"
            ) from None
        for tree in (ADMIN, PANELS):
            if (out / tree).exists():
                (out / tree).rename(staging / f"old-{tree}")
            (staging / tree).rename(out / tree)
        (out / MARKER).write_text("built by pabx report; the whole folder is replaced by the next build\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SiteResult(
        out=out,
        admin_index=out / ADMIN / "index.html",
        panels={slug: out / PANELS / token / "index.html" for slug, token in tokens.items()},
        pages=builder.pages,
    )


def _check_target(out: Path) -> None:
    """Refuse to write into a folder some other program filled: each build replaces the site."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: not a directory")
    out.mkdir(parents=True, exist_ok=True)
    entries = sorted(p.name for p in out.iterdir())
    if entries and not (out / MARKER).exists():
        raise UserError(
            f"--out {out}: the folder is not empty and was not built by pabx report "
            f"({', '.join(entries[:3])}…); choose an empty or new folder"
        )
    for leftover in out.glob(".staging-*"):  # an interrupted earlier build
        shutil.rmtree(leftover, ignore_errors=True)


class _Builder:
    def __init__(
        self,
        repo: Repository,
        root: Path,
        datasets: DatasetSource,
        period: Period,
        registrations: Registrations,
        provenance: Provenance,
        tokens: dict[str, str],
        mail_log: Sequence[Record] = (),
    ) -> None:
        self.repo = repo
        self.mail_log = mail_log
        self.root = root
        self.datasets = datasets
        self.period = period
        self.registrations = registrations
        self.provenance = provenance
        self.tokens = tokens
        self.env = make_environment(repo.root)
        self.platform_name = repo.platform.name if repo.platform else "PABX"
        self.timezone = repo.platform.timezone if repo.platform else "America/Sao_Paulo"
        self.tenants = visible_tenants(repo)
        self.numbers_by_owner: dict[str, list[NumberEntry]] = {}
        for number in sorted(repo.numbers.values(), key=lambda n: n.number):
            if number.owner:
                self.numbers_by_owner.setdefault(number.owner, []).append(number)
        self.pages = 0

    # -- trees -----------------------------------------------------------------------------

    def admin(self) -> None:
        base = self.root / ADMIN
        scope = lists.Scope(
            tenants=self.tenants,
            numbers=sorted(self.repo.numbers.values(), key=lambda n: n.number),
            routes=self.repo.routes,
            plans=self.repo.plans,
            tenant_href=lambda slug: f"clientes/{slug}.html",
            panel_href=lambda slug: f"../{PANELS}/{self.tokens[slug]}/index.html",
        )
        page = _Page(self, base, "Administração", ADMIN_NAV, assets="assets/")
        dataset = self._dataset(None)
        page.dashboard(scope, dataset, admin=True)
        for table in (
            lists.clientes(scope),
            lists.numeros(scope),
            lists.ramais(scope, self.registrations, self.timezone),
            lists.grupos(scope),
            lists.pre_atendimentos(scope),
            lists.rotas(scope),
        ):
            page.table(table)
        statements = extrato.statements(dataset["extrato"], self.tenants)
        page.extrato_page(statements)
        detail = _Page(self, base, "Administração", ADMIN_NAV, assets="../assets/", up="../")
        for slug, tenant in self.tenants.items():
            detail.cliente(slug, tenant, f"../../{PANELS}/{self.tokens[slug]}/index.html", statements)
        page.table(emails.table(self.mail_log, self.timezone))
        for record in self.mail_log:
            detail.email(record)
        _copy_assets(base / "assets")
        self.pages += page.count + detail.count

    def panel(self, slug: str, token: str) -> None:
        tenant = self.tenants[slug]
        scope = lists.Scope(
            tenants={slug: tenant},
            numbers=self.numbers_by_owner.get(slug, []),
            routes={},
            plans={tenant.plan: self.repo.plans[tenant.plan]} if tenant.plan in self.repo.plans else {},
        )
        page = _Page(
            self, self.root / PANELS / token, f"Painel do usuário · {tenant.name}", PANEL_NAV, "../assets/"
        )
        dataset = self._dataset(slug)
        page.dashboard(scope, dataset, admin=False)
        for table in (
            lists.numeros(scope),
            lists.ramais(scope, self.registrations, self.timezone),
            lists.grupos(scope),
            lists.pre_atendimentos(scope),
        ):
            page.table(table)
        page.extrato_page(extrato.statements(dataset["extrato"], {slug: tenant}))
        self.pages += page.count

    def panel_root(self) -> None:
        """`painel/` itself: shared assets, and an empty page so no server lists the tokens."""
        base = self.root / PANELS
        base.mkdir(parents=True, exist_ok=True)
        _copy_assets(base / "assets")
        page = _Page(self, base, "Painel do usuário", (), assets="assets/")
        page.write("empty.html.j2", "index.html", title="Painel do usuário")
        self.pages += page.count

    def _dataset(self, tenant: str | None) -> Mapping[str, Any]:
        dataset = self.datasets(tenant)
        dashboard.check_dataset(dataset)
        return dataset


class _Page:
    """Writes the pages of one tree (or one folder of it) with the shared layout context."""

    def __init__(
        self,
        builder: _Builder,
        folder: Path,
        scope_label: str,
        nav: tuple[tuple[str, str], ...],
        assets: str,
        up: str = "",
    ) -> None:
        self.builder = builder
        self.folder = folder
        self.scope_label = scope_label
        self.nav = nav
        self.assets = assets
        self.up = up
        self.count = 0

    def write(self, template: str, name: str, **context: Any) -> None:
        b = self.builder
        provenance = b.provenance
        html = b.env.get_template(f"report/{template}").render(
            platform_name=b.platform_name,
            scope_label=self.scope_label,
            nav=[(self.up + href, label, href == context.get("active")) for href, label in self.nav],
            assets=self.assets,
            timezone=b.timezone,
            generated=fmt.datetime_br(provenance.generated_at, b.timezone),
            revision=provenance.revision,
            revision_url=provenance.url,
            **context,
        )
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        self.count += 1

    def dashboard(self, scope: lists.Scope, dataset: Mapping[str, Any], *, admin: bool) -> None:
        period = self.builder.period
        self.write(
            "dashboard.html.j2",
            "index.html",
            title="Dashboard",
            active="index.html",
            counters=dashboard.counters(
                scope, dataset, admin=admin, today_label=f"Hoje, {fmt.date_br(period.today)}"
            ),
            chart_data=dashboard.chart_data(dataset),
            period=period,
        )

    def table(self, table: lists.Table) -> None:
        self.write(
            "table.html.j2", f"{table.page}.html", title=table.title, active=f"{table.page}.html", table=table
        )

    def extrato_page(self, statements: list[extrato.Statement]) -> None:
        self.write(
            "extrato.html.j2", "extrato.html", title="Extrato", active="extrato.html", statements=statements
        )
        (self.folder / "extrato.csv").write_text(extrato.to_csv(statements), encoding="utf-8")

    def cliente(
        self, slug: str, tenant: Tenant, panel_href: str, statements: list[extrato.Statement]
    ) -> None:
        plan = self.builder.repo.plans.get(tenant.plan)
        self.write(
            "cliente.html.j2",
            f"clientes/{slug}.html",
            title=tenant.name,
            active="clientes.html",
            slug=slug,
            tenant=tenant,
            plan=plan,
            status=STATUS[tenant.status],
            person_type=PERSON_TYPE[tenant.person_type],
            panel_href=panel_href,
            statements=[s for s in statements if s.tenant == slug],
        )

    def email(self, record: Record) -> None:
        tz = self.builder.timezone
        self.write(
            "email.html.j2",
            emails.message_href(record),
            title=f"E-mail #{record.id}",
            active="emails.html",
            record=record,
            kind=KIND_LABELS[record.kind],
            status=emails.status_text(record),
            created=fmt.datetime_br(record.created_at, tz),
            sent=fmt.datetime_br(record.sent_at, tz) if record.sent_at else None,
            next_attempt=(
                fmt.datetime_br(record.next_attempt_at, tz)
                if record.next_attempt_at and record.status.value == "pendente"
                else None
            ),
        )


def _copy_assets(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    package = resources.files("pabx.report").joinpath("assets")
    for name in ASSETS:
        (target / name).write_bytes(package.joinpath(name).read_bytes())
