"""The edge's part of a plan: which DIDs and tenants change server, and the safe apply order.

A tenant moving from server A to server B is applied in three steps: B first (it must know the
tenant before any call reaches it), then the edge map (new calls and registrations go to B;
calls in progress keep following their Record-Route to A), then A's cleanup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pabx.edge.model import MapChange, edge_hosts, edge_map, map_changes
from pabx.loader.repo import Repository

MAX_LISTED = 200  # map changes listed by name in a plan; the counts cover the rest


@dataclass
class EdgePlan:
    hosts: list[str]
    changes: list[MapChange] = field(default_factory=list)
    truncated: int = 0  # changes left out of `changes` (counted, not listed)
    counts: dict[str, int] = field(default_factory=dict)  # kind -> entries changing

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def gaining(self) -> set[str]:
        """Servers that receive DIDs or tenants (applied before the edge)."""
        return {c.new for c in self.changes if c.kind in ("did", "tenant") and c.new}

    def losing(self) -> set[str]:
        """Servers that give DIDs or tenants away (cleaned up after the edge)."""
        return {c.old for c in self.changes if c.kind in ("did", "tenant") and c.old}

    def to_json(self) -> dict[str, Any]:
        return {
            "hosts": list(self.hosts),
            "counts": dict(sorted(self.counts.items())),
            "changes": [c.to_json() for c in self.changes],
            "truncated": self.truncated,
        }


def plan_edge(base: Repository, head: Repository) -> EdgePlan | None:
    """The edge map change from `base` to `head`; None when neither side has an edge."""
    hosts = sorted(set(edge_hosts(base)) | set(edge_hosts(head)))
    if not hosts:
        return None
    changes = map_changes(edge_map(base), edge_map(head))
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    # a moved tenant's DIDs always travel with it; list tenants and servers first, then DIDs
    listed = changes[:MAX_LISTED]
    return EdgePlan(hosts, listed, len(changes) - len(listed), counts)


def apply_phases(
    plan_servers: list[str], edge: EdgePlan | None, edges: list[str] | None = None
) -> list[tuple[str, list[str]]]:
    """The apply order: (phase label, servers or edge hosts) in the order to ship them.

    Without an edge map change every server goes in one phase, as before, then the `edges` to
    ship anyway (an apply keeps the edge's files as rendered even when the map is the same).
    With one: servers that gain tenants or DIDs (and every server not losing any), then the
    edge hosts, then the servers that only give tenants away (their cleanup).
    """
    if edge is None or not edge.changed:
        phases = [("servidores", sorted(plan_servers))]
        return phases + ([("edge", sorted(edges))] if edges else [])
    losing_only = edge.losing() - edge.gaining()
    first = sorted(s for s in plan_servers if s not in losing_only)
    last = sorted(s for s in plan_servers if s in losing_only)
    phases = [
        ("servidores novos", first),
        ("edge", list(edge.hosts)),
        ("limpeza dos servidores antigos", last),
    ]
    return [(label, members) for label, members in phases if members]
