"""Where each file kind lives in the repository (SPEC section 9)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path


class Kind(StrEnum):
    PLATFORM = "platform"
    INVENTORY = "inventory"
    TRUNK = "trunk"
    PLAN = "plan"
    ROUTE = "route"
    TENANT = "tenant"
    NUMBERS = "numbers"
    USERS = "users"


HOSTS_FILE = "inventory/hosts.yml"
PLATFORM_FILE = "inventory/platform.yaml"
USERS_FILE = "inventory/users.yaml"
SINGLE_FILES: dict[str, Kind] = {
    HOSTS_FILE: Kind.INVENTORY,
    PLATFORM_FILE: Kind.PLATFORM,
    USERS_FILE: Kind.USERS,
}
FOLDERS: dict[str, Kind] = {
    "inventory/trunks": Kind.TRUNK,
    "plans": Kind.PLAN,
    "routes": Kind.ROUTE,
    "tenants": Kind.TENANT,
    "numbers": Kind.NUMBERS,
}
DATA_FOLDERS = ("inventory", "tenants", "numbers", "routes", "plans")
SCHEMA_DIR = "schemas"


def schema_file(kind: Kind) -> str:
    return f"{SCHEMA_DIR}/{kind.value}.schema.json"


def schema_reference(rel: str, kind: Kind) -> str:
    """The `# yaml-language-server: $schema=` line for a data file, relative to its folder."""
    depth = rel.count("/")
    return f"# yaml-language-server: $schema={'../' * depth}{schema_file(kind)}"


def state_dir(repo: Path) -> Path:
    """The one directory for operational state (caches, CDR store, outbox)."""
    configured = os.environ.get("PABX_STATE_DIR")
    return Path(configured) if configured else repo / "state"


def discover(repo: Path) -> tuple[list[tuple[str, Kind]], list[str], list[str]]:
    """(model files with their kind, other YAML files in data folders, unexpected files).

    Paths are relative to the repository, POSIX style, sorted. Listing uses os.scandir and
    plain strings: with 10,000 tenants, pathlib objects made this a second of every run.
    """
    root = os.fspath(repo)
    modeled: list[tuple[str, Kind]] = []
    for rel, kind in SINGLE_FILES.items():
        if os.path.isfile(os.path.join(root, rel)):
            modeled.append((rel, kind))
    unexpected: list[str] = []
    for folder, kind in FOLDERS.items():
        base = os.path.join(root, folder)
        if not os.path.isdir(base):
            continue
        with os.scandir(base) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
        for entry in entries:
            rel = f"{folder}/{entry.name}"
            if entry.is_file() and _suffix(entry.name) == ".yaml":
                modeled.append((rel, kind))
            elif entry.is_file() and not entry.name.startswith("."):
                unexpected.append(rel)
    known = {rel for rel, _ in modeled}
    others: list[str] = []
    for folder in DATA_FOLDERS:
        base = os.path.join(root, folder)
        if not os.path.isdir(base):
            continue
        found = sorted(_descendants(base, folder), key=lambda item: item[0].split("/"))
        for rel, is_file in found:
            if is_file and _suffix(rel) in (".yaml", ".yml") and rel not in known:
                others.append(rel)
    return sorted(modeled), others, unexpected


def _suffix(name: str) -> str:
    """PurePath.suffix of a name or relative path: '' for '.yaml' alone or a trailing dot."""
    name = name.rpartition("/")[2]
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


def _descendants(base: str, rel: str) -> Iterator[tuple[str, bool]]:
    """(relative path, is a file) of everything below `base`, as Path.rglob("*") lists it:
    symbolic links to directories are listed but not entered, unreadable directories skipped."""
    try:
        with os.scandir(base) as listing:
            entries = list(listing)
    except PermissionError:
        return
    for entry in entries:
        child = f"{rel}/{entry.name}"
        yield child, entry.is_file()
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if is_dir:
            yield from _descendants(entry.path, child)
