"""Edge rules: with a Kamailio edge in the inventory, every server and DID is reachable through it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from pabx.edge.model import edge_hosts, set_id, trunk_endpoint
from pabx.errors import Problem
from pabx.loader.layout import HOSTS_FILE
from pabx.loader.repo import Repository
from pabx.model import Status
from pabx.validate.fleet import _host_loc
from pabx.validate.registry import rule


@rule("edge-address", "an edge host has pabx_edge_address, the address carriers and phones send to")
def edge_address(repo: Repository) -> Iterator[Problem]:
    if HOSTS_FILE not in repo.docs:
        return
    doc = repo.docs[HOSTS_FILE]
    for name, hv in edge_hosts(repo).items():
        if not hv.pabx_edge_address:
            yield doc.problem(
                _host_loc(doc.data, name),
                f"edge {name} has no pabx_edge_address: Kamailio needs the address it listens on",
                "edge-address",
            )
        if name in repo.servers:
            yield doc.problem(
                _host_loc(doc.data, name),
                f"{name} is both an Asterisk server and an edge: an edge host is in the edge group only",
                "edge-address",
            )


@rule("edge-server-reachable", "with an edge, every Asterisk server has its own SIP address and port")
def edge_server_reachable(repo: Repository) -> Iterator[Problem]:
    if HOSTS_FILE not in repo.docs or not edge_hosts(repo):
        return
    doc = repo.docs[HOSTS_FILE]
    seen: dict[str, str] = {}
    for name, hv in repo.servers.items():
        if not hv.pabx_sip_address:
            yield doc.problem(
                _host_loc(doc.data, name),
                f"server {name} has no pabx_sip_address: the edge cannot reach it (set the address "
                "its SIP listens on, and pabx_sip_port when not 5060)",
                "edge-server-reachable",
            )
            continue
        where = f"{hv.pabx_sip_address}:{hv.pabx_sip_port}"
        if where in seen:
            yield doc.problem(
                _host_loc(doc.data, name),
                f"servers {seen[where]} and {name} share the SIP address {where}: the edge could not "
                "tell them apart",
                "edge-server-reachable",
            )
        seen.setdefault(where, name)


@rule("edge-did-server", "with an edge, every owned DID maps to exactly one server behind it")
def edge_did_server(repo: Repository) -> Iterator[Problem]:
    if not edge_hosts(repo):
        return
    servers_of: dict[str, set[str]] = defaultdict(set)
    for site in repo.number_sites:
        owner = repo.tenants.get(site.entry.owner or "")
        if owner is not None and owner.status is not Status.REMOVIDO:
            servers_of[site.entry.number].add(owner.server)
    for site in repo.number_sites:
        servers = servers_of.get(site.entry.number, set())
        if len(servers) > 1:
            yield site.doc.problem(
                [site.index, "number"],
                f"{site.entry.number} would map to {len(servers)} servers at the edge "
                f"({', '.join(sorted(servers))}): a DID has one owner",
                "edge-did-server",
            )
        elif (
            servers
            and (server := next(iter(servers))) in repo.servers
            and not repo.servers[server].pabx_sip_address
        ):
            yield site.doc.problem(
                [site.index, "owner"],
                f"{site.entry.number} maps to {server}, which the edge cannot reach (no pabx_sip_address)",
                "edge-did-server",
            )


@rule("edge-set-id", "dispatcher set ids derived from server and trunk names do not collide")
def edge_set_ids(repo: Repository) -> Iterator[Problem]:
    if HOSTS_FILE not in repo.docs or not edge_hosts(repo):
        return
    names = [*repo.servers, *(trunk_endpoint(t) for t in repo.trunks)]
    taken: dict[int, str] = {}
    doc = repo.docs[HOSTS_FILE]
    for name in names:
        sid = set_id(name)
        if sid in taken:
            yield doc.problem(
                [],
                f"{taken[sid]} and {name} get the same edge dispatcher set ({sid}): rename one",
                "edge-set-id",
            )
        taken.setdefault(sid, name)


@rule("server-edge", "a server's pabx_edge names a host of the edge group")
def server_edge(repo: Repository) -> Iterator[Problem]:
    if HOSTS_FILE not in repo.docs:
        return
    doc = repo.docs[HOSTS_FILE]
    hosts = edge_hosts(repo)
    for name, hv in repo.servers.items():
        if hv.pabx_edge is not None and hv.pabx_edge not in hosts:
            known = f"the edge hosts are {', '.join(sorted(hosts))}" if hosts else "the inventory has no edge"
            yield doc.problem(
                [*_host_loc(doc.data, name), "pabx_edge"],
                f"server {name} names edge {hv.pabx_edge} in pabx_edge: {known}",
                "server-edge",
            )
