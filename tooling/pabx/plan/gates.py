"""Safety gates: the destructive or risky parts of a plan, which block apply unless allowed.

- tenant-removed: a tenant's status becomes removido (or its file goes away);
- number-removed: a number is deleted from numbers/;
- number-moved: a number passes from one tenant to another;
- class-opened: an existing tenant becomes able to call LDI or 0300 (its plan changed, or its
  plan's allowed_classes did);
- mass-change: more than `threshold` of the tenants a server served are touched (and more than one).
"""

from __future__ import annotations

from collections import defaultdict

from pabx.loader.repo import Repository
from pabx.model import CallClass, Status
from pabx.plan.model import Action, Change, Gate
from pabx.plan.semantic import placed

RISKY_CLASSES: tuple[CallClass, ...] = (CallClass.LDI, CallClass.C0300)


def compute_gates(base: Repository, head: Repository, changes: list[Change]) -> list[Gate]:
    """The gates a list of semantic changes raises (mass-change is `mass_change_gates`)."""
    gates: list[Gate] = []
    for change in changes:
        if change.kind == "tenant" and change.action is Action.DELETE:
            gates.append(
                Gate(
                    "tenant-removed",
                    change.id,
                    f"remoção de cliente: {change.summary}",
                    change.file,
                    change.servers,
                )
            )
        elif change.kind == "number" and change.action is Action.DELETE:
            gates.append(
                Gate(
                    "number-removed",
                    change.id,
                    f"número apagado: {change.summary}",
                    change.file,
                    change.servers,
                )
            )
        elif change.kind == "number" and change.event == "moved":
            gates.append(
                Gate(
                    "number-moved",
                    change.id,
                    f"número trocando de cliente: {change.summary}",
                    change.file,
                    change.servers,
                )
            )
    gates += _classes_opened(base, head, changes)
    return gates


def _classes_opened(base: Repository, head: Repository, changes: list[Change]) -> list[Gate]:
    tenants: set[str] = set()
    for change in changes:
        if change.kind == "tenant" and change.action is not Action.CREATE and change.event != "created":
            tenants.add(change.id.split(":", 1)[1])
        elif change.kind == "plan" and change.action is Action.UPDATE:
            slug = change.id.split(":", 1)[1]
            tenants |= {s for s, t in head.tenants.items() if t.plan == slug}
    gates = []
    for slug in sorted(tenants):
        old, new = base.tenants.get(slug), head.tenants.get(slug)
        if old is None or new is None or new.status is Status.REMOVIDO:
            continue
        old_plan, new_plan = base.plans.get(old.plan), head.plans.get(new.plan)
        if new_plan is None:
            continue
        opened = [
            c.value
            for c in RISKY_CLASSES
            if new_plan.allows(c) and not (old_plan is not None and old_plan.allows(c))
        ]
        if opened:
            why = (
                f"plano {old.plan} → {new.plan}"
                if old.plan != new.plan
                else f"o plano {new.plan} passa a permitir"
            )
            gates.append(
                Gate(
                    "class-opened",
                    f"tenant:{slug}",
                    f"Cliente {slug} passa a poder ligar para {', '.join(opened)} ({why})",
                    f"tenants/{slug}.yaml" if old.plan != new.plan else f"plans/{new.plan}.yaml",
                    tuple(s for s in (placed(new),) if s),
                )
            )
    return gates


def mass_change_gates(
    base: Repository,
    changes: list[Change],
    files: dict[str, list[str]],
    threshold: float,
    servers: set[str] | None = None,
) -> list[Gate]:
    """Servers where more than `threshold` of the tenants they served (and more than one) change.

    A tenant changes when a change concerns it (its file, its extensions, queues, IVRs, numbers)
    or when its own rendered files on that server change (a plan's limits, say). `files` is the
    changed rendered paths per server.
    """
    touched: dict[str, set[str]] = defaultdict(set)
    for change in changes:
        for slug in change.tenants:
            server = placed(base.tenants.get(slug))
            if server:
                touched[server].add(slug)
    for server, paths in files.items():
        for path in paths:
            parts = path.split("/")
            if len(parts) == 3 and parts[0] == "tenants" and placed(base.tenants.get(parts[1])) == server:
                touched[server].add(parts[1])
    totals: dict[str, int] = defaultdict(int)
    for tenant in base.tenants.values():
        server = placed(tenant)
        if server in touched:
            totals[server] += 1
    gates = []
    for server in sorted(touched):
        if servers is not None and server not in servers:
            continue
        total, count = totals[server], len(touched[server])
        if count > 1 and total and count > threshold * total:
            gates.append(
                Gate(
                    "mass-change",
                    f"server:{server}",
                    f"{count} dos {total} clientes do servidor {server} mudam "
                    f"({count / total:.0%}, acima do limite de {threshold:.0%})",
                    "",
                    (server,),
                )
            )
    return gates
