"""Semantic changes: two loaded repositories compared by meaning (entities by id), not by lines.

Only entities of the files in `changed` are compared (None: every file), so planning a one-file
change on a 10,000-tenant platform compares one tenant. Values are shown field by field, old ->
new, as the data files spell them; a key that looks like a secret is never shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from pabx.loader.layout import HOSTS_FILE, PLATFORM_FILE
from pabx.loader.repo import Repository
from pabx.model import NumberEntry, Status, Tenant
from pabx.plan.model import Action, Change, FieldChange

_SECRET_KEY = re.compile(
    r"(?:^|[_\-.])(password|passwd|pass|pwd|passphrase|secret|senha|token|api[_-]?key|private[_-]?key|credentials?)(?:$|[_\-.])",
    re.IGNORECASE,
)
_SAFE_SUFFIXES = ("_env", "_file", "_path", "_var")
HIDDEN = "(oculto)"

# Kinds in the order a reader wants them, with their pt-BR labels (seed terms).
KIND_LABELS: dict[str, str] = {
    "server": "Servidores",
    "platform": "Plataforma",
    "trunk": "Troncos",
    "plan": "Planos",
    "route": "Rotas",
    "tenant": "Clientes",
    "extension": "Ramais",
    "queue": "Grupos",
    "ivr": "Pré-atendimentos",
    "number": "Números",
}
KIND_ORDER = {kind: i for i, kind in enumerate(KIND_LABELS)}
_ACTION_ORDER = {Action.DELETE: 0, Action.UPDATE: 1, Action.CREATE: 2}
_TENANT_LISTS = ("extensions", "queues", "ivrs")


def _secret(key: str) -> bool:
    lowered = key.lower()
    return bool(_SECRET_KEY.search(lowered)) and not lowered.endswith(_SAFE_SUFFIXES)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to JSON leaves; mappings are flattened, lists stay whole values."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if _secret(str(key)):
                out[path] = HIDDEN if item is not None else None
            elif isinstance(item, Mapping) and item:
                out.update(flatten(item, path))
            else:
                out[path] = item
        return out
    return {prefix: value}


def field_changes(old: Any, new: Any, *, skip: Iterable[str] = ()) -> tuple[FieldChange, ...]:
    before, after = flatten(old), flatten(new)
    skipped = tuple(skip)
    out = []
    for key in sorted(set(before) | set(after)):
        if key.split(".", 1)[0] in skipped:
            continue
        a, b = before.get(key), after.get(key)
        if a != b:
            if a == HIDDEN or b == HIDDEN:
                a, b = (HIDDEN if a is not None else None), (HIDDEN if b is not None else None)
            out.append(FieldChange(key, a, b))
    return tuple(out)


def placed(tenant: Tenant | None) -> str | None:
    """The server a tenant is rendered on (None when removido or absent)."""
    if tenant is None or tenant.status is Status.REMOVIDO:
        return None
    return tenant.server


@dataclass
class _Ctx:
    base: Repository
    head: Repository

    def tenant_servers(self, slug: str | None) -> set[str]:
        if not slug:
            return set()
        found = {placed(self.base.tenants.get(slug)), placed(self.head.tenants.get(slug))}
        return {s for s in found if s}

    def all_servers(self) -> set[str]:
        return set(self.base.servers) | set(self.head.servers)


def semantic_changes(base: Repository, head: Repository, changed: set[str] | None = None) -> list[Change]:
    """Every semantic change from `base` to `head`, ordered by kind, action and id."""
    ctx = _Ctx(base, head)

    def touched(path: str) -> bool:
        return changed is None or path in changed

    changes: list[Change] = []
    if touched(HOSTS_FILE):
        changes += _servers(ctx)
    if touched(PLATFORM_FILE) and base.platform != head.platform:
        fields = field_changes(base.platform, head.platform)
        if fields:
            action = Action.CREATE if base.platform is None else Action.UPDATE
            changes.append(
                Change(
                    "platform",
                    action,
                    "platform",
                    PLATFORM_FILE,
                    "fields",
                    "Plataforma alterada",
                    fields,
                    tuple(sorted(ctx.all_servers())),
                )
            )
    for slug in sorted(set(base.trunks) | set(head.trunks)):
        if touched(f"inventory/trunks/{slug}.yaml"):
            changes += _trunk(ctx, slug)
    for slug in sorted(set(base.plans) | set(head.plans)):
        if touched(f"plans/{slug}.yaml"):
            changes += _plan(ctx, slug)
    for slug in sorted(set(base.routes) | set(head.routes)):
        if touched(f"routes/{slug}.yaml"):
            changes += _route(ctx, slug)
    for slug in sorted(set(base.tenants) | set(head.tenants)):
        if touched(f"tenants/{slug}.yaml"):
            changes += _tenant(ctx, slug)
    changes += _numbers(ctx, changed)
    changes.sort(key=change_order)
    return changes


def change_order(change: Change) -> tuple[Any, ...]:
    """Kinds in reading order, deletions first within a kind, then ids in natural order."""
    return (KIND_ORDER.get(change.kind, 99), _ACTION_ORDER[change.action], _natural(change.id))


def _natural(text: str) -> tuple[Any, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def _simple(
    kind: str, label: str, file: str, slug: str, old: Any, new: Any, servers: set[str], event: str = "fields"
) -> list[Change]:
    ident = f"{kind}:{slug}"
    if old is None and new is None:
        return []
    if old is None:
        return [
            Change(
                kind,
                Action.CREATE,
                ident,
                file,
                "created",
                f"{label} {slug} criado",
                (),
                tuple(sorted(servers)),
            )
        ]
    if new is None:
        return [
            Change(
                kind,
                Action.DELETE,
                ident,
                file,
                "deleted",
                f"{label} {slug} apagado",
                (),
                tuple(sorted(servers)),
            )
        ]
    fields = field_changes(old, new)
    if not fields:
        return []
    summary = f"{label} {slug}: " + ", ".join(f.field for f in fields)
    return [Change(kind, Action.UPDATE, ident, file, event, summary, fields, tuple(sorted(servers)))]


def _servers(ctx: _Ctx) -> list[Change]:
    out: list[Change] = []
    for name in sorted(ctx.all_servers()):
        old, new = ctx.base.servers.get(name), ctx.head.servers.get(name)
        if old is not None and new is not None and old == new:
            continue
        out += _simple("server", "Servidor", HOSTS_FILE, name, old, new, {name})
    return out


def _trunk(ctx: _Ctx, slug: str) -> list[Change]:
    old, new = ctx.base.trunks.get(slug), ctx.head.trunks.get(slug)
    if old == new:
        return []
    servers = set(old.servers if old else ()) | set(new.servers if new else ())
    return _simple("trunk", "Tronco", f"inventory/trunks/{slug}.yaml", slug, old, new, servers)


def _plan(ctx: _Ctx, slug: str) -> list[Change]:
    old, new = ctx.base.plans.get(slug), ctx.head.plans.get(slug)
    if old == new:
        return []
    servers = {
        s
        for repo in (ctx.base, ctx.head)
        for t in repo.tenants.values()
        if t.plan == slug and (s := placed(t))
    }
    changes = _simple("plan", "Plano", f"plans/{slug}.yaml", slug, old, new, servers)
    if changes and changes[0].action is Action.UPDATE:
        top = {f.field.split(".", 1)[0] for f in changes[0].fields}
        event = next((e for e in ("allowed_classes", "tariffs", "limits", "billing") if e in top), "fields")
        changes[0] = _with_event(
            changes[0], {"allowed_classes": "classes", "tariffs": "tariff"}.get(event, event)
        )
    return changes


def _route(ctx: _Ctx, slug: str) -> list[Change]:
    old, new = ctx.base.routes.get(slug), ctx.head.routes.get(slug)
    if old == new:
        return []
    servers: set[str] = set()
    for repo in (ctx.base, ctx.head):
        owners = {n.owner for n in repo.numbers.values() if n.route == slug and n.owner}
        servers |= {s for o in owners if (s := placed(repo.tenants.get(o)))}
    if ctx.head.platform is not None and ctx.head.platform.dialing.emergency_route == slug:
        servers = ctx.all_servers()
    changes = _simple("route", "Rota", f"routes/{slug}.yaml", slug, old, new, servers)
    if (
        changes
        and changes[0].action is Action.UPDATE
        and any(f.field.startswith("trunks.") for f in changes[0].fields)
    ):
        changes[0] = _with_event(changes[0], "trunk")
    return changes


def _with_event(change: Change, event: str) -> Change:
    return replace(change, event=event)


_TENANT_EVENTS = ("status", "server", "plan")


def _tenant(ctx: _Ctx, slug: str) -> list[Change]:
    old, new = ctx.base.tenants.get(slug), ctx.head.tenants.get(slug)
    if old == new:
        return []
    file = f"tenants/{slug}.yaml"
    ident = f"tenant:{slug}"
    servers = tuple(sorted(ctx.tenant_servers(slug)))
    if old is None or new is None:
        present = new if new is not None else old
        assert present is not None
        counts = f"{len(present.extensions)} ramais, {len(present.queues)} grupos, {len(present.ivrs)} pré-atendimentos"
        if old is None:
            summary = (
                f"Cliente {slug} criado ({present.status.value}, plano {present.plan}, "
                f"servidor {present.server}; {counts})"
            )
            return [Change("tenant", Action.CREATE, ident, file, "created", summary, (), servers, (slug,))]
        return [
            Change(
                "tenant",
                Action.DELETE,
                ident,
                file,
                "deleted",
                f"Cliente {slug}: arquivo apagado ({counts})",
                (),
                servers,
                (slug,),
            )
        ]
    out: list[Change] = []
    fields = field_changes(old, new, skip=_TENANT_LISTS)
    if fields:
        names = {f.field for f in fields}
        event = next((e for e in _TENANT_EVENTS if e in names), "fields")
        action = Action.UPDATE
        if event == "status" and new.status is Status.REMOVIDO:
            action = Action.DELETE
        elif event == "status" and old.status is Status.REMOVIDO:
            action = Action.CREATE
        event = {"server": "moved"}.get(event, event)
        parts = [f"{f.field} {_short(f.old)} → {_short(f.new)}" for f in fields if f.field in _TENANT_EVENTS]
        others = [f.field for f in fields if f.field not in _TENANT_EVENTS]
        if others:
            parts.append(", ".join(others))
        out.append(
            Change(
                "tenant",
                action,
                ident,
                file,
                event,
                f"Cliente {slug}: " + "; ".join(parts),
                fields,
                servers,
                (slug,),
            )
        )
    for kind, label, attr in (
        ("extension", "Ramal", "extensions"),
        ("queue", "Grupo", "queues"),
        ("ivr", "Pré-atendimento", "ivrs"),
    ):
        before = {item.number: item for item in getattr(old, attr)}
        after = {item.number: item for item in getattr(new, attr)}
        for number in sorted(set(before) | set(after), key=_natural):
            a, b = before.get(number), after.get(number)
            if a == b:
                continue
            sub = f"{kind}:{slug}/{number}"
            if a is None:
                assert b is not None
                out.append(
                    Change(
                        kind,
                        Action.CREATE,
                        sub,
                        file,
                        "created",
                        f"{label} {number} de {slug} criado: {b.name}",
                        (),
                        servers,
                        (slug,),
                    )
                )
            elif b is None:
                out.append(
                    Change(
                        kind,
                        Action.DELETE,
                        sub,
                        file,
                        "deleted",
                        f"{label} {number} de {slug} apagado: {a.name}",
                        (),
                        servers,
                        (slug,),
                    )
                )
            else:
                item_fields = field_changes(a, b)
                event = "password" if [f.field for f in item_fields] == ["sip_rotation"] else "fields"
                summary = f"{label} {number} de {slug}: " + ", ".join(f.field for f in item_fields)
                out.append(
                    Change(kind, Action.UPDATE, sub, file, event, summary, item_fields, servers, (slug,))
                )
    return out


def _short(value: Any) -> str:
    return "—" if value is None else str(value)


_NUMBER_EVENTS = ("moved", "assigned", "released", "route", "destination", "reverse_billing")


def _numbers(ctx: _Ctx, changed: set[str] | None) -> list[Change]:
    def entries(repo: Repository) -> dict[str, tuple[str, NumberEntry]]:
        out: dict[str, tuple[str, NumberEntry]] = {}
        for site in repo.number_sites:
            if changed is None or site.doc.path in changed:
                out.setdefault(site.entry.number, (site.doc.path, site.entry))
        return out

    before, after = entries(ctx.base), entries(ctx.head)
    out: list[Change] = []
    for number in sorted(set(before) | set(after)):
        a, b = before.get(number), after.get(number)
        if a is not None and b is not None and a[1] == b[1]:
            continue
        ident = f"number:{number}"
        if a is None:
            assert b is not None
            file, entry = b
            owner = f", proprietário {entry.owner}" if entry.owner else " (disponível)"
            fields = field_changes({}, entry)
            out.append(
                Change(
                    "number",
                    Action.CREATE,
                    ident,
                    file,
                    "added",
                    f"Número {number} criado{owner}",
                    fields,
                    tuple(sorted(ctx.tenant_servers(entry.owner))),
                    _owners(entry.owner),
                )
            )
            continue
        if b is None:
            file, entry = a
            owner = f" (era de {entry.owner})" if entry.owner else ""
            fields = field_changes(entry, {})
            out.append(
                Change(
                    "number",
                    Action.DELETE,
                    ident,
                    file,
                    "removed",
                    f"Número {number} apagado{owner}",
                    fields,
                    tuple(sorted(ctx.tenant_servers(entry.owner))),
                    _owners(entry.owner),
                )
            )
            continue
        (_, old), (file, new) = a, b
        fields = field_changes(old, new)
        names = {f.field for f in fields}
        events = []
        if old.owner != new.owner:
            events.append("moved" if old.owner and new.owner else "assigned" if new.owner else "released")
        events += [e for e in ("route", "destination", "reverse_billing") if e in names]
        event = events[0] if events else "fields"
        if event == "moved":
            summary = f"Número {number} movido de {old.owner} para {new.owner}"
        elif event == "assigned":
            summary = f"Número {number} atribuído a {new.owner} ({new.destination or 'sem destino'})"
        elif event == "released":
            summary = f"Número {number} liberado (era de {old.owner})"
        else:
            summary = f"Número {number}: " + ", ".join(
                f"{f.field} {_short(f.old)} → {_short(f.new)}" for f in fields
            )
        servers = ctx.tenant_servers(old.owner) | ctx.tenant_servers(new.owner)
        out.append(
            Change(
                "number",
                Action.UPDATE,
                ident,
                file,
                event,
                summary,
                fields,
                tuple(sorted(servers)),
                _owners(old.owner, new.owner),
            )
        )
    return out


def _owners(*owners: str | None) -> tuple[str, ...]:
    return tuple(sorted({o for o in owners if o}))
