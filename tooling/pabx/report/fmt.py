"""Brazilian formatting for the report pages and CSVs: R$ 1.234,56, dd/mm/aaaa, (11) 3000-1000."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

NBSP = "\u00a0"  # keeps "R$" and its amount on one line, as Intl.NumberFormat('pt-BR') does

MONTHS = (
    "janeiro",
    "fevereiro",
    "março",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
)


def decimal_br(value: float | int | Decimal, places: int = 2) -> str:
    """1234.5 -> '1.234,50' (thousands with '.', decimals with ',', half-up rounding)."""
    quantum = Decimal(1).scaleb(-places)
    rounded = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    whole, _, frac = f"{abs(rounded):.{places}f}".partition(".")
    groups = []
    while whole:
        groups.append(whole[-3:])
        whole = whole[:-3]
    text = ".".join(reversed(groups))
    return f"{sign}{text},{frac}" if places else f"{sign}{text}"


def integer_br(value: int) -> str:
    """12345 -> '12.345'."""
    return decimal_br(value, 0)


def money(value: float | int | Decimal) -> str:
    """1234.56 -> 'R$ 1.234,56' (non-breaking space)."""
    return f"R${NBSP}{decimal_br(value, 2)}"


def minutes(value: float | int | Decimal) -> str:
    """Billed minutes with one decimal (a 6 s step is 0,1 min): 12.5 -> '12,5'."""
    return decimal_br(value, 1)


def date_br(value: dt.date | str | None) -> str:
    """2026-05-14 -> '14/05/2026'; None -> '—'."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def datetime_br(value: dt.datetime, tz: str) -> str:
    """An aware datetime shown in the platform time zone: '14/05/2026 09:30'."""
    return value.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y %H:%M")


def month_br(month: str) -> str:
    """'2026-05' -> 'maio/2026'."""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]}/{year}"


def month_numeric(month: str) -> str:
    """'2026-05' -> '05/2026' (the CSV form)."""
    year, number = month.split("-")
    return f"{number}/{year}"


def phone(did: str) -> str:
    """DDD + number -> '(11) 3000-1000' / '(11) 99876-5432'."""
    ddd, subscriber = did[:2], did[2:]
    return f"({ddd}) {subscriber[:-4]}-{subscriber[-4:]}"


def subscriber(did: str) -> str:
    """The number without its DDD, grouped: '3000-1000'."""
    rest = did[2:]
    return f"{rest[:-4]}-{rest[-4:]}"
