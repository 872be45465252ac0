"""Users and profiles (inventory/users.yaml): add, grant and revoke tenants, remove; CODEOWNERS follows."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from pabx.edit.codeowners import CODEOWNERS_FILE, render_codeowners
from pabx.edit.common import key_order, resolve_tenant
from pabx.edit.workspace import Workspace
from pabx.edit.yamlrt import block_map, delete_item, flow_seq, like_siblings, plain, set_key, text
from pabx.errors import UserError
from pabx.loader.layout import USERS_FILE, Kind
from pabx.model.user import GITHUB_HANDLE_RE, ROLE_LABELS, Role, User, Users

USER_ORDER: tuple[str, ...] = tuple(User.model_fields)


def _users_list(ws: Workspace, *, create: bool = False) -> CommentedSeq:
    if not ws.exists(USERS_FILE):
        if not create:
            raise UserError(f"{USERS_FILE} does not exist: add a user first (pabx user add …)")
        seq = CommentedSeq()
        seq.fa.set_block_style()
        ws.create(USERS_FILE, Kind.USERS, block_map([("users", seq)]))
    doc = ws.open(USERS_FILE)
    users = doc.get("users") if isinstance(doc, CommentedMap) else None
    if not isinstance(users, CommentedSeq):
        raise UserError(f"{USERS_FILE}: users is not a list: fix it first")
    _sync_codeowners_on_commit(ws)
    return users


def _find(users: CommentedSeq, handle: str) -> CommentedMap:
    wanted = handle.removeprefix("@").lower()
    for entry in users:
        if isinstance(entry, CommentedMap) and str(entry.get("github", "")).lower() == wanted:
            return entry
    raise UserError(f"no user @{handle.removeprefix('@')} in {USERS_FILE}")


def add_user(
    ws: Workspace, handle: str, *, name: str, email: str, role: str, tenants: Sequence[str] = ()
) -> str:
    """Append a user (with the tenants it manages) to inventory/users.yaml."""
    handle = handle.removeprefix("@")
    if not GITHUB_HANDLE_RE.match(handle):
        raise UserError(f"{handle!r} is not a GitHub handle")
    try:
        chosen = Role(role)
    except ValueError:
        raise UserError(f"role {role!r}: one of {', '.join(r.value for r in Role)}") from None
    users = _users_list(ws, create=True)
    if any(isinstance(u, CommentedMap) and str(u.get("github", "")).lower() == handle.lower() for u in users):
        raise UserError(f"@{handle} is already in {USERS_FILE}")
    slugs = [resolve_tenant(ws, t) for t in tenants]
    values: dict[str, object] = {
        "name": text(name.strip()),
        "email": text(email.strip()),
        "github": text(handle),
        "role": chosen.value,
    }
    if slugs:
        values["tenants"] = flow_seq(text(s) for s in slugs)
    order = key_order(users, USER_ORDER)
    entry = CommentedMap((k, values[k]) for k in order if k in values)
    users.append(like_siblings(entry, users))
    managed = f", manages {', '.join(slugs)}" if slugs else ""
    ws.note(f"Usuário @{handle} ({name}) added as {chosen.value} ({ROLE_LABELS[chosen]}){managed}")
    return handle


def check_manager(ws: Workspace, handle: str) -> None:
    """Refuse, before anything is staged, a handle that cannot manage a tenant."""
    users = ws.repo.users
    user = users.by_handle(handle) if users is not None else None
    if user is None:
        raise UserError(f"no user @{handle.removeprefix('@')} in {USERS_FILE}")
    if user.role is Role.AUDITOR:
        raise UserError(f"@{user.github} is an auditor: auditors approve nothing")


def grant(ws: Workspace, handle: str, tenants: Sequence[str], *, tenant_is_new: bool = False) -> list[str]:
    """Add tenants to a user's profile (the seed: 'add the client to the user's profile')."""
    users = _users_list(ws)
    entry = _find(users, handle)
    slugs = list(tenants) if tenant_is_new else [resolve_tenant(ws, t) for t in tenants]
    if str(entry.get("role")) == Role.AUDITOR.value:
        raise UserError(f"@{entry.get('github')} is an auditor: auditors approve nothing")
    listed = entry.get("tenants")
    if not isinstance(listed, CommentedSeq):
        listed = flow_seq([])
        set_key(entry, "tenants", listed, key_order([entry], USER_ORDER))
    added = []
    for slug in slugs:
        if any(str(t) == slug for t in listed):
            ws.note(f"Usuário @{entry.get('github')} already manages {slug}")
            continue
        listed.append(text(slug))
        added.append(slug)
        ws.note(f"Usuário @{entry.get('github')}: now manages {slug}")
    return added


def revoke(ws: Workspace, handle: str, tenants: Sequence[str]) -> list[str]:
    """Take tenants out of a user's profile; validation refuses when a tenant is left unmanaged."""
    users = _users_list(ws)
    entry = _find(users, handle)
    listed = entry.get("tenants")
    removed = []
    for tenant in tenants:
        index = next((i for i, t in enumerate(listed or []) if str(t) == tenant), None)
        if index is None or listed is None:
            raise UserError(f"@{entry.get('github')} does not manage {tenant}")
        del listed[index]
        removed.append(tenant)
        ws.note(f"Usuário @{entry.get('github')}: no longer manages {tenant}")
    if listed is not None and not listed:
        del entry["tenants"]
    return removed


def remove_user(ws: Workspace, handle: str) -> str:
    users = _users_list(ws)
    entry = _find(users, handle)
    index = next(i for i, u in enumerate(users) if u is entry)
    delete_item(users, index)
    ws.note(f"Usuário @{entry.get('github')} ({entry.get('name')}) removed")
    return str(entry.get("github"))


def _sync_codeowners_on_commit(ws: Workspace) -> None:
    """A change to users.yaml carries the CODEOWNERS it implies (CI fails when they disagree)."""
    ws.before_commit("codeowners", _write_codeowners)


def _write_codeowners(ws: Workspace) -> None:
    doc = ws.open(USERS_FILE)
    try:
        users = Users.model_validate(plain(doc))
    except ValidationError:
        return  # validation of the result reports what is wrong with users.yaml
    ws.write_text(CODEOWNERS_FILE, render_codeowners(users))


__all__ = ["add_user", "check_manager", "grant", "remove_user", "revoke"]
