"""Numbers (DIDs): add one or a range in numbers/<DDD>.yaml (kept sorted), assign, release, remove."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from pabx.brazil.ddd import ddd_table, is_real_ddd
from pabx.edit.common import destination, resolve_tenant
from pabx.edit.entries import Entries, SeqEntries
from pabx.edit.workspace import Workspace
from pabx.edit.yamlrt import Style, flow_map, quoted, remove_key, set_key, text
from pabx.errors import UserError
from pabx.loader.layout import Kind
from pabx.model import NumberEntry, Status

NUMBER_ORDER: tuple[str, ...] = tuple(NumberEntry.model_fields)
DID_RE = re.compile(r"^[1-9][1-9](?:[2-5][0-9]{7}|9[0-9]{8})$")
MAX_RANGE = 10_000


def numbers_path(ddd: str) -> str:
    return f"numbers/{ddd}.yaml"


def parse_numbers(spec: str) -> list[str]:
    """`1130001000` or a range `1130001000-1130001099` (same DDD and length, at most 10,000)."""
    raw = re.sub(r"[\s().]", "", spec)
    first, sep, last = raw.partition("-")
    if not sep:
        return [_did(first, spec)]
    start, end = _did(first, spec), _did(last, spec)
    if len(start) != len(end) or start[:2] != end[:2]:
        raise UserError(f"{spec}: a range stays within one DDD and one length")
    if int(end) < int(start):
        raise UserError(f"{spec}: the range ends before it starts")
    count = int(end) - int(start) + 1
    if count > MAX_RANGE:
        raise UserError(f"{spec}: {count} numbers; one change adds at most {MAX_RANGE}")
    found = [str(n) for n in range(int(start), int(end) + 1)]
    return [n for n in found if DID_RE.match(n)]


def _did(value: str, spec: str) -> str:
    digits = value.removeprefix("+55") if value.startswith("+55") else value
    if not DID_RE.match(digits):
        raise UserError(
            f"{spec}: {value!r} is not DDD + number (2-digit DDD, then 8 digits starting 2-5 "
            "or 9 digits starting with 9)"
        )
    if not is_real_ddd(digits[:2]):
        raise UserError(f"{spec}: DDD {digits[:2]} does not exist in Brazil")
    return digits


def _sites(ws: Workspace, number: str) -> tuple[Entries, int, CommentedMap]:
    """The round-trip entry of `number` in its DDD file."""
    rel = numbers_path(number[:2])
    if not ws.exists(rel):
        raise UserError(f"{number} is not in numbers/ (no {rel})")
    entries = ws.open_entries(rel)
    index = entries.find(number)
    if index is None:
        raise UserError(f"{number} is not in {rel}")
    return entries, index, entries.entry(index)


def _number_file(ws: Workspace, ddd: str) -> Entries:
    rel = numbers_path(ddd)
    if ws.exists(rel):
        return ws.open_entries(rel)
    uf, region = ddd_table()[ddd]
    seq = CommentedSeq()
    seq.yaml_set_start_comment(f"DDD {ddd} - {region} ({uf})")
    ws.create(rel, Kind.NUMBERS, seq, Style(mapping=2, offset=0))
    return SeqEntries(seq)


def add_numbers(
    ws: Workspace, spec: str, route: str, *, reverse_billing: bool = False, description: str | None = None
) -> list[str]:
    """Add available (Disponível) numbers; each goes to its sorted place in its DDD file."""
    if not ws.exists(f"routes/{route}.yaml"):
        raise UserError(f"route {route!r} does not exist (known: {', '.join(sorted(ws.repo.routes))})")
    numbers = parse_numbers(spec)
    rel = numbers_path(numbers[0][:2]) if numbers else ""
    entries = ws.open_entries(rel) if numbers and ws.exists(rel) else None
    existing = {entries.key(i) for i in range(len(entries))} if entries is not None else set()
    taken = [n for n in numbers if n in existing]  # in another DDD's file: number-unique says so
    if taken:
        listed = ", ".join(taken[:10]) + (f" … ({len(taken)} in all)" if len(taken) > 10 else "")
        raise UserError(f"already in numbers/: {listed}")
    if not numbers:
        raise UserError(f"{spec}: no valid number in this range")
    rows = []
    for number in numbers:
        items: list[tuple[str, object]] = [
            ("number", quoted(number)),
            ("route", text(route)),
            ("owner", None),
            ("reverse_billing", reverse_billing),
        ]
        if description:
            items.append(("description", text(description)))
        rows.append(items)
    insert_entries(ws, rows)
    what = numbers[0] if len(numbers) == 1 else f"{len(numbers)} numbers {numbers[0]}…{numbers[-1]}"
    billing = ", tarifação reversa" if reverse_billing else ""
    ws.note(f"Número {what}: added as Disponível on route {route}{billing} in {numbers_path(numbers[0][:2])}")
    return numbers


def insert_entries(ws: Workspace, rows: Sequence[Sequence[tuple[str, object]]]) -> None:
    """Insert new entries (key/value pairs, `number` first) at their sorted place in their DDD file."""
    by_ddd: dict[str, list[Sequence[tuple[str, object]]]] = {}
    for items in rows:
        by_ddd.setdefault(str(items[0][1])[:2], []).append(items)
    for ddd, group in sorted(by_ddd.items()):
        entries = _number_file(ws, ddd)
        keys = [int(entries.key(i) or 0) for i in range(len(entries))]
        for items in group:
            number = int(str(items[0][1]))
            position = bisect.bisect_right(keys, number)
            entries.insert(position, flow_map(items))
            keys.insert(position, number)


def assign_number(ws: Workspace, spec: str, tenant_ref: str, to: str) -> str:
    """Give a number to a tenant with its inbound destination (`--to ext:2001`)."""
    number = _did(re.sub(r"[\s().-]", "", spec), spec)
    slug = resolve_tenant(ws, tenant_ref)
    tenant = ws.open(f"tenants/{slug}.yaml")
    if isinstance(tenant, CommentedMap) and str(tenant.get("status")) == Status.REMOVIDO.value:
        raise UserError(f"{slug} is removido: it cannot own numbers")
    target = destination(to)
    _, _, entry = _sites(ws, number)
    owner = entry.get("owner")
    if owner not in (None, "") and str(owner) != slug:
        raise UserError(f"{number} belongs to {owner}: release it first (pabx number release {number})")
    set_key(entry, "owner", text(slug, owner), NUMBER_ORDER)
    set_key(entry, "destination", destination_value(target, entry.get("destination")), NUMBER_ORDER)
    ws.note(f"Número {number}: proprietário {owner or 'Disponível'} -> {slug}, destination {target}")
    return number


def destination_value(target: str, like: object = None) -> str:
    """A destination as the files write it: `"queue:600"` quoted, `hangup` plain."""
    if like is not None:
        return text(target, like)
    return quoted(target) if ":" in target else target


def release_number(ws: Workspace, spec: str, *, check_caller_ids: bool = True) -> str:
    """Make a number Disponível again: no owner, no destination.

    Refused while the owner presents it as a caller ID, unless the caller handles those
    (`tenant remove --release-numbers` clears them in the same change)."""
    number = _did(re.sub(r"[\s().-]", "", spec), spec)
    _, _, entry = _sites(ws, number)
    owner = entry.get("owner")
    if owner in (None, ""):
        raise UserError(f"{number} is already Disponível")
    users = list(_caller_id_uses(ws, str(owner), number))
    if users and check_caller_ids:
        raise UserError(
            f"{number} is the caller ID of {', '.join(users)}: change those first "
            f"(pabx tenant set {owner} --caller-id …, pabx extension set {owner} N --caller-id …)"
        )
    entry["owner"] = None
    remove_key(entry, "destination")
    ws.note(f"Número {number}: released by {owner} (Disponível)")
    return number


def _caller_id_uses(ws: Workspace, owner: str, number: str) -> Iterator[str]:
    if not ws.exists(f"tenants/{owner}.yaml"):
        return
    tenant = ws.open(f"tenants/{owner}.yaml")
    if not isinstance(tenant, CommentedMap):
        return
    if str(tenant.get("caller_id")) == number:
        yield f"{owner} (default caller_id)"
    for ext in tenant.get("extensions") or []:
        if isinstance(ext, CommentedMap) and str(ext.get("caller_id")) == number:
            yield f"{owner} ramal {ext.get('number')}"


def remove_number(ws: Workspace, spec: str) -> str:
    """Delete a number from its file; refused while a tenant owns it."""
    number = _did(re.sub(r"[\s().-]", "", spec), spec)
    entries, index, entry = _sites(ws, number)
    owner = entry.get("owner")
    if owner not in (None, ""):
        raise UserError(f"{number} is owned by {owner}: release it first (pabx number release {number})")
    entries.delete(index)
    ws.note(f"Número {number}: removed from {numbers_path(number[:2])}")
    return number


__all__ = [
    "add_numbers",
    "assign_number",
    "destination_value",
    "parse_numbers",
    "release_number",
    "remove_number",
]
