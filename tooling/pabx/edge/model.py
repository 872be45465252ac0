"""The edge map: DIDs, tenants and SIP domains to Asterisk servers; carriers by host and address.

Everything in it derives from the repository: a DID goes to its owner's server, a tenant's
phones (user `<tenant>_<ext>` or domain `<tenant>.<platform domain>`) to the tenant's server,
a call from a server to a carrier's host to that carrier's trunk. Dispatcher set ids derive
from the peer's name alone, so adding a server never renumbers the others.
"""

from __future__ import annotations

import ipaddress
import zlib
from dataclasses import dataclass, field

from pabx.loader.repo import Repository
from pabx.model import Status
from pabx.model.inventory import EDGE_GROUP, HostVars

SET_ID_SPACE = 2**30


def trunk_endpoint(trunk: str) -> str:
    """Names on the wire (SPEC 9), as pabx.render.naming has them (not imported: no Jinja here)."""
    return f"trunk_{trunk}"


def is_ip(host: str) -> bool:
    """An IP address (v4, or v6 with or without brackets), not a host name."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def set_id(peer: str) -> int:
    """A dispatcher set id stable for a peer's name (servers by host name, carriers `trunk_<name>`)."""
    return 1 + zlib.crc32(peer.encode("utf-8")) % SET_ID_SPACE


@dataclass(frozen=True)
class Peer:
    """A destination the edge relays to: an Asterisk server or a carrier trunk."""

    name: str  # server name or trunk endpoint name (trunk_<name>)
    uri: str  # sip:host:port[;transport=tcp]
    set_id: int

    @property
    def flags(self) -> int:
        """Dispatcher flags: a host name is resolved when used, not at load (16, no DNS at load)."""
        return 0 if is_ip(self.uri.split(":", 2)[1]) else 16


@dataclass
class EdgeMap:
    servers: dict[str, Peer] = field(default_factory=dict)  # server -> peer (servers with an address)
    carriers: dict[str, Peer] = field(default_factory=dict)  # trunk_<name> -> peer
    carrier_hosts: dict[str, str] = field(default_factory=dict)  # carrier host -> trunk_<name>
    carrier_sources: dict[str, str] = field(default_factory=dict)  # carrier address -> trunk_<name>
    dids: dict[str, str] = field(default_factory=dict)  # DID -> server
    tenants: dict[str, str] = field(default_factory=dict)  # tenant slug -> server
    domains: dict[str, str] = field(default_factory=dict)  # tenant SIP domain -> server

    @property
    def peers(self) -> dict[str, Peer]:
        return {**self.servers, **self.carriers}


def edge_hosts(repo: Repository) -> dict[str, HostVars]:
    """The hosts of the inventory's `edge` group (empty: the fleet has no edge)."""
    return repo.inventory.servers(EDGE_GROUP) if repo.inventory is not None else {}


@dataclass(frozen=True)
class EdgeProxy:
    """The edge an Asterisk server sits behind: where its calls out go, whom it accepts calls from."""

    name: str
    address: str
    port: int

    @property
    def is_ip(self) -> bool:
        return is_ip(self.address)


def server_edge(repo: Repository, server: str) -> EdgeProxy | None:
    """The edge `server` sits behind: its `pabx_edge`, else the first edge host by name; None: no edge."""
    hosts = edge_hosts(repo)
    if not hosts:
        return None
    hv = repo.servers.get(server)
    name = hv.pabx_edge if hv is not None and hv.pabx_edge in hosts else sorted(hosts)[0]
    edge = hosts[name]
    return EdgeProxy(name, edge.pabx_edge_address or "", edge.pabx_edge_port)


def tenant_domain(slug: str, platform_domain: str) -> str:
    return f"{slug}.{platform_domain}"


def edge_map(repo: Repository) -> EdgeMap:
    """The routing map of the repository (every edge host serves the same map)."""
    out = EdgeMap()
    for name, hv in sorted(repo.servers.items()):
        if hv.pabx_sip_address:
            out.servers[name] = Peer(name, f"sip:{hv.pabx_sip_address}:{hv.pabx_sip_port}", set_id(name))
    for name, trunk in sorted(repo.trunks.items()):
        endpoint = trunk_endpoint(name)
        transport = "" if trunk.transport.value == "udp" else f";transport={trunk.transport.value}"
        out.carriers[endpoint] = Peer(endpoint, f"sip:{trunk.host}:{trunk.port}{transport}", set_id(endpoint))
        out.carrier_hosts.setdefault(trunk.host, endpoint)
        for address in trunk.match or [trunk.host]:
            out.carrier_sources.setdefault(address, endpoint)
    domain = repo.platform.domain if repo.platform is not None else ""
    for slug, tenant in sorted(repo.tenants.items()):
        if tenant.status is Status.REMOVIDO:
            continue
        out.tenants[slug] = tenant.server
        if domain:
            out.domains[tenant_domain(slug, domain)] = tenant.server
    for site in repo.number_sites:
        owner = site.entry.owner
        if owner and owner in out.tenants:
            out.dids.setdefault(site.entry.number, out.tenants[owner])
    out.dids = dict(sorted(out.dids.items()))
    return out


@dataclass(frozen=True)
class MapChange:
    """One entry of the edge map that changes: a DID or tenant going to another server."""

    kind: str  # did | tenant | server | carrier
    key: str
    old: str | None  # server (or URI) before; None: new entry
    new: str | None  # after; None: entry removed

    @property
    def action(self) -> str:
        return "create" if self.old is None else "delete" if self.new is None else "update"

    def to_json(self) -> dict[str, str | None]:
        return {"kind": self.kind, "key": self.key, "old": self.old, "new": self.new}

    def describe(self) -> str:
        label = {"did": "Número", "tenant": "Cliente", "server": "Servidor", "carrier": "Operadora"}[
            self.kind
        ]
        if self.old is None:
            return f"{label} {self.key}: → {self.new}"
        if self.new is None:
            return f"{label} {self.key}: {self.old} → (removido do edge)"
        return f"{label} {self.key}: {self.old} → {self.new}"


def map_changes(old: EdgeMap, new: EdgeMap) -> list[MapChange]:
    """Entries of the edge map that differ, tenants first, then DIDs, servers and carriers."""
    out: list[MapChange] = []
    pairs: list[tuple[str, dict[str, str], dict[str, str]]] = [
        ("tenant", old.tenants, new.tenants),
        ("did", old.dids, new.dids),
        ("server", {k: p.uri for k, p in old.servers.items()}, {k: p.uri for k, p in new.servers.items()}),
        ("carrier", {k: p.uri for k, p in old.carriers.items()}, {k: p.uri for k, p in new.carriers.items()}),
    ]
    for kind, before, after in pairs:
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                out.append(MapChange(kind, key, before.get(key), after.get(key)))
    return out


def normalize_did(number: str) -> str:
    """The called number as the edge looks it up (kamailio.cfg route[DID]): DDD + number."""
    did = number.removeprefix("+")
    if len(did) > 11 and did.startswith("55"):
        did = did[2:]
    return did.removeprefix("0")


def edge_hop(repo: Repository, number: str) -> str | None:
    """The edge's step for a call to `number` ("edge edge-01: DID ... → server"); None: no edge."""
    hosts = edge_hosts(repo)
    if not hosts:
        return None
    did = normalize_did(number)
    site = next((s for s in repo.number_sites if s.entry.number == did), None)
    owner = repo.tenants.get(site.entry.owner or "") if site else None
    label = f"edge {', '.join(sorted(hosts))}: DID {did}"
    if owner is None or owner.status is Status.REMOVIDO:
        return f"{label} → 404 Número desconhecido (refused at the edge)"
    server = repo.servers.get(owner.server)
    where = (
        f" (sip:{server.pabx_sip_address}:{server.pabx_sip_port})"
        if server and server.pabx_sip_address
        else ""
    )
    return f"{label} → {owner.server}{where}"
