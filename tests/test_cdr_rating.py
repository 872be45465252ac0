"""Rating by hand: the 30/6 cadence at its boundaries, each class, the plan's own cadence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pabx.cdr.rating import Call, billed_seconds, rate
from pabx.model.plan import Billing, Plan

EMPRESARIAL = Plan.model_validate(
    {
        "name": "Empresarial",
        "monthly_fee": "299.90",
        "limits": {"extensions": 20, "queues": 3, "ivrs": 2, "concurrent_calls": 10},
        "allowed_classes": ["local_fixo", "local_movel", "ldn_fixo", "ldn_movel", "0800", "servicos"],
        "tariffs": {
            "local_fixo": "0.08",
            "local_movel": "0.29",
            "ldn_fixo": "0.12",
            "ldn_movel": "0.39",
            "0300": "0.30",
            "0800": "0.0",
            "servicos": "0.0",
            "ldi": "1.50",
        },
    }
)
DAY = dt.date(2026, 3, 2)


@pytest.mark.parametrize(
    ("billsec", "billed"),
    [(0, 0), (2, 0), (3, 30), (30, 30), (31, 36), (36, 36), (37, 42), (61, 66), (125, 126)],
)
def test_30_6_boundaries(billsec: int, billed: int) -> None:
    assert billed_seconds(billsec, Billing()) == billed


def test_60_6_plan_and_no_free_seconds() -> None:
    cadence = Billing(free_under_s=0, minimum_s=60, increment_s=6)
    assert [billed_seconds(s, cadence) for s in (1, 59, 60, 61, 67)] == [60, 60, 60, 66, 72]


@pytest.mark.parametrize(
    ("cls", "billsec", "cost"),
    [
        ("local_fixo", 61, Decimal("0.088")),  # 66 s x 0.08 / 60
        ("local_movel", 30, Decimal("0.145")),  # 30 s x 0.29 / 60
        ("ldn_fixo", 125, Decimal("0.252")),  # 126 s x 0.12 / 60
        ("ldn_movel", 37, Decimal("0.273")),  # 42 s x 0.39 / 60
        ("0300", 31, Decimal("0.18")),  # 36 s x 0.30 / 60
        ("0800", 600, Decimal("0")),
        ("servicos", 120, Decimal("0")),
        ("ldi", 90, Decimal("2.25")),  # 90 s x 1.50 / 60
        ("local_fixo", 2, Decimal("0")),  # under 3 s: free
    ],
)
def test_each_class(cls: str, billsec: int, cost: Decimal) -> None:
    rating = rate(Call("acme", "saida", cls, DAY, billsec, True), EMPRESARIAL)
    assert rating.cost == cost


def test_unanswered_inbound_and_internal_cost_nothing() -> None:
    assert rate(Call("acme", "saida", "ldi", DAY, 0, False), EMPRESARIAL).cost == 0
    inbound = rate(Call("acme", "entrada", "fila", DAY, 61, True), EMPRESARIAL)
    assert (inbound.billed_s, inbound.cost) == (66, 0)
    assert rate(Call("acme", "interna", "ramal", DAY, 61, True), EMPRESARIAL).cost == 0


def test_connection_fee_once_per_billed_priced_call() -> None:
    plan = EMPRESARIAL.model_copy(update={"connection_fee": Decimal("0.10")})
    assert rate(Call("acme", "saida", "local_fixo", DAY, 61, True), plan).cost == Decimal("0.188")
    assert rate(Call("acme", "saida", "local_fixo", DAY, 2, True), plan).cost == 0
    assert rate(Call("acme", "saida", "0800", DAY, 61, True), plan).cost == 0
