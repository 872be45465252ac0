"""Where each file kind lives in the repository (SPEC section 9)."""

from __future__ import annotations

import os
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


HOSTS_FILE = "inventory/hosts.yml"
PLATFORM_FILE = "inventory/platform.yaml"
SINGLE_FILES: dict[str, Kind] = {HOSTS_FILE: Kind.INVENTORY, PLATFORM_FILE: Kind.PLATFORM}
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

    Paths are relative to the repository, POSIX style, sorted.
    """
    modeled: list[tuple[str, Kind]] = []
    for rel, kind in SINGLE_FILES.items():
        if (repo / rel).is_file():
            modeled.append((rel, kind))
    unexpected: list[str] = []
    for folder, kind in FOLDERS.items():
        base = repo / folder
        if not base.is_dir():
            continue
        for path in sorted(base.iterdir()):
            rel = path.relative_to(repo).as_posix()
            if path.is_file() and path.suffix == ".yaml":
                modeled.append((rel, kind))
            elif path.is_file() and not path.name.startswith("."):
                unexpected.append(rel)
    known = {rel for rel, _ in modeled}
    others: list[str] = []
    for folder in DATA_FOLDERS:
        base = repo / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(repo).as_posix()
            if path.is_file() and path.suffix in (".yaml", ".yml") and rel not in known:
                others.append(rel)
    return sorted(modeled), others, unexpected
