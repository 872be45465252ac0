"""What a data file holds, as audit entities with flat fields: `status`, `extensions[2001].name`,
`trunks.ldn_movel`, `tariffs.ldi`.

Each file kind has an entity per thing an auditor names: a tenant (its file), a number (an
entry of a numbers file, wherever it lives), a route, a plan, a trunk, a server of the
inventory, a platform user; any other YAML in the data folders is one entity named by its path.
Values are display strings in the files' own terms (`true`, `2026-12-10`, `[local_fixo,
ldi]`); a number without owner is "Disponível"; a secret-looking key never shows its value.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

# The secret rule's words (pabx.validate.secrets, kept equal by a test): importing the rule
# would import every rule and model, a large part of a quick question's time.
SECRET_WORDS = re.compile(
    r"(?:^|[_\-.])(password|passwd|pass|pwd|passphrase|secret|senha|token|api[_-]?key|private[_-]?key|credentials?)(?:$|[_\-.])",
    re.IGNORECASE,
)
SAFE_SUFFIXES = ("_env", "_file", "_path", "_var")

Fields = dict[str, str]
"""flat field -> display value (a field absent from the file is absent from the dict)."""

TENANT = "tenant"
NUMBER = "number"
ROUTE = "route"
PLAN = "plan"
TRUNK = "trunk"
PLATFORM = "platform"
SERVER = "server"
USER = "user"
FILE = "file"

KIND_LABELS: dict[str, str] = {
    TENANT: "Cliente",
    NUMBER: "Número",
    ROUTE: "Rota",
    PLAN: "Plano",
    TRUNK: "Tronco",
    PLATFORM: "Plataforma",
    SERVER: "Servidor",
    USER: "Usuário",
    FILE: "Arquivo",
}

NULL = "—"
AVAILABLE = "Disponível"
HIDDEN = "(oculto)"

DATA_PREFIXES = ("inventory/", "tenants/", "numbers/", "routes/", "plans/")
_FOLDER_KINDS = (
    ("tenants/", TENANT),
    ("routes/", ROUTE),
    ("plans/", PLAN),
    ("inventory/trunks/", TRUNK),
)
PLATFORM_FILE = "inventory/platform.yaml"
HOSTS_FILE = "inventory/hosts.yml"
USERS_FILE = "inventory/users.yaml"

# the key of the items of each list of entries (a list without one is compared as a whole)
_ITEM_KEYS = ("number", "github")


@dataclass(frozen=True, order=True)
class Entity:
    kind: str
    key: str

    @property
    def label(self) -> str:
        return f"{KIND_LABELS.get(self.kind, self.kind)} {self.key}"


def is_data_file(path: str) -> bool:
    return path.startswith(DATA_PREFIXES) and path.endswith((".yaml", ".yml"))


def single_entity(path: str) -> Entity | None:
    """The one entity a file is (a tenant, route, plan, trunk, the platform, any other file), or
    None for files holding many (numbers, users, the hosts inventory)."""
    if path.startswith("numbers/") or path in (USERS_FILE, HOSTS_FILE):
        return None
    if path == PLATFORM_FILE:
        return Entity(PLATFORM, "platform")
    for folder, kind in _FOLDER_KINDS:
        if path.startswith(folder) and path.count("/") == folder.count("/") and path.endswith(".yaml"):
            return Entity(kind, path[len(folder) : -len(".yaml")])
    return Entity(FILE, path)


def is_number_file(path: str) -> bool:
    return path.startswith("numbers/") and path.count("/") == 1


# --- values ---------------------------------------------------------------------------------


def display(value: Any) -> str:
    """A scalar or list in the files' own terms."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(display(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {display(v)}" for k, v in value.items()) + "}"
    return str(value)


def is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    lowered = key.lower()
    return bool(SECRET_WORDS.search(lowered)) and not lowered.endswith(SAFE_SUFFIXES)


def item_key(items: list[Any]) -> str | None:
    """The key naming the items of a list of entries (`number`), None for a plain list."""
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in _ITEM_KEYS:
        if all(key in item for item in items):
            return key
    return None


def flatten(value: Any, prefix: str = "", out: Fields | None = None, *, secret: bool = False) -> Fields:
    """`{"a": {"b": 1}, "extensions": [{"number": 2001, "name": "X"}]}` ->
    `{"a.b": "1", "extensions[2001].number": "2001", "extensions[2001].name": "X"}`."""
    out = {} if out is None else out
    if isinstance(value, dict) and (value or not prefix):
        for key, item in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flatten(item, name, out, secret=secret or is_secret_key(key))
        return out
    if isinstance(value, list) and value:
        key_field = item_key(value)
        if key_field is not None:
            for item in value:
                name = f"{prefix}[{display(item[key_field])}]"
                rest = {k: v for k, v in item.items() if k != key_field}
                if rest:
                    flatten(rest, name, out, secret=secret)
                else:  # nothing but its key: the item itself is the field
                    out[name] = display(item[key_field])
            return out
    out[prefix] = HIDDEN if secret and value is not None else display(value)
    return out


# --- defaults (a field left out equals its model default) ------------------------------------

_INDEX = re.compile(r"\[[^\]]*\]")


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return annotation


def _model_defaults(model: type[BaseModel], prefix: str, out: dict[str, str]) -> None:
    from pydantic import BaseModel

    from pabx.model import NumberEntry

    for name, info in model.model_fields.items():
        annotation = _unwrap(info.annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _model_defaults(annotation, f"{prefix}{name}.", out)
            continue
        if typing.get_origin(annotation) is list:
            (arg,) = typing.get_args(annotation) or (None,)
            arg = _unwrap(arg)
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                _model_defaults(arg, f"{prefix}{name}[].", out)
            continue
        if info.is_required() or info.default_factory is not None:
            continue
        out[f"{prefix}{name}"] = (
            AVAILABLE if (model is NumberEntry and name == "owner") else display(info.default)
        )


_DEFAULTS: dict[str, dict[str, str]] = {}


def _defaults() -> dict[str, dict[str, str]]:
    """flat field pattern (`extensions[].voicemail`) -> default, per kind, from the models (built
    on first use: only diffs need it, and the models take a while to import)."""
    if not _DEFAULTS:
        from pabx.model import HostVars, NumberEntry, Plan, Platform, Route, Tenant, Trunk, User

        models: dict[str, type[BaseModel]] = {
            TENANT: Tenant,
            NUMBER: NumberEntry,
            ROUTE: Route,
            PLAN: Plan,
            TRUNK: Trunk,
            PLATFORM: Platform,
            USER: User,
            SERVER: HostVars,
        }
        for kind, model in models.items():
            table: dict[str, str] = {}
            _model_defaults(model, "", table)
            _DEFAULTS[kind] = table
    return _DEFAULTS


def default_of(kind: str, field: str) -> str | None:
    """The display value a field has when the file leaves it out (None: no default)."""
    table = _defaults().get(kind)
    if not table:
        return None
    return table.get(_INDEX.sub("[]", field))


# --- entities of a document part --------------------------------------------------------------


def number_fields(item: Any) -> tuple[str, Fields]:
    """(the number, its fields) of one entry of a numbers file."""
    if not isinstance(item, dict):
        return f"?{display(item)}", {"": display(item)}
    key = display(item.get("number")) if item.get("number") is not None else f"?{display(item)}"
    fields = flatten({k: v for k, v in item.items() if k != "number"})
    if "owner" in fields and item.get("owner") is None:
        fields["owner"] = AVAILABLE
    return key, fields


def user_entities(users: Any) -> dict[Entity, Fields]:
    out: dict[Entity, Fields] = {}
    if not isinstance(users, list):
        return out
    for n, user in enumerate(users):
        if isinstance(user, dict):
            key = display(user.get("github") or user.get("email") or user.get("name") or n)
            out[Entity(USER, key)] = flatten(user)
    return out


def inventory_entities(path: str, data: Any) -> dict[Entity, Fields]:
    """Each host of the Ansible inventory is a server; the rest of the file (groups, their vars,
    which hosts each group lists) is the file's own entity."""
    servers: dict[Entity, Fields] = {}
    rest: dict[str, Any] = {}

    def walk(groups: Any, prefix: str) -> None:
        if not isinstance(groups, dict):
            rest[prefix] = groups
            return
        for name, group in groups.items():
            here = f"{prefix}{name}"
            if not isinstance(group, dict):
                rest[here] = group
                continue
            for key, value in group.items():
                if key == "hosts" and isinstance(value, dict):
                    rest[f"{here}.hosts"] = list(value)
                    for host, host_vars in value.items():
                        fields = servers.setdefault(Entity(SERVER, str(host)), {})
                        flatten(host_vars or {}, "", fields)
                elif key == "children":
                    walk(value, f"{here}.children.")
                else:
                    rest[f"{here}.{key}"] = value

    walk(data, "")
    out = dict(servers)
    out[Entity(FILE, path)] = flatten(rest)
    return out
