"""Rating: what one call costs under a plan (domain/brazil.md, "Billing cadence").

`rate(call, plan)` is the default rater; anything with the same signature can replace it
(`Rater`), and `PlanFor` chooses the plan of a call — today the tenant's current plan, later the
plan in force on the call's date (the audit issue). The dataset calls the rater once per
distinct `Call` (calls that cannot differ in price are counted together), so a rater must
depend only on the fields of `Call`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pabx.model.common import CallClass
from pabx.model.plan import Billing, Plan

RATED_CLASSES = frozenset(c.value for c in CallClass)


@dataclass(frozen=True)
class Call:
    """What a rater sees of one call (one linkedid)."""

    tenant: str
    direction: str  # entrada | saida | interna
    call_class: str  # local_fixo ... ldi, ramal, fila, ura, correio
    day: dt.date  # local date of the call's start, in the platform time zone
    billsec: int  # billsec of the answered leg (never duration); 0 when nobody answered
    answered: bool


@dataclass(frozen=True)
class Rating:
    billed_s: int
    cost: Decimal


Rater = Callable[[Call, Plan], Rating]
PlanFor = Callable[[str, dt.date], Plan | None]

FREE = Rating(0, Decimal("0"))


def billed_seconds(billsec: int, billing: Billing) -> int:
    """The cadence: free under `free_under_s`, then at least `minimum_s`, then `increment_s` steps.

    30/6 with 3 s free: 2 -> 0, 3 -> 30, 30 -> 30, 31 -> 36, 36 -> 36, 37 -> 42, 61 -> 66, 125 -> 126.
    """
    if billsec <= 0 or billsec < billing.free_under_s:
        return 0
    if billsec <= billing.minimum_s:
        return billing.minimum_s
    extra = billsec - billing.minimum_s
    steps = -(-extra // billing.increment_s)
    return billing.minimum_s + steps * billing.increment_s


def rate(call: Call, plan: Plan) -> Rating:
    """Outbound calls of a priced class: billed seconds / 60 x tariff, plus the connection fee
    (once per billed call of a class whose tariff is not zero).

    Answered calls of every other kind (entrada, interna; ramal, fila...) get billed minutes by
    the same cadence and cost nothing. Unanswered calls are free.
    """
    if not call.answered or call.billsec <= 0:
        return FREE
    billed = billed_seconds(call.billsec, plan.billing)
    if call.direction != "saida" or call.call_class not in RATED_CLASSES or billed == 0:
        return Rating(billed, Decimal("0"))
    tariff = plan.tariffs.get(CallClass(call.call_class), Decimal("0"))
    if tariff == 0:
        return Rating(billed, Decimal("0"))  # 0800, emergency: free, no connection fee either
    cost = Decimal(billed) / Decimal(60) * tariff + plan.connection_fee
    return Rating(billed, cost.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))


def current_plan(plans: dict[str, Plan], plan_of_tenant: dict[str, str]) -> PlanFor:
    """The default `PlanFor`: each tenant's plan as the repository says today, whatever the date."""

    def plan_for(tenant: str, day: dt.date) -> Plan | None:
        slug = plan_of_tenant.get(tenant)
        return plans.get(slug) if slug else None

    return plan_for
