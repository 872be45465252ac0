"""Extrato: a tenant's consumption per month and call class, with totals and the due date.

Built from the dataset's `extrato` rows; written as a page and as a pt-BR CSV (`;` separator,
decimal comma, UTF-8 with BOM so spreadsheet programs read the accents).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pabx.model import Tenant
from pabx.report import fmt
from pabx.report.labels import CLASSES, class_label

_CLASS_ORDER = {key: i for i, key in enumerate(CLASSES)}
_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Line:
    call_class: str
    calls: int
    minutes: Decimal
    cost: Decimal

    @property
    def label(self) -> str:
        return class_label(self.call_class)


@dataclass(frozen=True)
class Statement:
    tenant: str
    name: str
    service_code: str
    month: str  # YYYY-MM
    due_date: dt.date | None
    lines: tuple[Line, ...]

    @property
    def anchor(self) -> str:
        return f"{self.tenant}-{self.month}"

    @property
    def calls(self) -> int:
        return sum(line.calls for line in self.lines)

    @property
    def minutes(self) -> Decimal:
        return sum((line.minutes for line in self.lines), Decimal(0))

    @property
    def cost(self) -> Decimal:
        return sum((line.cost for line in self.lines), Decimal(0))


def statements(rows: Iterable[Mapping[str, Any]], tenants: Mapping[str, Tenant]) -> list[Statement]:
    """Group extrato rows by (tenant, month); only tenants in `tenants` (the scope) appear.

    Amounts are rounded per line (what a customer reads) and totals add the rounded lines,
    so a statement always sums up on paper.
    """
    grouped: dict[tuple[str, str], dict[str, Line]] = {}
    for row in rows:
        slug = str(row["tenant"])
        if slug not in tenants:
            continue
        key = (slug, str(row["month"]))
        lines = grouped.setdefault(key, {})
        call_class = str(row["class"])
        line = Line(
            call_class,
            int(row["calls"]),
            Decimal(str(row["minutes"])).quantize(_TENTH, rounding=ROUND_HALF_UP),
            Decimal(str(row["cost"])).quantize(_CENT, rounding=ROUND_HALF_UP),
        )
        previous = lines.get(call_class)
        if previous is not None:  # the same class twice (e.g. several directions): add up
            line = Line(
                call_class,
                previous.calls + line.calls,
                previous.minutes + line.minutes,
                previous.cost + line.cost,
            )
        lines[call_class] = line
    out = []
    for (slug, month), lines in grouped.items():
        tenant = tenants[slug]
        ordered = sorted(lines.values(), key=lambda ln: (_CLASS_ORDER.get(ln.call_class, 99), ln.call_class))
        out.append(Statement(slug, tenant.name, tenant.service_code, month, tenant.due_date, tuple(ordered)))
    return sorted(out, key=lambda s: (s.name.casefold(), s.tenant, s.month))


CSV_HEADER = (
    "Cliente",
    "Código de serviço",
    "Mês",
    "Classe",
    "Chamadas",
    "Minutos",
    "Valor (R$)",
    "Data de vencimento",
)


def to_csv(items: Iterable[Statement]) -> str:
    """The statements as a pt-BR CSV text (prefixed with a BOM), one line per class plus a total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_HEADER)
    for statement in items:
        due = fmt.date_br(statement.due_date) if statement.due_date else ""
        month = fmt.month_numeric(statement.month)
        for line in statement.lines:
            writer.writerow(
                (
                    _cell(statement.name),
                    statement.service_code,
                    month,
                    line.label,
                    line.calls,
                    fmt.decimal_br(line.minutes, 1).replace(".", ""),
                    fmt.decimal_br(line.cost, 2).replace(".", ""),
                    due,
                )
            )
        writer.writerow(
            (
                _cell(statement.name),
                statement.service_code,
                month,
                "Total",
                statement.calls,
                fmt.decimal_br(statement.minutes, 1).replace(".", ""),
                fmt.decimal_br(statement.cost, 2).replace(".", ""),
                due,
            )
        )
    return "\ufeff" + buffer.getvalue()


def _cell(text: str) -> str:
    """Keep a spreadsheet from reading a name as a formula (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
