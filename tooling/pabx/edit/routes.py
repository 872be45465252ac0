"""Routes (Rotas): a trunk for each call class; removal refused while a number uses the route."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ruamel.yaml.comments import CommentedMap

from pabx.edit.common import slugify
from pabx.edit.workspace import Workspace
from pabx.edit.yamlrt import block_map, quoted, set_key, text
from pabx.errors import UserError
from pabx.loader.layout import Kind
from pabx.model import CALL_CLASSES, CLASS_LABELS, Route
from pabx.model.common import SLUG_RE

ROUTE_ORDER: tuple[str, ...] = tuple(Route.model_fields)
CLASS_ORDER: tuple[str, ...] = tuple(c.value for c in CALL_CLASSES)


def route_path(slug: str) -> str:
    return f"routes/{slug}.yaml"


def parse_trunks(values: Sequence[str]) -> dict[str, str | None]:
    """`local_fixo=vivo-sp` (or `ldi=-` to block the class) -> {class: trunk or None}."""
    out: dict[str, str | None] = {}
    for value in values:
        call_class, sep, trunk = value.partition("=")
        call_class, trunk = call_class.strip(), trunk.strip()
        if not sep or call_class not in CLASS_ORDER:
            raise UserError(
                f"--trunk {value!r}: write CLASS=TRUNK with a class among {', '.join(CLASS_ORDER)} "
                "(CLASS=- blocks the class)"
            )
        out[call_class] = None if trunk in ("-", "", "null", "none") else trunk
    return out


def _class_key(call_class: str) -> str:
    return quoted(call_class) if call_class[:1].isdigit() else call_class


def _check_trunks(ws: Workspace, trunks: Mapping[str, str | None]) -> None:
    unknown = sorted({t for t in trunks.values() if t is not None and t not in ws.repo.trunks})
    if unknown:
        raise UserError(
            f"trunk {', '.join(unknown)} does not exist in inventory/trunks/ "
            f"(known: {', '.join(sorted(ws.repo.trunks))})"
        )


def add_route(
    ws: Workspace,
    name: str,
    *,
    slug: str | None = None,
    default: str | None = None,
    trunks: Sequence[str] = (),
) -> str:
    """Create routes/<slug>.yaml with a trunk (or null) for each of the eight classes."""
    slug = slug or slugify(name)
    if not SLUG_RE.match(slug):
        raise UserError(f"{slug!r} is not a slug: lowercase letters, digits and '-'")
    if ws.exists(route_path(slug)):
        raise UserError(f"{route_path(slug)} already exists")
    chosen = parse_trunks(trunks)
    missing = [c for c in CLASS_ORDER if c not in chosen]
    if missing and default is None:
        raise UserError(
            f"no trunk for {', '.join(missing)}: give --default-trunk TRUNK or --trunk CLASS=TRUNK for each"
        )
    full = {c: chosen.get(c, default) for c in CLASS_ORDER}
    _check_trunks(ws, full)
    body = block_map(
        [
            ("name", text(name.strip())),
            ("trunks", block_map((_class_key(c), text(t) if t else None) for c, t in full.items())),
        ]
    )
    ws.create(route_path(slug), Kind.ROUTE, body)
    listed = ", ".join(f"{CLASS_LABELS[cls]}: {full[cls.value] or 'bloqueada'}" for cls in CALL_CLASSES)
    ws.note(f"Rota {slug} ({name}) created: {listed}")
    return slug


def set_route(ws: Workspace, slug: str, *, name: str | None = None, trunks: Sequence[str] = ()) -> str:
    if not ws.exists(route_path(slug)):
        raise UserError(f"no route {slug!r} (known: {', '.join(sorted(ws.repo.routes))})")
    doc = ws.open(route_path(slug))
    if not isinstance(doc, CommentedMap):
        raise UserError(f"{route_path(slug)} is not a mapping: fix it first")
    if name is None and not trunks:
        raise UserError("nothing to set: give --name or --trunk CLASS=TRUNK")
    if name is not None:
        old = doc.get("name")
        set_key(doc, "name", text(name.strip(), old), ROUTE_ORDER)
        ws.note(f"Rota {slug}: name {old} -> {name}")
    chosen = parse_trunks(trunks)
    _check_trunks(ws, chosen)
    if chosen:
        table = doc.get("trunks")
        if not isinstance(table, CommentedMap):
            raise UserError(f"{route_path(slug)}: trunks is not a mapping: fix it first")
        for call_class, trunk in chosen.items():
            existing = next((k for k in table if str(k) == call_class), None)
            old = table.get(existing) if existing is not None else None
            value = text(trunk, old) if trunk else None
            if existing is None:
                set_key(table, _class_key(call_class), value, CLASS_ORDER)
            else:
                table[existing] = value
            ws.note(f"Rota {slug}: {call_class} {old or 'bloqueada'} -> {trunk or 'bloqueada'}")
    return slug


def remove_route(ws: Workspace, slug: str) -> str:
    """Delete routes/<slug>.yaml; refused while a number uses it or it is the emergency route."""
    if not ws.exists(route_path(slug)):
        raise UserError(f"no route {slug!r} (known: {', '.join(sorted(ws.repo.routes))})")
    users = sorted(site.entry.number for site in ws.repo.number_sites if site.entry.route == slug)
    if users:
        listed = ", ".join(users[:10]) + (f" … ({len(users)} in all)" if len(users) > 10 else "")
        raise UserError(
            f"route {slug} is used by {len(users)} number(s): {listed}; move them to another route first"
        )
    platform = ws.repo.platform
    if platform is not None and platform.dialing.emergency_route == slug:
        raise UserError(f"route {slug} is the emergency route of inventory/platform.yaml: change that first")
    ws.delete(route_path(slug))
    ws.note(f"Rota {slug}: removed ({route_path(slug)} deleted)")
    return slug


__all__ = ["add_route", "parse_trunks", "remove_route", "set_route"]
