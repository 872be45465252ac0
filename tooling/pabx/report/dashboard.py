"""The Dashboard: counters (repository + today's calls) and the chart data the page embeds.

Counters are fixed at build time (the page's Período filter never touches them); the charts
receive the whole period's series as JSON and `dashboard.js` slices them by the chosen dates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pabx.report.labels import CLASSES, DIRECTIONS
from pabx.report.lists import Scope

REQUIRED_KEYS = ("scope", "counters", "daily", "concurrency", "by_uf", "extrato")
REQUIRED_COUNTERS = ("entrada_hoje", "saida_hoje", "interna_hoje", "simultaneas")

# One colour per call type (the legend's "Tipos de Chamadas"), stable across charts and builds.
TYPE_COLORS: dict[str, str] = {
    "entrada": "#2563eb",
    "interna": "#64748b",
    "saida:local_fixo": "#16a34a",
    "saida:local_movel": "#84cc16",
    "saida:ldn_fixo": "#ea580c",
    "saida:ldn_movel": "#f59e0b",
    "saida:0300": "#a855f7",
    "saida:0800": "#ec4899",
    "saida:servicos": "#0891b2",
    "saida:ldi": "#dc2626",
}


def uf_color(index: int) -> str:
    """Distinct colours for up to 27 UFs: hues a golden angle apart, two lightness levels."""
    hue = (index * 137.508 + 220) % 360
    lightness = 45 if index % 2 == 0 else 58
    return f"hsl({hue:.0f}, 68%, {lightness}%)"


@dataclass(frozen=True)
class Counter:
    key: str
    label: str
    value: int
    href: str | None = None
    hint: str = ""


def check_dataset(dataset: Mapping[str, Any]) -> None:
    """The dataset contract of `pabx.cdr.dataset.build_dataset`; a mismatch is a bug, not a user error."""
    missing = [key for key in REQUIRED_KEYS if key not in dataset]
    missing += [f"counters.{key}" for key in REQUIRED_COUNTERS if key not in dataset.get("counters", {})]
    if missing:
        raise ValueError(f"CDR dataset lacks {', '.join(missing)}")


def counters(scope: Scope, dataset: Mapping[str, Any], *, admin: bool, today_label: str) -> list[Counter]:
    tenants = scope.tenants.values()
    calls = dataset["counters"]
    items = [
        Counter("ramais", "Ramais", sum(len(t.extensions) for t in tenants), "ramais.html"),
        Counter(
            "pre_atendimentos",
            "Pré-atendimentos",
            sum(len(t.ivrs) for t in tenants),
            "pre-atendimentos.html",
            "URAs",
        ),
        Counter("grupos", "Grupos", sum(len(t.queues) for t in tenants), "grupos.html", "Filas"),
        Counter("numeros", "Total de Números", len(scope.numbers), "numeros.html"),
    ]
    if admin:
        items.append(Counter("clientes", "Clientes", len(scope.tenants), "clientes.html"))
    items += [
        Counter("entrada_hoje", "Chamadas de Entrada Hoje", int(calls["entrada_hoje"]), None, today_label),
        Counter("saida_hoje", "Chamadas de Saída Hoje", int(calls["saida_hoje"]), None, today_label),
        Counter("interna_hoje", "Chamadas Internas Hoje", int(calls["interna_hoje"]), None, today_label),
        Counter("simultaneas", "Chamadas Simultâneas", int(calls["simultaneas"]), None, "pico de hoje"),
    ]
    return items


def type_of(direction: str, call_class: str) -> str:
    """The chart series a daily row belongs to: Entrada, Interna, or Saída by class."""
    return f"saida:{call_class}" if direction == "saida" else direction


def type_label(key: str) -> str:
    if key.startswith("saida:"):
        return CLASSES.get(key[6:], key[6:])
    return DIRECTIONS.get(key, key)


def chart_data(dataset: Mapping[str, Any]) -> dict[str, Any]:
    """What the page embeds: series per date and type, hourly peaks, calls per UF, labels."""
    daily: dict[tuple[str, str], dict[str, float]] = defaultdict(
        lambda: {"calls": 0, "answered": 0, "minutes": 0.0, "cost": 0.0}
    )
    for row in dataset["daily"]:
        cell = daily[(str(row["date"]), type_of(str(row["direction"]), str(row["class"])))]
        for key in ("calls", "answered", "minutes", "cost"):
            cell[key] += row[key]
    present = {key for _, key in daily}
    ordered = [key for key in TYPE_COLORS if key in present] + sorted(present - TYPE_COLORS.keys())
    uf_totals: dict[str, int] = defaultdict(int)
    for row in dataset["by_uf"]:
        uf_totals[str(row["uf"])] += int(row["calls"])
    ufs = sorted(uf_totals, key=lambda uf: (-uf_totals[uf], uf))
    peaks: dict[str, list[int]] = {}
    for r in dataset["concurrency"]:
        hours = peaks.setdefault(str(r["date"]), [0] * 24)
        hours[int(r["hour"])] = max(hours[int(r["hour"])], int(r["peak"]))
    by_uf: dict[str, dict[str, int]] = defaultdict(dict)
    for r in dataset["by_uf"]:
        day = by_uf[str(r["date"])]
        day[str(r["uf"])] = day.get(str(r["uf"]), 0) + int(r["calls"])
    scope = dataset["scope"]
    return {
        "from": scope["from"],
        "to": scope["to"],
        "today": scope["today"],
        "timezone": scope["timezone"],
        "types": [
            {"key": key, "label": type_label(key), "color": TYPE_COLORS.get(key, "#334155")}
            for key in ordered
        ],
        "daily": [
            {
                "date": date,
                "type": key,
                "calls": int(v["calls"]),
                "answered": int(v["answered"]),
                "minutes": round(v["minutes"], 1),
                "cost": round(v["cost"], 2),
            }
            for (date, key), v in sorted(daily.items())
        ],
        # compact shapes: a page embeds every day of the period
        "concurrency": peaks,
        "ufs": [{"uf": uf, "color": uf_color(i)} for i, uf in enumerate(ufs)],
        "by_uf": dict(by_uf),
    }
