"""Plans in force for billing: each call rated at the plan its tenant had on main on the call's
date; a tenant that changed plan mid-month is billed at each plan for its days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from pabx.audit.billing import PlanHistory, plan_for_history, plans_in_force, shared_history
from pabx.cdr.dataset import build_dataset
from pabx.cdr.ingest import ingest
from pabx.cdr.rating import Call, current_plan, rate
from pabx.loader import load_valid_repository
from pabx.model import Plan
from tests.audit_support import ANA, JOAO, MARIA, Timeline, build_scenario

D = dt.date


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return build_scenario(tmp_path_factory.mktemp("audit-billing") / "repo")


def test_plan_change_mid_month(scenario: dict[str, str]) -> None:
    # the pull request moving acme to corporativo was merged on 2026-02-15 at 12:00 (-03)
    days = [D(2026, 2, 1), D(2026, 2, 14), D(2026, 2, 15), D(2026, 2, 28)]
    found = plans_in_force(Path(scenario["path"]), days)
    assert [found[day]["acme"].name for day in days] == [
        "Empresarial",
        "Empresarial",
        "Corporativo",
        "Corporativo",
    ]
    assert found[D(2026, 2, 14)]["acme"].tariffs["ldn_fixo"] == Decimal("0.12")  # type: ignore[index]
    assert found[D(2026, 2, 15)]["acme"].tariffs["ldn_fixo"] == Decimal("0.09")  # type: ignore[index]
    assert found[D(2026, 2, 1)]["conecta-telecom"].name == "Corporativo"


def test_tariffs_as_they_were_and_renamed_tenants(scenario: dict[str, str]) -> None:
    with PlanHistory(Path(scenario["path"])) as plans:
        assert plans.plan_for("acme", D(2026, 5, 3)) is not None
        assert plans.plan_for("acme-comercio", D(2026, 5, 3)) is None  # the CDRs of that day say acme
        assert plans.plan_for("acme", D(2026, 5, 5)) is None
        renamed = plans.plan_for("acme-comercio", D(2026, 5, 5))
        assert renamed is not None and renamed.name == "Corporativo"
        july = plans.plan_for("acme-comercio", D(2026, 7, 31))
        august = plans.plan_for("acme-comercio", D(2026, 8, 1))
        assert july is not None and august is not None
        assert (july.tariffs["ldi"], august.tariffs["ldi"]) == (Decimal("0.90"), Decimal("0.75"))  # type: ignore[index]
        assert plans.plans_on(D(2025, 12, 31)) == {}
        assert plans.missing_days == {D(2025, 12, 31)}


def test_falls_back_to_the_work_tree(scenario: dict[str, str], tmp_path: Path) -> None:
    current_plans = {"x": Plan.model_validate(_plan("Atual"))}

    def current(tenant: str, day: dt.date) -> Plan | None:
        return current_plans["x"] if tenant == "nova" else None

    plan_for = plan_for_history(Path(scenario["path"]), current)
    assert plan_for("nova", D(2026, 3, 1)) is current_plans["x"]  # not on main yet
    found = plan_for("acme", D(2026, 3, 1))
    assert found is not None and found.name == "Corporativo"
    outside = tmp_path / "not-git"
    outside.mkdir()
    assert plan_for_history(outside, current) is current


def _plan(name: str) -> dict[str, object]:
    classes = ["local_fixo", "local_movel", "ldn_fixo", "ldn_movel", "0300", "0800", "servicos", "ldi"]
    return {
        "name": name,
        "monthly_fee": "1.00",
        "limits": {"extensions": 1, "queues": 1, "ivrs": 1, "concurrent_calls": 1},
        "allowed_classes": classes,
        "tariffs": dict.fromkeys(classes, "1.00"),
    }


# --- the CDR reports rate each call at the plan in force on its date --------------------------


def _leg(linkedid: str, start: str, billsec: int) -> str:
    """One answered outbound LDN call of acme, as cdr_csv writes it (21 columns, UTC)."""
    begin = dt.datetime.fromisoformat(start)
    answer = begin + dt.timedelta(seconds=5)
    end = answer + dt.timedelta(seconds=billsec)
    fmt = "%Y-%m-%d %H:%M:%S"
    fields = [
        '"acme"',
        '"1130010000"',
        '"02133334444"',
        '"pabx-route-sp-principal"',
        '"""1130010000"" <1130010000>"',
        '"PJSIP/acme_2001-00000001"',
        '"PJSIP/trunk_embratel-00000002"',
        '"Dial"',
        '"PJSIP/0212133334444@trunk_embratel,120"',
        f'"{begin.strftime(fmt)}"',
        f'"{answer.strftime(fmt)}"',
        f'"{end.strftime(fmt)}"',
        str(billsec + 5),
        str(billsec),
        '"ANSWERED"',
        '"DOCUMENTATION"',
        f'"{linkedid}"',
        '"saida:ldn_fixo"',
        '"acme"',
        f'"{linkedid}"',
        "1",
    ]
    return ",".join(fields) + "\n"


def test_cdr_dataset_rates_each_call_at_the_plan_in_force(tmp_path: Path) -> None:
    t = Timeline(tmp_path / "repo")
    t.commit("Dados iniciais", MARIA, "2026-01-05T10:00:00-03:00")
    t.edit("tenants/acme.yaml", "plan: empresarial", "plan: corporativo")
    t.commit("acme: plano corporativo", ANA, "2026-02-15T12:00:00-03:00")
    t.edit("tenants/conecta-telecom.yaml", "status: ativo", "status: inativo")
    t.commit("conecta-telecom suspensa", JOAO, "2026-02-20T12:00:00-03:00")
    master = tmp_path / "Master.csv"
    master.write_text(
        _leg("1.1", "2026-02-10 15:00:00", 120)  # 12:00 local: empresarial
        + _leg("2.1", "2026-02-15 13:00:00", 61)  # the day of the change: corporativo
        + _leg("3.1", "2026-02-20 15:00:00", 125),  # corporativo
        encoding="utf-8",
    )
    result = ingest([master], tmp_path / "store")
    assert result.malformed == 0
    repo, _ = load_valid_repository(t.root)
    data = build_dataset(
        repo,
        tmp_path / "store",
        tenant=None,
        date_from=D(2026, 2, 1),
        date_to=D(2026, 2, 28),
        today=D(2026, 2, 28),
    )
    (row,) = [r for r in data["extrato"] if r["tenant"] == "acme" and r["class"] == "ldn_fixo"]
    empresarial, corporativo = repo.plans["empresarial"], repo.plans["corporativo"]

    def cost(day: dt.date, billsec: int, plan: Plan) -> Decimal:
        return rate(Call("acme", "saida", "ldn_fixo", day, billsec, True), plan).cost

    expected = (
        cost(D(2026, 2, 10), 120, empresarial)
        + cost(D(2026, 2, 15), 61, corporativo)
        + cost(D(2026, 2, 20), 125, corporativo)
    )
    assert row["cost"] == float(round(expected, 2))
    today_plan = current_plan(repo.plans, {slug: x.plan for slug, x in repo.tenants.items()})
    at_today = build_dataset(
        repo,
        tmp_path / "store",
        tenant=None,
        date_from=D(2026, 2, 1),
        date_to=D(2026, 2, 28),
        today=D(2026, 2, 28),
        plan_for=today_plan,
    )
    (flat,) = [r for r in at_today["extrato"] if r["tenant"] == "acme" and r["class"] == "ldn_fixo"]
    assert flat["cost"] != row["cost"]  # the first call really was rated at the old plan
    daily = {r["date"]: r["cost"] for r in data["daily"] if r["class"] == "ldn_fixo"}
    assert daily["2026-02-10"] == float(round(cost(D(2026, 2, 10), 120, empresarial), 2))


def test_one_history_per_process_until_main_moves(tmp_path: Path) -> None:
    t = Timeline(tmp_path / "repo")
    t.commit("Dados iniciais", MARIA, "2026-01-05T10:00:00-03:00")
    first = shared_history(t.root)
    assert shared_history(t.root) is first  # the report builds one dataset per tenant
    assert first.plan_for("acme", D(2026, 3, 1)) is not None
    t.edit("tenants/acme.yaml", "plan: empresarial", "plan: basico")
    t.commit("acme: básico", JOAO, "2026-02-01T10:00:00-03:00")
    again = shared_history(t.root)
    assert again is not first
    changed = again.plan_for("acme", D(2026, 3, 1))
    assert changed is not None and changed.name == "Básico"
