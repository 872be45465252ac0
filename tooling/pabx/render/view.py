"""What one server serves, computed once from the validated repository for every generator."""

from __future__ import annotations

from dataclasses import dataclass, field

from pabx.edge.model import EdgeProxy, server_edge
from pabx.loader.repo import Repository
from pabx.model import CALL_CLASSES, CallClass, Extension, NumberEntry, Plan, Route, Status, Tenant, Trunk
from pabx.model.inventory import HostVars
from pabx.model.platform import Platform


@dataclass(frozen=True)
class ExtensionView:
    tenant: str
    ext: Extension
    caller_id: str  # "" when the tenant owns no number to present
    route: str  # route of the caller ID number ("" when none)
    ddd: str  # the caller's own DDD, for local calls ("" when unknown)
    classes: tuple[CallClass, ...]  # what the extension itself allows (the plan is checked apart)

    @property
    def endpoint(self) -> str:
        return f"{self.tenant}_{self.ext.number}"


@dataclass
class TenantView:
    slug: str
    tenant: Tenant
    plan: Plan
    numbers: list[NumberEntry]
    extensions: list[ExtensionView]

    @property
    def prefix(self) -> str:
        """Every context of this tenant starts with it (SPEC 9: names on the wire)."""
        return f"t_{self.slug}_"

    platform_ring_s: int = 30

    @property
    def uses_voicemail(self) -> bool:
        return any(e.voicemail for e in self.tenant.extensions)


@dataclass
class ServerView:
    name: str
    hostvars: HostVars
    platform: Platform
    tenants: list[TenantView]
    trunks: dict[str, Trunk]
    routes: dict[str, Route]
    all_trunks: dict[str, Trunk] = field(default_factory=dict)
    edge: EdgeProxy | None = None  # the Kamailio edge in front of this server (pabx.edge)

    @property
    def uses_voicemail(self) -> bool:
        return any(t.uses_voicemail for t in self.tenants)


def server_views(repo: Repository) -> dict[str, ServerView]:
    """One view per Asterisk server of the inventory (a server with no tenant still gets one)."""
    if repo.platform is None:
        raise ValueError("a valid repository has inventory/platform.yaml")
    platform = repo.platform
    numbers = repo.numbers
    owned: dict[str, list[NumberEntry]] = {}
    for entry in sorted(numbers.values(), key=lambda n: n.number):
        if entry.owner:
            owned.setdefault(entry.owner, []).append(entry)
    placed: dict[str, list[tuple[str, Tenant]]] = {}
    for slug, tenant in sorted(repo.tenants.items()):
        if tenant.status is not Status.REMOVIDO:
            placed.setdefault(tenant.server, []).append((slug, tenant))
    views: dict[str, ServerView] = {}
    all_trunks = dict(sorted(repo.trunks.items()))
    for server, hostvars in sorted(repo.servers.items()):
        tenants: list[TenantView] = []
        for slug, tenant in placed.get(server, []):
            mine = owned.get(slug, [])
            exts = [_extension_view(slug, tenant, e, numbers, mine, platform) for e in tenant.extensions]
            tenants.append(
                TenantView(slug, tenant, repo.plans[tenant.plan], mine, exts, platform.dialing.ring_timeout_s)
            )
        used_routes = {e.route for t in tenants for e in t.extensions if e.route}
        used_routes |= {n.route for t in tenants for n in t.numbers}
        views[server] = ServerView(
            name=server,
            hostvars=hostvars,
            platform=platform,
            tenants=tenants,
            trunks={n: t for n, t in all_trunks.items() if server in t.servers},
            routes={r: repo.routes[r] for r in sorted(used_routes) if r in repo.routes},
            all_trunks=all_trunks,
            edge=server_edge(repo, server),
        )
    return views


def _extension_view(
    slug: str,
    tenant: Tenant,
    ext: Extension,
    numbers: dict[str, NumberEntry],
    owned: list[NumberEntry],
    platform: Platform,
) -> ExtensionView:
    caller_id = ext.caller_id or tenant.caller_id or ""
    entry = numbers.get(caller_id) if caller_id else None
    route = entry.route if entry else (platform.dialing.emergency_route or "")
    ddd = caller_id[:2] if caller_id else (owned[0].number[:2] if owned else "")
    classes = tuple(ext.outbound) if ext.outbound is not None else CALL_CLASSES
    return ExtensionView(slug, ext, caller_id, route, ddd, classes)
