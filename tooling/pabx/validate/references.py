"""Reference rules: every plan, server, route, trunk, owner and destination named exists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pabx.errors import Problem
from pabx.loader.layout import HOSTS_FILE, Kind
from pabx.loader.repo import Repository
from pabx.model import DestinationKind, Extension, Status, Tenant, split_destination
from pabx.validate.registry import rule


class _Targets:
    """A tenant's extensions, queues and IVRs by number: lookups instead of list scans."""

    __slots__ = ("extensions", "ivrs", "queues")

    def __init__(self, tenant: Tenant) -> None:
        self.extensions: dict[str, Extension] = {}
        for ext in tenant.extensions:
            self.extensions.setdefault(ext.number, ext)  # the first wins, as Tenant.extension()
        self.queues = {queue.number for queue in tenant.queues}
        self.ivrs = {ivr.number for ivr in tenant.ivrs}


def destination_error(
    tenant: Tenant | _Targets, destination: str, split: tuple[DestinationKind, str] | None = None
) -> str | None:
    """Why `destination` does not resolve inside `tenant`, or None when it does."""
    targets = tenant if isinstance(tenant, _Targets) else _Targets(tenant)
    kind, target = split or split_destination(destination)
    if kind is DestinationKind.HANGUP:
        return None
    if kind is DestinationKind.EXTENSION and target not in targets.extensions:
        return f"extension {target} does not exist in this tenant"
    if kind is DestinationKind.QUEUE and target not in targets.queues:
        return f"queue {target} does not exist in this tenant"
    if kind is DestinationKind.IVR and target not in targets.ivrs:
        return f"IVR {target} does not exist in this tenant"
    if kind is DestinationKind.VOICEMAIL:
        ext = targets.extensions.get(target)
        if ext is None:
            return f"extension {target} (voicemail box) does not exist in this tenant"
        if not ext.voicemail:
            return f"extension {target} has no voicemail (set voicemail: true on it)"
    return None


def _tenant_destinations(tenant: Tenant) -> Iterator[tuple[list[Any], str]]:
    for qi, queue in enumerate(tenant.queues):
        if queue.overflow:
            yield ["queues", qi, "overflow"], queue.overflow
    for ii, ivr in enumerate(tenant.ivrs):
        for digit, dest in ivr.options.items():
            yield ["ivrs", ii, "options", digit], dest
        if ivr.timeout:
            yield ["ivrs", ii, "timeout"], ivr.timeout
        if ivr.invalid:
            yield ["ivrs", ii, "invalid"], ivr.invalid


@rule("ref-destination", "queue overflows, IVR options and DID destinations resolve inside their tenant")
def ref_destination(repo: Repository) -> Iterator[Problem]:
    targets: dict[str, _Targets] = {}
    splits: dict[str, tuple[DestinationKind, str]] = {}  # "extension:2001" recurs in every tenant

    def split(dest: str) -> tuple[DestinationKind, str]:
        if dest not in splits:
            splits[dest] = split_destination(dest)
        return splits[dest]

    for slug, tenant in sorted(repo.tenants.items()):
        targets[slug] = _Targets(tenant)
        for loc, dest in _tenant_destinations(tenant):
            why = destination_error(targets[slug], dest, split(dest))
            if why:
                yield repo.doc_of(Kind.TENANT, slug).problem(loc, f"{dest}: {why}", "ref-destination")
    for site in repo.number_sites:
        entry = site.entry
        owner = targets.get(entry.owner) if entry.owner else None
        if entry.destination and owner is not None:
            why = destination_error(owner, entry.destination, split(entry.destination))
            if why:
                yield site.doc.problem(
                    [site.index, "destination"],
                    f"{entry.destination}: {why} ({entry.owner})",
                    "ref-destination",
                )


@rule("ref-queue-member", "queue members are extensions of the same tenant")
def ref_queue_member(repo: Repository) -> Iterator[Problem]:
    for slug, tenant in sorted(repo.tenants.items()):
        doc = repo.doc_of(Kind.TENANT, slug)
        extensions = {ext.number for ext in tenant.extensions} if tenant.queues else set()
        for qi, queue in enumerate(tenant.queues):
            seen: set[str] = set()
            for mi, member in enumerate(queue.members):
                if member not in extensions:
                    yield doc.problem(
                        ["queues", qi, "members", mi],
                        f"extension {member} does not exist in this tenant",
                        "ref-queue-member",
                    )
                if member in seen:
                    yield doc.problem(
                        ["queues", qi, "members", mi],
                        f"extension {member} is listed twice",
                        "ref-queue-member",
                    )
                seen.add(member)


@rule("ref-plan", "every tenant's plan exists in plans/")
def ref_plan(repo: Repository) -> Iterator[Problem]:
    for slug, tenant in sorted(repo.tenants.items()):
        if tenant.plan in repo.plans or repo.is_invalid(Kind.PLAN, tenant.plan):
            continue
        if tenant.status is not Status.REMOVIDO:
            yield repo.doc_of(Kind.TENANT, slug).problem(
                ["plan"], f"plan {tenant.plan!r} does not exist{_known(repo.plans)}", "ref-plan"
            )


@rule(
    "ref-server", "every tenant's server and every trunk's servers are Asterisk hosts of inventory/hosts.yml"
)
def ref_server(repo: Repository) -> Iterator[Problem]:
    if repo.inventory is None:
        if HOSTS_FILE not in repo.docs and HOSTS_FILE not in repo.invalid:
            yield Problem(HOSTS_FILE, 1, 1, "", "the inventory file is missing", "ref-server")
        return
    for slug, tenant in sorted(repo.tenants.items()):
        if tenant.server not in repo.servers and tenant.status is not Status.REMOVIDO:
            yield repo.doc_of(Kind.TENANT, slug).problem(
                ["server"],
                f"server {tenant.server!r} is not in the asterisk group of {HOSTS_FILE}"
                f"{_known(repo.servers)}",
                "ref-server",
            )
    for name, trunk in sorted(repo.trunks.items()):
        for si, server in enumerate(trunk.servers):
            if server not in repo.servers:
                yield repo.doc_of(Kind.TRUNK, name).problem(
                    ["servers", si],
                    f"server {server!r} is not in the asterisk group of {HOSTS_FILE}",
                    "ref-server",
                )


@rule("ref-route", "every number's route exists in routes/")
def ref_route(repo: Repository) -> Iterator[Problem]:
    for site in repo.number_sites:
        if site.entry.route not in repo.routes and not repo.is_invalid(Kind.ROUTE, site.entry.route):
            yield site.doc.problem(
                [site.index, "route"],
                f"route {site.entry.route!r} does not exist{_known(repo.routes)}",
                "ref-route",
            )


@rule("ref-trunk", "every trunk a route names exists in inventory/trunks/")
def ref_trunk(repo: Repository) -> Iterator[Problem]:
    for slug, route in sorted(repo.routes.items()):
        for call_class, trunk in route.trunks.items():
            if trunk is not None and trunk not in repo.trunks and not repo.is_invalid(Kind.TRUNK, trunk):
                yield repo.doc_of(Kind.ROUTE, slug).problem(
                    ["trunks", call_class.value],
                    f"trunk {trunk!r} does not exist{_known(repo.trunks)}",
                    "ref-trunk",
                )


@rule("ref-owner", "a number's owner exists and is not removido")
def ref_owner(repo: Repository) -> Iterator[Problem]:
    for site in repo.number_sites:
        owner = site.entry.owner
        if owner is None:
            continue
        tenant = repo.tenants.get(owner)
        if tenant is None and repo.is_invalid(Kind.TENANT, owner):
            continue
        if tenant is None:
            yield site.doc.problem([site.index, "owner"], f"tenant {owner!r} does not exist", "ref-owner")
        elif tenant.status is Status.REMOVIDO:
            yield site.doc.problem(
                [site.index, "owner"],
                f"tenant {owner!r} is removido: release the number (owner: null) first",
                "number-owner-removed",
            )


def _known(names: dict[str, Any]) -> str:
    if not names:
        return ""
    listed = sorted(names)
    more = f", … ({len(listed)} in all)" if len(listed) > 8 else ""
    return f" (known: {', '.join(listed[:8])}{more})"
