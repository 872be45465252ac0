"""Tenants (Clientes): add with the next ID and a service code, set fields, remove, reset access."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from ruamel.yaml.comments import CommentedMap

from pabx.brazil.documents import DocumentKind, document_kind, format_cnpj, format_cpf, strip
from pabx.edit.common import (
    TENANT_ORDER,
    ascii_fold,
    parse_date,
    resolve_tenant,
    slugify,
    tenant_doc,
    tenant_path,
)
from pabx.edit.history import FIRST_ID, used_ids
from pabx.edit.workspace import Workspace
from pabx.edit.yamlrt import block_map, quoted, remove_key, set_key, text
from pabx.errors import UserError
from pabx.loader.layout import Kind
from pabx.model import Status
from pabx.model.tenant import ContactDetails, PersonType

CONTACT_ORDER: tuple[str, ...] = tuple(ContactDetails.model_fields)
QUOTED_KEYS = {"caller_id", "phone", "mobile"}  # digits that YAML must keep as text


@dataclass
class TenantFields:
    """Seed fields of a tenant, as typed by a user (None: not given)."""

    name: str | None = None
    contact: str | None = None
    person_type: str | None = None
    document: str | None = None
    email: str | None = None
    status: str | None = None
    permission: str | None = None
    service_code: str | None = None
    plan: str | None = None
    due_date: str | None = None
    server: str | None = None
    caller_id: str | None = None
    phone: str | None = None
    mobile: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None

    def given(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


REQUIRED_FOR_ADD = ("name", "contact", "document", "email", "plan")
CLEARABLE = ("due_date", "caller_id", *CONTACT_ORDER)


def normalize_choice(value: str) -> str:
    """`Jurídica` -> `juridica`, `Ativo` -> `ativo`: the file form of an enum typed in Portuguese."""
    return ascii_fold(value).strip().lower()


def normalize_document(value: str) -> str:
    """Digits only (or the alphanumeric CNPJ) -> the masked form; masked input stays as typed."""
    raw = strip(value)
    if re.fullmatch(r"\d{11}", raw):
        return format_cpf(raw)
    if re.fullmatch(r"[0-9A-Z]{12}\d{2}", raw):
        return format_cnpj(raw)
    return value.strip()


def person_type_of(document: str) -> str | None:
    kind = document_kind(document)
    if kind is DocumentKind.CPF:
        return PersonType.FISICA.value
    if kind is DocumentKind.CNPJ:
        return PersonType.JURIDICA.value
    return None


def service_code_for(name: str, tenant_id: int, taken: set[str]) -> str:
    """`Acme Comércio Ltda`, 1009 -> `ACM-0009`: letters from the name, digits from the ID."""
    words = [w for w in re.findall(r"[A-Z0-9]+", ascii_fold(name).upper()) if w.lower() not in _GENERIC]
    first = words[0] if words else "CLI"
    letters = first[0] + "".join(dict.fromkeys(c for c in first[1:] if c not in "AEIOU" + first[0]))
    for word in words[1:]:
        letters += word[0]
    letters = (letters + first[1:] + "XXX")[:3]
    number = tenant_id - 1000 if tenant_id > 1000 else tenant_id
    code = f"{letters}-{number:04d}"
    suffix = 0
    while code in taken:
        suffix += 1
        code = f"{letters}-{number:04d}-{suffix}"
    return code


_GENERIC = {"ltda", "me", "epp", "eireli", "sa", "s", "a", "de", "da", "do", "das", "dos", "e", "cia", "the"}


def _value(key: str, value: Any, like: Any = None) -> Any:
    if key == "due_date":
        return parse_date(value) if isinstance(value, str) else value
    if key in ("person_type", "status", "permission"):
        return normalize_choice(value)
    if key == "document":
        return text(normalize_document(value), like)
    if key == "service_code":
        return text(value.strip().upper(), like)
    if key == "state":
        return text(value.strip().upper(), like)
    if key in QUOTED_KEYS:
        return quoted(value.strip())
    return text(value.strip(), like)


def least_loaded_server(ws: Workspace, added: Mapping[str, int] | None = None) -> str:
    """The Asterisk server with the most room (placement), by tenants for its capacity;
    `added` counts tenants placed by this change so far."""
    placed: dict[str, int] = {name: (added or {}).get(name, 0) for name in ws.repo.servers}
    for tenant in ws.repo.tenants.values():
        if tenant.status is not Status.REMOVIDO and tenant.server in placed:
            placed[tenant.server] += 1
    best: tuple[float, str] | None = None
    for name, hostvars in sorted(ws.repo.servers.items()):
        cap = hostvars.pabx_capacity.tenants if hostvars.pabx_capacity else None
        if cap is not None and placed[name] >= cap:
            continue
        load = placed[name] / cap if cap else placed[name] / 1000
        if best is None or load < best[0]:
            best = (load, name)
    if best is None:
        raise UserError("no Asterisk server has room for another tenant: give one with --server")
    return best[1]


def add_tenant(
    ws: Workspace,
    given: TenantFields,
    *,
    slug: str | None = None,
    tenant_id: int | None = None,
    managers: Sequence[str] = (),
    taken_ids: set[int] | None = None,
    taken_codes: set[str] | None = None,
) -> str:
    """Create tenants/<slug>.yaml with every seed field; returns the slug.

    `taken_ids` and `taken_codes` (updated here) let a caller creating many tenants in one
    change (the importer) look the IDs ever used up once."""
    values = given.given()
    missing = [key for key in REQUIRED_FOR_ADD if not values.get(key)]
    if missing:
        raise UserError(f"missing {', '.join('--' + m.replace('_', '-') for m in missing)}")
    if (
        ws.repo.users is not None
        and not managers
        and normalize_choice(values.get("status") or "") != "removido"
    ):
        raise UserError(
            "every tenant needs a manager (the seed: add the client to a user's profile): "
            "give --manager HANDLE, a user of inventory/users.yaml"
        )
    if managers:
        from pabx.edit.users import check_manager

        for handle in managers:
            check_manager(ws, handle)
    slug = slug or slugify(values["name"])
    if ws.exists(tenant_path(slug)):
        raise UserError(f"{tenant_path(slug)} already exists: choose another --slug")
    ids = used_ids(ws.repo) if taken_ids is None else taken_ids
    if tenant_id is None:
        tenant_id = max(ids) + 1 if ids else FIRST_ID
    elif tenant_id in ids:
        raise UserError(f"ID {tenant_id} was already used by a tenant: IDs are never reused")
    plan = values["plan"]
    if plan not in ws.repo.plans:
        raise UserError(f"plan {plan!r} does not exist (known: {', '.join(sorted(ws.repo.plans))})")
    server = values.get("server") or least_loaded_server(ws)
    if server not in ws.repo.servers:
        raise UserError(
            f"server {server!r} is not an Asterisk host (known: {', '.join(sorted(ws.repo.servers))})"
        )
    document = normalize_document(values["document"])
    person_type = values.get("person_type") or person_type_of(document) or PersonType.JURIDICA.value
    codes = {t.service_code for t in ws.repo.tenants.values()} if taken_codes is None else taken_codes
    code = values.get("service_code") or service_code_for(values["name"], tenant_id, codes)
    ids.add(tenant_id)
    codes.add(code.upper())
    top: list[tuple[str, Any]] = [
        ("id", tenant_id),
        ("name", _value("name", values["name"])),
        ("contact", _value("contact", values["contact"])),
        ("person_type", normalize_choice(person_type)),
        ("document", _value("document", document)),
        ("email", _value("email", values["email"])),
        ("status", normalize_choice(values.get("status") or Status.PENDENTE.value)),
        ("permission", normalize_choice(values.get("permission") or "cliente")),
        ("service_code", _value("service_code", code)),
        ("plan", _value("plan", plan)),
    ]
    if values.get("due_date"):
        top.append(("due_date", parse_date(values["due_date"])))
    top.append(("server", _value("server", server)))
    if values.get("caller_id"):
        top.append(("caller_id", quoted(values["caller_id"])))
    contact = [(key, _value(key, values[key])) for key in CONTACT_ORDER if values.get(key)]
    if contact:
        top.append(("contact_details", block_map(contact)))
    ws.create(tenant_path(slug), Kind.TENANT, block_map(top))
    ws.note(f"Cliente {slug}: created with ID {tenant_id}, service code {code}, plan {plan}, server {server}")
    if managers:
        from pabx.edit.users import grant

        for handle in managers:
            grant(ws, handle, [slug], tenant_is_new=True)
    return slug


def set_tenant(ws: Workspace, ref: str, given: TenantFields, clear: Sequence[str] = ()) -> str:
    """Change some fields of a tenant in place; `clear` removes optional fields."""
    slug, doc = tenant_doc(ws, ref)
    values = given.given()
    if not values and not clear:
        raise UserError("nothing to set: give at least one option (see --help)")
    if values.get("status") and normalize_choice(values["status"]) == Status.REMOVIDO.value:
        _refuse_while_owning(ws, slug)
    contact = doc.get("contact_details")
    for key, raw in values.items():
        if key in CONTACT_ORDER:
            if not isinstance(contact, CommentedMap):
                contact = block_map([])
                set_key(doc, "contact_details", contact, TENANT_ORDER)
            old = contact.get(key)
            set_key(contact, key, _value(key, raw, old), CONTACT_ORDER)
        else:
            if key == "plan" and not ws.exists(f"plans/{raw}.yaml"):
                raise UserError(f"plan {raw!r} does not exist (known: {', '.join(sorted(ws.repo.plans))})")
            old = doc.get(key)
            set_key(doc, key, _value(key, raw, old), TENANT_ORDER)
        ws.note(f"Cliente {slug}: {key} {_show(old)} -> {_show(raw)}")
    for key in clear:
        if key not in CLEARABLE:
            raise UserError(f"--clear {key}: only {', '.join(CLEARABLE)} can be cleared")
        target = contact if key in CONTACT_ORDER else doc
        if isinstance(target, CommentedMap) and remove_key(target, key):
            ws.note(f"Cliente {slug}: {key} cleared")
    if isinstance(contact, CommentedMap) and not contact and "contact_details" in doc:
        del doc["contact_details"]
    return slug


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _refuse_while_owning(ws: Workspace, slug: str) -> None:
    owned = sorted(entry.number for entry in ws.repo.numbers_of(slug))
    if owned:
        listed = ", ".join(owned[:10]) + (f" … ({len(owned)} in all)" if len(owned) > 10 else "")
        raise UserError(
            f"{slug} still owns {len(owned)} number(s): {listed}. Release them first "
            "(pabx number release NUMBER) or pass --release-numbers to release them in this change"
        )


def remove_tenant(ws: Workspace, ref: str, *, release_numbers: bool = False) -> str:
    """Status removido (the file and its ID stay); refused while it owns numbers."""
    from pabx.edit.numbers import release_number

    slug, doc = tenant_doc(ws, ref)
    if str(doc.get("status")) == Status.REMOVIDO.value:
        raise UserError(f"{slug} is already removido")
    owned = sorted(entry.number for entry in ws.repo.numbers_of(slug))
    if owned and not release_numbers:
        _refuse_while_owning(ws, slug)
    for number in owned:
        release_number(ws, number, check_caller_ids=False)
    if owned:
        _drop_caller_ids(ws, slug, doc, set(owned))
    old = doc.get("status")
    doc["status"] = text(Status.REMOVIDO.value, old)
    ws.note(f"Cliente {slug}: status {old} -> removido (the file and ID {doc.get('id')} stay for audit)")
    return slug


def _drop_caller_ids(ws: Workspace, slug: str, doc: CommentedMap, released: set[str]) -> None:
    """A tenant presents only numbers it owns: forget caller IDs of the numbers it gave back."""
    if str(doc.get("caller_id")) in released:
        ws.note(f"Cliente {slug}: caller_id {doc['caller_id']} cleared (number released)")
        del doc["caller_id"]
    for ext in doc.get("extensions") or []:
        if isinstance(ext, CommentedMap) and str(ext.get("caller_id")) in released:
            ws.note(f"Cliente {slug}: ramal {ext.get('number')} caller_id {ext['caller_id']} cleared")
            del ext["caller_id"]


def reset_access(ws: Workspace, ref: str) -> tuple[str, str, int]:
    """Bump access_rotation: a new Painel do usuário address is published and mailed on apply.

    Returns (slug, the tenant's e-mail, the new rotation). The address itself is never shown.
    """
    slug, doc = tenant_doc(ws, ref)
    old = int(doc.get("access_rotation") or 0)
    set_key(doc, "access_rotation", old + 1, TENANT_ORDER)
    ws.note(f"Cliente {slug}: access_rotation {old} -> {old + 1}")
    return slug, str(doc.get("email")), old + 1


__all__ = [
    "CLEARABLE",
    "TenantFields",
    "add_tenant",
    "least_loaded_server",
    "remove_tenant",
    "reset_access",
    "resolve_tenant",
    "service_code_for",
    "set_tenant",
]
