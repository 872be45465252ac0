"""Where an apply goes: the servers of inventory/hosts.yml over SSH, or the local target (each
server, and each edge host, a folder on this machine, reached through Ansible's local connection)
for `make demo`."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import yaml

from pabx.edge.model import edge_hosts
from pabx.loader.layout import HOSTS_FILE, state_dir
from pabx.loader.repo import Repository
from pabx.model.inventory import EDGE_GROUP, SERVER_GROUP


class TargetKind(StrEnum):
    SSH = "ssh"
    LOCAL = "local"


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    inventory: Path  # the inventory file passed to Ansible
    roots: dict[str, Path]  # local target only: server -> its config directory
    edge_roots: dict[str, Path] = field(default_factory=dict)  # local target only: edge -> its folder

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
    edge_roots = {edge: base / edge / "etc" / "kamailio" / "pabx" for edge in sorted(edge_hosts(repo))}
    edges = {
        edge: {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "pabx_kamailio_etc": str(root),
            "pabx_kamcmd": "",  # no Kamailio here: the table reloads are SKIPPED
        }
        for edge, root in edge_roots.items()
    }
    for root in [*roots.values(), *edge_roots.values()]:
        root.mkdir(parents=True, exist_ok=True)
    inventory = base / "hosts.yml"
    text = "# Written by pabx apply --target local: each server (and edge) is a folder on this machine.\n"
    groups = {SERVER_GROUP: {"hosts": hosts}, **({EDGE_GROUP: {"hosts": edges}} if edges else {})}
    text += yaml.safe_dump({"all": {"children": groups}}, sort_keys=True)
    inventory.write_text(text, encoding="utf-8")
    return Target(kind, inventory, roots, edge_roots)
