"""Live phone registrations (Terminal, Endereço) from `state/status/registrations.json`.

`pabx status` writes that file from the servers; the report only reads it. Absent file or
endpoint: the Ramais page says "desconhecido", never a guess.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from pabx.errors import UserError

RELPATH = "status/registrations.json"
UNKNOWN = "desconhecido"


@dataclass(frozen=True)
class Registration:
    server: str
    address: str
    user_agent: str = ""
    status: str = ""


@dataclass(frozen=True)
class Registrations:
    collected_at: dt.datetime | None = None
    endpoints: dict[str, Registration] = field(default_factory=dict)

    def of(self, endpoint: str) -> Registration | None:
        return self.endpoints.get(endpoint)


def load_registrations(state: Path) -> Registrations:
    """Read `<state>/status/registrations.json`; an empty result when it does not exist."""
    path = state / RELPATH
    if not path.is_file():
        return Registrations()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: cannot read the registrations written by `pabx status`: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("endpoints", {}), dict):
        raise UserError(f"{path}: expected {{'collected_at': ..., 'endpoints': {{name: {{...}}}}}}")
    collected = _parse_time(data.get("collected_at"), path)
    endpoints: dict[str, Registration] = {}
    for name, entry in data.get("endpoints", {}).items():
        if not isinstance(entry, dict):
            raise UserError(f"{path}: endpoints.{name}: expected an object with server and address")
        endpoints[str(name)] = Registration(
            server=str(entry.get("server") or UNKNOWN),
            address=str(entry.get("address") or UNKNOWN),
            user_agent=str(entry.get("user_agent") or ""),
            status=str(entry.get("status") or ""),
        )
    return Registrations(collected, endpoints)


def _parse_time(value: object, path: Path) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{path}: collected_at {value!r} is not an ISO date and time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
