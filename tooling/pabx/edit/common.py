"""Lookups and value parsing shared by the edit operations (tenants, numbers, users…)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from pabx.edit.workspace import Workspace
from pabx.errors import UserError
from pabx.model import Tenant
from pabx.model.common import DEST_RE, SLUG_RE

DESTINATION_ALIASES = {
    "ext": "extension",
    "ramal": "extension",
    "extension": "extension",
    "queue": "queue",
    "fila": "queue",
    "grupo": "queue",
    "ivr": "ivr",
    "ura": "ivr",
    "voicemail": "voicemail",
    "vm": "voicemail",
    "correio": "voicemail",
}

TENANT_ORDER: tuple[str, ...] = tuple(Tenant.model_fields)


def tenant_path(slug: str) -> str:
    return f"tenants/{slug}.yaml"


def resolve_tenant(ws: Workspace, ref: str) -> str:
    """A tenant's slug from its slug, numeric ID or service code."""
    if ws.exists(tenant_path(ref)):
        return ref
    wanted = ref.strip()
    for slug, tenant in ws.repo.tenants.items():
        if wanted == str(tenant.id) or wanted.upper() == tenant.service_code:
            return slug
    raise UserError(f"no tenant {ref!r}: give its slug (file name in tenants/), ID or service code")


def tenant_doc(ws: Workspace, ref: str) -> tuple[str, CommentedMap]:
    slug = resolve_tenant(ws, ref)
    doc = ws.open(tenant_path(slug))
    if not isinstance(doc, CommentedMap):
        raise UserError(f"{tenant_path(slug)} is not a mapping: fix it first")
    return slug, doc


def destination(value: str) -> str:
    """`ext:2001`, `ramal:2001`, `fila:600`, `ura:500`, `hangup` -> the file form (`extension:2001`)."""
    raw = value.strip()
    if raw.lower() in ("hangup", "desligar"):
        return "hangup"
    kind, sep, target = raw.partition(":")
    full = f"{DESTINATION_ALIASES.get(kind.strip().lower(), kind.strip())}:{target.strip()}"
    if not sep or not DEST_RE.match(full):
        raise UserError(
            f"{value!r} is not a destination: write ext:NNNN, queue:NNN, ivr:NNN, voicemail:NNNN or hangup"
        )
    return full


def parse_date(value: str) -> dt.date:
    """ISO (2026-12-10) or Brazilian (10/12/2026) date."""
    text = value.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise UserError(f"{value!r} is not a date: write 2026-12-10 or 10/12/2026")


def split_list(values: Iterable[str]) -> list[str]:
    """Options given several times or comma-separated: `--member 2001,2002 --member 2003`."""
    out: list[str] = []
    for value in values:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def internal_number(value: str, what: str = "number") -> int:
    text = value.strip()
    if not re.fullmatch(r"[1-9][0-9]{1,5}", text):
        raise UserError(f"{what} {value!r} is not an internal number: 2 to 6 digits, not starting with 0")
    return int(text)


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


LEGAL_SUFFIXES = {"ltda", "me", "epp", "eireli", "sa", "s/a", "s.a", "s.a.", "mei", "ss", "cia"}


def slugify(name: str) -> str:
    """`Acme Comércio Ltda` -> `acme-comercio`: lowercase ASCII words without legal suffixes."""
    words = re.findall(r"[a-z0-9]+", ascii_fold(name).lower().replace("s.a.", "sa").replace("s/a", "sa"))
    words = [w for w in words if w not in LEGAL_SUFFIXES] or words
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > 40:
            break
        slug = candidate
    slug = slug or "cliente"
    if not SLUG_RE.match(slug):
        raise UserError(f"cannot make a slug from {name!r}: give one with --slug")
    return slug


def index_of(items: Sequence[Any], key: str, value: str) -> int | None:
    """Index of the first mapping in `items` whose `key` reads as `value` (2001 == "2001")."""
    for i, item in enumerate(items):
        if isinstance(item, dict) and str(item.get(key)) == value:
            return i
    return None


def ensure_list(mapping: CommentedMap, key: str, order: Sequence[str]) -> CommentedSeq:
    """The block list under `key`, created in model order when missing (or written as `[]`)."""
    from pabx.edit.yamlrt import set_key

    current = mapping.get(key)
    if isinstance(current, CommentedSeq) and (len(current) or not current.fa.flow_style()):
        return current
    seq = CommentedSeq(list(current or []))
    seq.fa.set_block_style()
    set_key(mapping, key, seq, order)
    return seq


def key_order(siblings: Sequence[Any], model_order: Sequence[str]) -> list[str]:
    """The model's key order, except that keys the existing entries already use keep the
    relative order those entries give them (an IVR file that writes `name` before `number`)."""
    last = next((s for s in reversed(siblings) if isinstance(s, dict)), None)
    used = [k for k in (last or {}) if k in model_order]
    slots = iter(used)
    return [next(slots) if k in used else k for k in model_order]
