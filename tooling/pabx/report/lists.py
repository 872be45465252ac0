"""The list screens (Clientes, Números, Ramais, Rotas, Grupos, Pré-atendimentos) as tables.

A table is data only: columns with a sort kind, rows of cells with their shown text, a machine
sort key and an optional link. The template lays it out; `tables.js` searches and sorts it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pabx.model import CALL_CLASSES, CLASS_LABELS, NumberEntry, Route, Tenant
from pabx.model.plan import Plan
from pabx.report import fmt
from pabx.report.labels import STATUS, STRATEGY, destination_label
from pabx.report.registrations import UNKNOWN, Registrations

SortKind = Literal["text", "number", "date"]


@dataclass(frozen=True)
class Column:
    label: str
    kind: SortKind = "text"


@dataclass(frozen=True)
class Cell:
    text: str
    sort: str | None = None  # machine key (a raw number, an ISO date) when the text is formatted
    href: str | None = None
    title: str | None = None

    @classmethod
    def number(cls, value: int | str, text: str | None = None) -> Cell:
        return cls(text if text is not None else str(value), sort=str(value))


@dataclass(frozen=True)
class Table:
    page: str  # file name without .html
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Scope:
    """What one tree of the site shows: every tenant (admin) or one tenant (its panel).

    `tenants` holds the tenants the pages may name (never a removido one); the link makers
    give a tenant's admin pages only in the admin tree, where `tenant_href` is set.
    """

    tenants: dict[str, Tenant]
    numbers: list[NumberEntry]
    routes: dict[str, Route]
    plans: dict[str, Plan]
    tenant_href: Callable[[str], str] | None = None
    panel_href: Callable[[str], str] | None = None

    def tenant_name(self, slug: str | None) -> str:
        tenant = self.tenants.get(slug or "")
        return tenant.name if tenant else "—"

    def tenant_cell(self, slug: str) -> Cell:
        href = self.tenant_href(slug) if self.tenant_href and slug in self.tenants else None
        return Cell(self.tenant_name(slug), href=href)


def _numbered(rows: Sequence[tuple[Cell, ...]]) -> list[tuple[Cell, ...]]:
    """Prefix the seed's `#` column: the records in sequence."""
    return [(Cell.number(i), *row) for i, row in enumerate(rows, start=1)]


def clientes(scope: Scope) -> Table:
    columns: tuple[Column, ...] = (
        Column("#", "number"),
        Column("ID", "number"),
        Column("Cliente"),
        Column("E-mail"),
        Column("Permissão"),
        Column("Código de serviço"),
        Column("Plano"),
        Column("Status"),
    )
    if scope.panel_href is not None:
        columns = (*columns, Column("Ações"))
    rows = []
    for slug, tenant in sorted(scope.tenants.items(), key=lambda item: item[1].id):
        plan = scope.plans.get(tenant.plan)
        row: tuple[Cell, ...] = (
            Cell.number(tenant.id),
            scope.tenant_cell(slug),
            Cell(tenant.email, href=f"mailto:{tenant.email}"),
            Cell(tenant.permission.value.capitalize()),
            Cell(tenant.service_code),
            Cell(plan.name if plan else tenant.plan),
            Cell(STATUS[tenant.status]),
        )
        if scope.panel_href is not None:
            row = (
                *row,
                Cell("Painel do usuário", href=scope.panel_href(slug), title="Abre o painel deste cliente"),
            )
        rows.append(row)
    return Table("clientes", "Clientes", columns, _numbered(rows))


def numeros(scope: Scope) -> Table:
    columns = (
        Column("#", "number"),
        Column("DDD", "number"),
        Column("Número", "number"),
        Column("Rota"),
        Column("Proprietário"),
        Column("Tarifação reversa"),
        Column("Destino"),
    )
    rows = []
    for entry in sorted(scope.numbers, key=lambda e: e.number):
        route = scope.routes.get(entry.route)
        owner = scope.tenant_cell(entry.owner) if entry.owner else Cell("Disponível")
        rows.append(
            (
                Cell.number(entry.ddd),
                Cell(fmt.subscriber(entry.number), sort=entry.subscriber),
                Cell(route.name if route else entry.route),
                owner,
                Cell("Sim" if entry.reverse_billing else "Não"),
                Cell(destination_label(entry.destination)),
            )
        )
    return Table("numeros", "Números", columns, _numbered(rows))


def ramais(scope: Scope, registrations: Registrations, timezone: str) -> Table:
    columns = (
        Column("#", "number"),
        Column("Conta"),
        Column("Proprietário"),
        Column("Ramal", "number"),
        Column("Nome"),
        Column("Terminal"),
        Column("Endereço"),
    )
    rows = []
    for slug, tenant in sorted(scope.tenants.items()):
        for ext in sorted(tenant.extensions, key=lambda e: int(e.number)):
            live = registrations.of(f"{slug}_{ext.number}")
            rows.append(
                (
                    Cell(slug),
                    scope.tenant_cell(slug),
                    Cell.number(ext.number),
                    Cell(ext.name),
                    Cell(live.server if live else UNKNOWN, title=live.status if live else None),
                    Cell(live.address if live else UNKNOWN, title=live.user_agent if live else None),
                )
            )
    if registrations.collected_at:
        note = f"Terminal e Endereço coletados em {fmt.datetime_br(registrations.collected_at, timezone)}."
    else:
        note = "Terminal e Endereço: sem dados de registro (execute pabx status)."
    return Table("ramais", "Ramais", columns, _numbered(rows), note)


def rotas(scope: Scope) -> Table:
    columns = (Column("#", "number"), Column("Nome"), *(Column(CLASS_LABELS[c]) for c in CALL_CLASSES))
    rows = []
    for slug, route in sorted(scope.routes.items(), key=lambda item: (item[1].name, item[0])):
        trunks = [route.trunk_for(c) for c in CALL_CLASSES]
        rows.append(
            (
                Cell(route.name, title=slug),
                *(Cell(trunk or "bloqueada") for trunk in trunks),
            )
        )
    return Table("rotas", "Rotas", columns, _numbered(rows))


def grupos(scope: Scope) -> Table:
    columns = (
        Column("#", "number"),
        Column("Proprietário"),
        Column("Grupo", "number"),
        Column("Nome"),
        Column("Estratégia"),
        Column("Membros"),
        Column("Tempo limite (s)", "number"),
        Column("Transbordo"),
    )
    rows = []
    for slug, tenant in sorted(scope.tenants.items()):
        for queue in sorted(tenant.queues, key=lambda q: int(q.number)):
            rows.append(
                (
                    scope.tenant_cell(slug),
                    Cell.number(queue.number),
                    Cell(queue.name),
                    Cell(STRATEGY[queue.strategy]),
                    Cell(", ".join(queue.members)),
                    Cell.number(queue.timeout),
                    Cell(destination_label(queue.overflow)),
                )
            )
    return Table("grupos", "Grupos", columns, _numbered(rows))


def pre_atendimentos(scope: Scope) -> Table:
    columns = (
        Column("#", "number"),
        Column("Proprietário"),
        Column("Pré-atendimento", "number"),
        Column("Nome"),
        Column("Opções"),
        Column("Sem digitação"),
    )
    rows = []
    for slug, tenant in sorted(scope.tenants.items()):
        for ivr in sorted(tenant.ivrs, key=lambda i: int(i.number)):
            options = "; ".join(
                f"{key} → {destination_label(dest)}" for key, dest in sorted(ivr.options.items())
            )
            rows.append(
                (
                    scope.tenant_cell(slug),
                    Cell.number(ivr.number),
                    Cell(ivr.name),
                    Cell(options),
                    Cell(destination_label(ivr.timeout)),
                )
            )
    return Table("pre-atendimentos", "Pré-atendimentos", columns, _numbered(rows))
