"""Servers (`inventory/hosts.yml`): a standard Ansible YAML inventory with pabx host vars.

Asterisk servers are the hosts of the `asterisk` group (and its child groups); pabx reads only
its own `pabx_*` variables and leaves every `ansible_*` variable to Ansible. Group vars of the
groups above a host apply to it, as Ansible would apply them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, RootModel, model_validator

from pabx.model.common import Strict, Text
from pabx.model.trunk import Host

SERVER_GROUP = "asterisk"
EDGE_GROUP = "edge"  # Kamailio SIP edge hosts in front of the Asterisk servers (pabx.edge)


class Capacity(Strict):
    model_config = Strict.model_config | {"title": "Capacidade"}

    concurrent_calls: int = Field(
        ge=1, title="Chamadas simultâneas", description="Calls this server can carry at once"
    )
    tenants: int | None = Field(
        None, ge=1, title="Clientes", description="Maximum tenants placed on this server"
    )


class HostVars(Strict):
    """Variables of one host. `ansible_*` pass through untouched; `pabx_*` are checked here."""

    model_config = Strict.model_config | {"extra": "allow", "title": "Variáveis do host"}

    pabx_capacity: Capacity | None = Field(None, title="Capacidade")
    pabx_sip_address: Host | None = Field(
        None, title="Endereço SIP", description="Address Asterisk binds SIP to (default: all addresses)"
    )
    pabx_sip_port: int = Field(5060, ge=1, le=65535, title="Porta SIP")
    pabx_site: Text | None = Field(None, title="Local")
    pabx_asterisk_etc: str = Field(
        "/etc/asterisk",
        pattern=r"^/",
        title="Diretório de configuração do Asterisk",
        description="Asterisk's config directory on this host (pabx apply writes its releases here)",
    )
    pabx_asterisk_cli: str = Field(
        "asterisk",
        title="CLI do Asterisk",
        description="The Asterisk binary pabx runs as `<cli> -rx '<command>'`; empty: no Asterisk (reloads skipped)",
    )

    pabx_edge: str | None = Field(
        None,
        title="Edge do servidor",
        description=(
            "Asterisk servers behind an edge only: the edge host their calls to the carriers go "
            "out through (default: the first edge host by name)"
        ),
    )
    pabx_edge_address: Host | None = Field(
        None,
        title="Endereço SIP do edge",
        description="Edge hosts only: address Kamailio listens on (carriers and phones send here)",
    )
    pabx_edge_port: int = Field(5060, ge=1, le=65535, title="Porta SIP do edge")
    pabx_kamailio_etc: str = Field(
        "/etc/kamailio/pabx",
        pattern=r"^/",
        title="Diretório de configuração do Kamailio",
        description="Edge hosts only: where the edge map (kamailio.cfg, db_text tables, dispatcher.list) lives",
    )
    pabx_kamailio_ctl: str = Field(
        "unix:/run/kamailio/pabx_ctl",
        title="Socket de controle do Kamailio",
        description="Edge hosts only: the ctl module's socket (kamcmd -s ... htable.reload)",
    )

    @model_validator(mode="after")
    def _only_ansible_extras(self) -> HostVars:
        for key in self.model_extra or {}:
            if not key.startswith("ansible_"):
                raise ValueError(
                    f"unknown host variable {key!r}: pabx knows pabx_capacity, pabx_sip_address, "
                    "pabx_sip_port, pabx_site, pabx_asterisk_etc, pabx_asterisk_cli, pabx_edge, pabx_edge_address, "
                    "pabx_edge_port, pabx_kamailio_etc, pabx_kamailio_ctl; "
                    "Ansible's own variables start with ansible_"
                )
        return self


class Group(Strict):
    model_config = Strict.model_config | {"title": "Grupo do inventário"}

    hosts: dict[str, HostVars | None] | None = Field(None, title="Hosts")
    vars: HostVars | None = Field(None, title="Variáveis")
    children: dict[str, Group | None] | None = Field(None, title="Grupos filhos")


class Inventory(RootModel[dict[str, Group | None]]):
    """The whole inventory file: top-level groups (usually just `all`)."""

    model_config = {"title": "Inventário"}

    def servers(self, group: str = SERVER_GROUP) -> dict[str, HostVars]:
        """Hosts of `group` and its descendants, with ancestors' vars merged under host vars."""
        found: dict[str, dict[str, Any]] = {}

        def walk(name: str, node: Group | None, inherited: dict[str, Any], inside: bool) -> None:
            if node is None:
                return
            here = {**inherited, **(node.vars.model_dump(exclude_unset=True) if node.vars else {})}
            inside = inside or name == group
            for host, hv in (node.hosts or {}).items():
                if inside:
                    merged = {**here, **(hv.model_dump(exclude_unset=True) if hv else {})}
                    found.setdefault(host, {}).update(merged)
            for child, sub in (node.children or {}).items():
                walk(child, sub, here, inside)

        for name, node in self.root.items():
            walk(name, node, {}, False)
        return {host: HostVars.model_validate(values) for host, values in sorted(found.items())}
