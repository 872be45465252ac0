"""Inside a tenant: extensions (Ramais), queues (Grupos) and IVRs (Pré-atendimentos)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from pabx.edit.common import (
    TENANT_ORDER,
    destination,
    ensure_list,
    index_of,
    internal_number,
    key_order,
    split_list,
    tenant_doc,
)
from pabx.edit.numbers import destination_value
from pabx.edit.workspace import Workspace
from pabx.edit.yamlrt import delete_item, flow_map, flow_seq, like_siblings, quoted, remove_key, set_key, text
from pabx.errors import UserError
from pabx.model import CALL_CLASSES, Extension, Ivr, Queue
from pabx.model.tenant import QueueStrategy

LISTS = {"extension": "extensions", "queue": "queues", "ivr": "ivrs"}
LABELS = {"extension": "Ramal", "queue": "Grupo", "ivr": "Pré-atendimento"}
ORDERS: dict[str, tuple[str, ...]] = {
    "extension": tuple(Extension.model_fields),
    "queue": tuple(Queue.model_fields),
    "ivr": tuple(Ivr.model_fields),
}
CLASS_VALUES = {c.value for c in CALL_CLASSES}


@dataclass
class MemberFields:
    """Fields of an extension, queue or IVR as typed by a user (None: not given)."""

    name: str | None = None
    # extension
    email: str | None = None
    outbound: Sequence[str] | None = None
    caller_id: str | None = None
    voicemail: bool | None = None
    # queue
    strategy: str | None = None
    members: Sequence[str] | None = None
    add_members: Sequence[str] = ()
    remove_members: Sequence[str] = ()
    timeout: int | str | None = None  # queue: seconds; IVR: a destination
    overflow: str | None = None
    # IVR
    greeting: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    remove_options: Sequence[str] = ()
    wait_s: int | None = None
    invalid: str | None = None


CLEARABLE: dict[str, tuple[str, ...]] = {
    "extension": ("email", "outbound", "caller_id", "voicemail"),
    "queue": ("overflow",),
    "ivr": ("timeout", "invalid"),
}


def parse_option(value: str) -> tuple[str, str]:
    """`1=queue:600` -> ("1", "queue:600")."""
    digit, sep, dest = value.partition("=")
    digit = digit.strip()
    if not sep or digit not in set("0123456789*#"):
        raise UserError(f"--option {value!r}: write DIGIT=DESTINATION, e.g. 1=queue:600 (digits 0-9, * or #)")
    return digit, destination(dest)


def _classes(values: Sequence[str]) -> list[str]:
    classes = split_list(values)
    unknown = [c for c in classes if c not in CLASS_VALUES]
    if unknown:
        raise UserError(f"unknown call class {', '.join(unknown)} (one of {', '.join(sorted(CLASS_VALUES))})")
    return classes


def _class_item(value: str) -> str:
    return quoted(value) if value[:1].isdigit() else value


def _members(values: Sequence[str]) -> list[int]:
    return [internal_number(m, "member") for m in split_list(values)]


def _values(kind: str, f: MemberFields, like: Mapping[str, Any]) -> dict[str, Any]:
    """The YAML values of the fields given, written in the style of the values they replace."""
    out: dict[str, Any] = {}
    if f.name is not None:
        out["name"] = text(f.name.strip(), like.get("name"))
    if kind == "extension":
        if f.email is not None:
            out["email"] = text(f.email.strip(), like.get("email"))
        if f.outbound is not None:
            out["outbound"] = flow_seq(_class_item(c) for c in _classes(f.outbound))
        if f.caller_id is not None:
            out["caller_id"] = quoted(f.caller_id.strip())
        if f.voicemail is not None:
            out["voicemail"] = f.voicemail
    elif kind == "queue":
        if f.strategy is not None:
            choices = [s.value for s in QueueStrategy]
            if f.strategy not in choices:
                raise UserError(f"strategy {f.strategy!r}: one of {', '.join(choices)}")
            out["strategy"] = text(f.strategy)
        if f.members is not None:
            out["members"] = flow_seq(_members(f.members))
        if f.timeout is not None:
            out["timeout"] = int(f.timeout)
        if f.overflow is not None:
            target = destination(f.overflow)
            out["overflow"] = destination_value(target, like.get("overflow"))
    else:
        if f.greeting is not None:
            out["greeting"] = text(f.greeting.strip(), like.get("greeting"))
        if f.wait_s is not None:
            out["wait_s"] = int(f.wait_s)
        if f.timeout is not None:
            target = destination(str(f.timeout))
            out["timeout"] = destination_value(target, like.get("timeout"))
        if f.invalid is not None:
            target = destination(f.invalid)
            out["invalid"] = destination_value(target, like.get("invalid"))
    return out


def _entries(doc: CommentedMap, kind: str) -> CommentedSeq | None:
    entries = doc.get(LISTS[kind])
    return entries if isinstance(entries, CommentedSeq) else None


def _find(doc: CommentedMap, kind: str, number: str, slug: str) -> tuple[CommentedSeq, int, CommentedMap]:
    entries = _entries(doc, kind)
    index = index_of(entries or [], "number", number)
    if entries is None or index is None:
        raise UserError(f"{slug} has no {LABELS[kind].lower()} {number}")
    entry = entries[index]
    if not isinstance(entry, CommentedMap):
        raise UserError(f"{slug}: {LISTS[kind]}[{index}] is not a mapping: fix it first")
    return entries, index, entry


def _number_in_use(doc: CommentedMap, number: str) -> str | None:
    for kind, key in LISTS.items():
        if index_of(doc.get(key) or [], "number", number) is not None:
            return LABELS[kind].lower()
    return None


def add_member(ws: Workspace, kind: str, tenant_ref: str, number: str, f: MemberFields) -> str:
    """Add an extension, queue or IVR to a tenant's file."""
    slug, doc = tenant_doc(ws, tenant_ref)
    value = internal_number(number, LABELS[kind])
    used = _number_in_use(doc, str(value))
    if used:
        raise UserError(f"{slug} already uses {value} for a {used}")
    if not f.name:
        raise UserError("missing --name")
    values = _values(kind, f, {})
    if kind == "queue" and "members" not in values:
        values["members"] = flow_seq(_members(f.add_members)) if f.add_members else flow_seq([])
    if kind == "ivr":
        if f.greeting is None:
            raise UserError("missing --greeting (the sound played, e.g. acme/boas-vindas)")
        options = flow_map((quoted(d), destination_value(dest)) for d, dest in f.options.items())
        values["options"] = options
    entries = ensure_list(doc, LISTS[kind], TENANT_ORDER)
    order = key_order(entries, ORDERS[kind])
    values["number"] = value
    entry = like_siblings(CommentedMap((k, values[k]) for k in order if k in values), entries)
    entries.append(entry)
    ws.note(f"{LABELS[kind]} {value} ({f.name}) added to {slug}")
    return slug


def set_member(
    ws: Workspace,
    kind: str,
    tenant_ref: str,
    number: str,
    f: MemberFields,
    *,
    clear: Sequence[str] = (),
    rotate_password: bool = False,
) -> str:
    """Change fields of an extension, queue or IVR in place."""
    slug, doc = tenant_doc(ws, tenant_ref)
    _, _, entry = _find(doc, kind, str(internal_number(number, LABELS[kind])), slug)
    label = f"{LABELS[kind]} {number} of {slug}"
    values = _values(kind, f, entry)
    order = key_order([entry], ORDERS[kind])
    for key, value in values.items():
        old = entry.get(key)
        set_key(entry, key, value, order)
        ws.note(f"{label}: {key} {_show(old)} -> {_show(value)}")
    if kind == "queue" and (f.add_members or f.remove_members):
        members = entry.get("members")
        if not isinstance(members, CommentedSeq):
            members = flow_seq([])
            set_key(entry, "members", members, order)
        for member in _members(f.add_members):
            if index_of([{"n": m} for m in members], "n", str(member)) is None:
                members.append(member)
                ws.note(f"{label}: member {member} added")
        for member in _members(f.remove_members):
            found = index_of([{"n": m} for m in members], "n", str(member))
            if found is None:
                raise UserError(f"{label}: {member} is not a member")
            del members[found]
            ws.note(f"{label}: member {member} removed")
    if kind == "ivr" and (f.options or f.remove_options):
        options = entry.get("options")
        if not isinstance(options, CommentedMap):
            options = flow_map([])
            set_key(entry, "options", options, order)
        for digit, dest in f.options.items():
            existing = next((k for k in options if str(k) == digit), None)
            if existing is not None:
                options[existing] = destination_value(dest, options[existing])
            else:
                options[quoted(digit)] = destination_value(dest)
            ws.note(f"{label}: option {digit} -> {dest}")
        for digit in f.remove_options:
            existing = next((k for k in options if str(k) == digit), None)
            if existing is None:
                raise UserError(f"{label}: no option {digit}")
            del options[existing]
            ws.note(f"{label}: option {digit} removed")
    for key in clear:
        if key not in CLEARABLE[kind]:
            raise UserError(f"--clear {key}: only {', '.join(CLEARABLE[kind])} can be cleared")
        if remove_key(entry, key):
            ws.note(f"{label}: {key} cleared")
    if rotate_password:
        if kind != "extension":
            raise UserError("--rotate-password is for extensions")
        old = int(entry.get("sip_rotation") or 0)
        set_key(entry, "sip_rotation", old + 1, order)
        ws.note(f"{label}: sip_rotation {old} -> {old + 1} (a new SIP password once applied)")
    return slug


def remove_member(ws: Workspace, kind: str, tenant_ref: str, number: str) -> str:
    """Delete an extension, queue or IVR; validation refuses while anything still points at it."""
    slug, doc = tenant_doc(ws, tenant_ref)
    entries, index, entry = _find(doc, kind, str(internal_number(number, LABELS[kind])), slug)
    delete_item(entries, index)
    ws.note(f"{LABELS[kind]} {number} ({entry.get('name')}) removed from {slug}")
    return slug


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return str(value).lower() if isinstance(value, bool) else str(value)


__all__ = ["CLEARABLE", "MemberFields", "add_member", "parse_option", "remove_member", "set_member"]
