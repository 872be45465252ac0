"""Times as auditors give and read them: in the platform's time zone (inventory/platform.yaml)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from pabx.errors import UserError

DEFAULT_TIMEZONE = "America/Sao_Paulo"
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def platform_timezone(root: Path) -> ZoneInfo:
    """The `timezone` of inventory/platform.yaml in the work tree, else America/Sao_Paulo."""
    name = DEFAULT_TIMEZONE
    path = root / "inventory" / "platform.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("timezone"), str):
            name = data["timezone"]
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        pass
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def parse_time(text: str, tz: ZoneInfo, *, end_of_day: bool = False, what: str = "time") -> dt.datetime:
    """'2026-10-01T12:00' (platform time), '2026-10-01T15:00Z', '2026-10-01T12:00-03:00', or a
    date alone (its first instant, or its last with `end_of_day`)."""
    value = text.strip()
    try:
        if _DATE_ONLY.match(value):
            day = dt.date.fromisoformat(value)
            if end_of_day:
                return dt.datetime.combine(day, dt.time.max, tz)
            return dt.datetime.combine(day, dt.time.min, tz)
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise UserError(
            f"{what} {text!r} is not a date or time: write 2026-10-01, 2026-10-01T12:00 "
            "(platform time zone) or 2026-10-01T15:00Z"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def local(moment: dt.datetime, tz: ZoneInfo) -> str:
    """'01/10/2026 12:00' in the platform time zone."""
    return moment.astimezone(tz).strftime("%d/%m/%Y %H:%M")


def end_of(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The last instant of a local date."""
    return dt.datetime.combine(day, dt.time.max, tz)
