"""The fleet's fill: per server, tenants, DIDs and the concurrent calls of its tenants' plans."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pabx.edge.model import edge_hosts, edge_map
from pabx.loader.repo import Repository
from pabx.model import Status


@dataclass(frozen=True)
class ServerFill:
    server: str
    address: str  # sip:host:port as the edge reaches it ("" when it cannot)
    tenants: int
    dids: int
    calls: int  # sum of the plans' concurrent_calls of its tenants
    capacity: int | None  # pabx_capacity.concurrent_calls
    tenant_limit: int | None

    @property
    def used_pct(self) -> float | None:
        return None if not self.capacity else 100.0 * self.calls / self.capacity

    def to_json(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "address": self.address,
            "tenants": self.tenants,
            "tenant_limit": self.tenant_limit,
            "dids": self.dids,
            "calls": self.calls,
            "capacity": self.capacity,
            "used_pct": None if self.used_pct is None else round(self.used_pct, 1),
        }


def fleet_fill(repo: Repository) -> tuple[list[str], list[ServerFill]]:
    """(edge hosts, one row per Asterisk server)."""
    emap = edge_map(repo)
    rows = []
    for name, hv in sorted(repo.servers.items()):
        placed = [t for t in repo.tenants.values() if t.status is not Status.REMOVIDO and t.server == name]
        calls = sum(repo.plans[t.plan].limits.concurrent_calls for t in placed if t.plan in repo.plans)
        cap = hv.pabx_capacity
        rows.append(
            ServerFill(
                name,
                emap.servers[name].uri if name in emap.servers else "",
                len(placed),
                sum(1 for server in emap.dids.values() if server == name),
                calls,
                cap.concurrent_calls if cap else None,
                cap.tenants if cap else None,
            )
        )
    return sorted(edge_hosts(repo)), rows
