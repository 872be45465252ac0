"""Fleet rules: a tenant's server carries its trunks; tenants fit their server's capacity."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from pabx.errors import Problem, Severity
from pabx.loader.layout import HOSTS_FILE, Kind
from pabx.loader.repo import Repository
from pabx.model import Status
from pabx.validate.registry import rule


@rule("server-trunks", "a tenant's server carries every trunk the routes of its numbers use")
def server_trunks(repo: Repository) -> Iterator[Problem]:
    routes_of: dict[str, set[str]] = defaultdict(set)
    for site in repo.number_sites:
        if site.entry.owner:
            routes_of[site.entry.owner].add(site.entry.route)
    # (route, server) -> trunks of the route the server does not carry: a few hundred pairs
    # answer every tenant (a trunk lists up to hundreds of servers)
    lacking: dict[tuple[str, str], set[str]] = {}

    def lacking_on(route_slug: str, server: str) -> set[str]:
        if (route_slug, server) not in lacking:
            route = repo.routes.get(route_slug)
            names = {t for t in (route.trunks.values() if route else ()) if t}
            lacking[route_slug, server] = {
                name
                for name in names
                if (trunk := repo.trunks.get(name)) is not None and server not in trunk.servers
            }
        return lacking[route_slug, server]

    for slug, tenant in sorted(repo.tenants.items()):
        if tenant.status is Status.REMOVIDO or tenant.server not in repo.servers:
            continue
        missing: set[str] = set()
        for route_slug in routes_of.get(slug, ()):
            missing |= lacking_on(route_slug, tenant.server)
        if missing:
            yield repo.doc_of(Kind.TENANT, slug).problem(
                ["server"],
                f"server {tenant.server} does not carry trunk(s) {', '.join(sorted(missing))} used by the routes "
                "of this tenant's numbers (add the server to the trunk's servers)",
                "server-trunks",
            )


@rule("server-capacity", "the concurrent calls of a server's tenants fit its capacity (warning)")
def server_capacity(repo: Repository) -> Iterator[Problem]:
    if HOSTS_FILE not in repo.docs:
        return
    calls: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for tenant in repo.tenants.values():
        plan = repo.plans.get(tenant.plan)
        if tenant.status is Status.REMOVIDO or plan is None:
            continue
        calls[tenant.server] += plan.limits.concurrent_calls
        count[tenant.server] += 1
    doc = repo.docs[HOSTS_FILE]
    for name, hostvars in repo.servers.items():
        cap = hostvars.pabx_capacity
        if cap is None:
            continue
        loc = _host_loc(doc.data, name)
        if calls[name] > cap.concurrent_calls:
            yield doc.problem(
                loc,
                f"tenants placed on {name} may open {calls[name]} concurrent calls; capacity is "
                f"{cap.concurrent_calls} ({calls[name] * 100 // cap.concurrent_calls}%)",
                "server-capacity",
                severity=Severity.WARNING,
            )
        if cap.tenants is not None and count[name] > cap.tenants:
            yield doc.problem(
                loc,
                f"{count[name]} tenants placed on {name}; capacity is {cap.tenants}",
                "server-capacity",
                severity=Severity.WARNING,
            )


def _host_loc(data: object, host: str) -> list[object]:
    """Path of a host's entry inside the nested inventory groups, for positioning."""

    def walk(node: object, path: list[object]) -> list[object] | None:
        if not isinstance(node, dict):
            return None
        hosts = node.get("hosts")
        if isinstance(hosts, dict) and host in hosts:
            return [*path, "hosts", host]
        for key in ("children",):
            children = node.get(key)
            if isinstance(children, dict):
                for name, sub in children.items():
                    found = walk(sub, [*path, key, name])
                    if found:
                        return found
        return None

    if isinstance(data, dict):
        for name, group in data.items():
            found = walk(group, [name])
            if found:
                return found
    return []


@rule("group-vars-pabx", "pabx_* variables live in inventory/hosts.yml, where pabx reads them (warning)")
def group_vars_pabx(repo: Repository) -> Iterator[Problem]:
    for doc in repo.other_docs:
        if not doc.path.startswith(("inventory/group_vars/", "inventory/host_vars/")):
            continue
        if isinstance(doc.data, dict):
            for key in doc.data:
                if isinstance(key, str) and key.startswith("pabx_"):
                    yield doc.problem(
                        [key],
                        "pabx does not read pabx_* variables here: set them in inventory/hosts.yml",
                        "group-vars-pabx",
                        key=True,
                        severity=Severity.WARNING,
                    )
