"""Rules inside one tenant: internal numbers, plan limits, caller IDs, outbound classes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pabx.brazil.numbering import Outcome, classify, short_pattern_matches
from pabx.errors import Problem, Severity
from pabx.loader.layout import Kind
from pabx.loader.repo import Repository
from pabx.model import Status, Tenant
from pabx.model.platform import Dialing
from pabx.validate.registry import rule


def _internal_numbers(tenant: Tenant) -> Iterator[tuple[list[Any], str, str]]:
    for i, ext in enumerate(tenant.extensions):
        yield ["extensions", i, "number"], ext.number, "extension"
    for i, queue in enumerate(tenant.queues):
        yield ["queues", i, "number"], queue.number, "queue"
    for i, ivr in enumerate(tenant.ivrs):
        yield ["ivrs", i, "number"], ivr.number, "IVR"


def _numbers_of(tenant: Tenant) -> list[str]:
    return (
        [ext.number for ext in tenant.extensions]
        + [queue.number for queue in tenant.queues]
        + [ivr.number for ivr in tenant.ivrs]
    )


@rule("internal-number-unique", "extension, queue and IVR numbers are unique inside a tenant")
def internal_number_unique(repo: Repository) -> Iterator[Problem]:
    for slug, tenant in sorted(repo.tenants.items()):
        numbers = _numbers_of(tenant)
        if len(set(numbers)) == len(numbers):  # the usual case, decided without positions
            continue
        doc = repo.doc_of(Kind.TENANT, slug)
        seen: dict[str, str] = {}
        for loc, number, what in _internal_numbers(tenant):
            if number in seen:
                yield doc.problem(
                    loc, f"{number} is already used by {seen[number]} {number}", "internal-number-unique"
                )
            else:
                seen[number] = what


def reserved_reason(number: str, dialing: Dialing) -> str | None:
    """Why an internal number would shadow a service, emergency or outside number."""
    if number in dialing.emergency_numbers:
        return f"{number} is an emergency number"
    for pattern in dialing.service_patterns:
        if short_pattern_matches(pattern, number):
            return f"{number} matches the service pattern {pattern}"
    if number in dialing.feature_codes:
        return f"{number} is a feature code"
    dialed = classify(number, accept_ddd_without_zero=dialing.accept_ddd_without_zero)
    if dialed.outcome is not Outcome.UNKNOWN:
        label = dialed.call_class.value if dialed.call_class else dialed.outcome.value
        return f"{number} would be dialed as an outside number ({label})"
    return None


@rule(
    "internal-number-reserved",
    "internal numbers do not collide with emergency, service, feature or outside numbers",
)
def internal_number_reserved(repo: Repository) -> Iterator[Problem]:
    dialing = repo.platform.dialing if repo.platform else Dialing()
    reasons: dict[str, str | None] = {}  # tenants reuse the same few numbers (2001, 600…)
    reserved: set[str] = set()
    for slug, tenant in sorted(repo.tenants.items()):
        numbers = _numbers_of(tenant)
        for number in numbers:
            if number not in reasons:
                reasons[number] = reserved_reason(number, dialing)
                if reasons[number]:
                    reserved.add(number)
        if reserved.isdisjoint(numbers):
            continue
        doc = repo.doc_of(Kind.TENANT, slug)
        for loc, number, _ in _internal_numbers(tenant):
            why = reasons[number]
            if why:
                yield doc.problem(loc, why, "internal-number-reserved")


@rule("plan-limit", "a tenant stays within its plan's limits (extensions, queues, IVRs)")
def plan_limit(repo: Repository) -> Iterator[Problem]:
    for slug, tenant in sorted(repo.tenants.items()):
        plan = repo.plans.get(tenant.plan)
        if plan is None or tenant.status is Status.REMOVIDO:
            continue
        doc = repo.doc_of(Kind.TENANT, slug)
        for key, used, limit in (
            ("extensions", len(tenant.extensions), plan.limits.extensions),
            ("queues", len(tenant.queues), plan.limits.queues),
            ("ivrs", len(tenant.ivrs), plan.limits.ivrs),
        ):
            if used > limit:
                yield doc.problem(
                    [key], f"{used} {key} exceed plan {tenant.plan}'s limit of {limit}", "plan-limit"
                )


@rule("caller-id-owned", "every caller ID (tenant default, extension) is a number the tenant owns")
def caller_id_owned(repo: Repository) -> Iterator[Problem]:
    owners = {site.entry.number: site.entry.owner for site in repo.number_sites}
    # a numbers/ file that did not load (its errors are reported) may hold the number
    numbers_incomplete = any(path.startswith("numbers/") for path in repo.invalid)
    for slug, tenant in sorted(repo.tenants.items()):
        if (not tenant.caller_id or owners.get(tenant.caller_id, "") == slug) and all(
            owners.get(e.caller_id, "") == slug for e in tenant.extensions if e.caller_id
        ):
            continue  # the usual case: every caller ID is owned
        doc = repo.doc_of(Kind.TENANT, slug)
        candidates: list[tuple[list[Any], str]] = []
        if tenant.caller_id:
            candidates.append((["caller_id"], tenant.caller_id))
        candidates += [
            (["extensions", i, "caller_id"], e.caller_id)
            for i, e in enumerate(tenant.extensions)
            if e.caller_id
        ]
        for loc, number in candidates:
            owner = owners.get(number, "")
            if owner == slug or (number not in owners and numbers_incomplete):
                continue
            why = (
                "is not in numbers/"
                if number not in owners
                else ("is Disponível (no owner)" if owner is None else f"belongs to {owner}")
            )
            yield doc.problem(
                loc, f"{number} {why}: a tenant may only present numbers it owns", "caller-id-owned"
            )


@rule("caller-id-missing", "a tenant that may call out has a caller ID for every extension (warning)")
def caller_id_missing(repo: Repository) -> Iterator[Problem]:
    for slug, tenant in sorted(repo.tenants.items()):
        if tenant.status is Status.REMOVIDO or tenant.caller_id:
            continue
        lacking = [e.number for e in tenant.extensions if not e.caller_id]
        if lacking:
            yield repo.doc_of(Kind.TENANT, slug).problem(
                [],
                f"no default caller_id: outbound calls from {', '.join(lacking[:5])}"
                f"{'…' if len(lacking) > 5 else ''} will be refused",
                "caller-id-missing",
                severity=Severity.WARNING,
            )


@rule("extension-class-outside-plan", "an extension's outbound classes are allowed by the plan too (warning)")
def extension_class_outside_plan(repo: Repository) -> Iterator[Problem]:
    allowed = {slug: set(plan.allowed_classes) for slug, plan in repo.plans.items()}
    for slug, tenant in sorted(repo.tenants.items()):
        plan = repo.plans.get(tenant.plan)
        if plan is None or all(
            cls in allowed[tenant.plan] for ext in tenant.extensions for cls in ext.outbound or ()
        ):
            continue
        doc = repo.doc_of(Kind.TENANT, slug)
        for i, ext in enumerate(tenant.extensions):
            for ci, cls in enumerate(ext.outbound or []):
                if not plan.allows(cls):
                    yield doc.problem(
                        ["extensions", i, "outbound", ci],
                        f"{cls.value} is not allowed by plan {tenant.plan}: calls of this class stay blocked",
                        "extension-class-outside-plan",
                        severity=Severity.WARNING,
                    )
