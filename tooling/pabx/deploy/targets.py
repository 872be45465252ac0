"""Where an apply goes: the servers of inventory/hosts.yml over SSH, or the local target (each
server a folder on this machine, reached through Ansible's local connection) for `make demo`."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

from pabx.loader.layout import HOSTS_FILE, state_dir
from pabx.loader.repo import Repository
from pabx.model.inventory import SERVER_GROUP


class TargetKind(StrEnum):
    SSH = "ssh"
    LOCAL = "local"


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    inventory: Path  # the inventory file passed to Ansible
    roots: dict[str, Path]  # local target only: server -> its config directory

    @property
    def is_local(self) -> bool:
        return self.kind is TargetKind.LOCAL


def local_root(repo_root: Path) -> Path:
    return state_dir(repo_root) / "local-target"


def resolve_target(repo_root: Path, repo: Repository, kind: TargetKind | str) -> Target:
    """The inventory file of a target; the local one is written under the state dir."""
    kind = TargetKind(kind)
    if kind is TargetKind.SSH:
        return Target(kind, repo_root / HOSTS_FILE, {})
    base = local_root(repo_root).resolve()
    roots = {server: base / server / "etc" / "asterisk" for server in sorted(repo.servers)}
    hosts = {
        server: {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "pabx_asterisk_etc": str(root),
            "pabx_asterisk_cli": "",  # no Asterisk here: reloads and their checks are SKIPPED
        }
        for server, root in roots.items()
    }
    for root in roots.values():
        root.mkdir(parents=True, exist_ok=True)
    inventory = base / "hosts.yml"
    text = "# Written by pabx apply --target local: each server is a folder on this machine.\n"
    text += yaml.safe_dump({"all": {"children": {SERVER_GROUP: {"hosts": hosts}}}}, sort_keys=True)
    inventory.write_text(text, encoding="utf-8")
    return Target(kind, inventory, roots)
