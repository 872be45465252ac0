"""The dataset the report site draws: counters, daily consumption, concurrency, UFs, extrato.

`build_dataset(repo, store_dir, tenant=..., date_from=..., date_to=..., today=...)` returns a
JSON-serializable dict (shape in README, "CDRs: contract and store"). Dates are local dates in
the platform time zone; `missed[].time` is ISO 8601 in UTC. Calls are counted once per linkedid
(analytics.py); cost comes from `rater` with the plan `plan_for` gives (rating.py).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from pabx.audit.billing import plan_for_history
from pabx.cdr.analytics import build_calls, local_hours
from pabx.cdr.rating import FREE, Call, PlanFor, Rater, current_plan, rate
from pabx.cdr.store import connect, create_fragment_views
from pabx.loader import Repository

DEFAULT_TIMEZONE = "America/Sao_Paulo"


def platform_timezone(repo: Repository) -> str:
    return repo.platform.timezone if repo.platform else DEFAULT_TIMEZONE


def own_ddds(repo: Repository) -> dict[str, str | None]:
    """Each tenant's own DDD: its caller ID's, else its first number's (for local calls)."""
    result: dict[str, str | None] = {}
    for slug, tenant in repo.tenants.items():
        if tenant.caller_id:
            result[slug] = tenant.caller_id[:2]
        else:
            owned = repo.numbers_of(slug)
            result[slug] = owned[0].ddd if owned else None
    return result


def build_dataset(
    repo: Repository,
    store_dir: Path,
    *,
    tenant: str | None,
    date_from: dt.date,
    date_to: dt.date,
    today: dt.date,
    rater: Rater = rate,
    plan_for: PlanFor | None = None,
) -> dict[str, Any]:
    """Everything the dashboard, the tenant panels and the extrato show, for one scope."""
    if date_to < date_from:
        raise ValueError(f"date_to {date_to} is before date_from {date_from}")
    tz = platform_timezone(repo)
    if plan_for is None:  # each call at the plan in force on main on its date (git history), else today's
        current = current_plan(repo.plans, {slug: t.plan for slug, t in repo.tenants.items()})
        plan_for = plan_for_history(repo.root, current)
    lo, hi = min(date_from, today), max(date_to, today)
    con = connect(memory_limit="1536MB", temp_dir=store_dir / "_pabx" / "tmp")
    try:
        create_fragment_views(
            con, store_dir, utc_from=lo - dt.timedelta(days=2), utc_to=hi + dt.timedelta(days=2)
        )
        build_calls(con, timezone=tz, local_from=lo, local_to=hi, own_ddd=own_ddds(repo), tenant=tenant)
        if rater is rate:  # the default rating, done in SQL over all calls (same results)
            daily, extrato = _rated_in_sql(con, date_from, date_to, plan_for)
        else:
            daily, extrato = _rated(con, date_from, date_to, rater, plan_for)
        local_hours(con, date_from, date_to)
        concurrency = [
            {"date": day.isoformat(), "hour": int(hour), "peak": int(peak)}
            for day, hour, peak in con.execute(
                "SELECT day, hour, peak FROM concurrency ORDER BY day, hour"
            ).fetchall()
        ]
        counters = _counters(con, today, date_from, date_to, concurrency)
        by_uf = [
            {"date": day.isoformat(), "uf": uf, "calls": int(n)}
            for day, uf, n in con.execute(
                "SELECT local_day, uf, count(*) FROM calls "
                "WHERE uf IS NOT NULL AND local_day BETWEEN ? AND ? GROUP BY ALL ORDER BY 1, 2",
                [date_from, date_to],
            ).fetchall()
        ]
        missed = [
            {"linkedid": call_id, "tenant": slug, "extension": ext, "caller": caller or "", "time": when}
            for call_id, slug, ext, caller, when in con.execute(
                "SELECT call_id, tenant, ext, caller, strftime(start_utc, '%Y-%m-%dT%H:%M:%SZ') FROM ("
                "  SELECT call_id, tenant, unnest(list_sort(list_distinct(rung))) AS ext, caller, start_utc "
                "  FROM calls WHERE NOT answered AND rung IS NOT NULL AND local_day BETWEEN ? AND ?"
                ") ORDER BY start_utc, call_id, ext",
                [date_from, date_to],
            ).fetchall()
        ]
        refused = [
            {"date": day.isoformat(), "tenant": slug, "reason": reason, "calls": int(n)}
            for day, slug, reason, n in con.execute(
                "SELECT local_day, tenant, reason, count(*) FROM refused "
                "WHERE local_day BETWEEN ? AND ? GROUP BY ALL ORDER BY ALL",
                [date_from, date_to],
            ).fetchall()
        ]
    finally:
        con.close()
    return {
        "scope": {
            "tenant": tenant,
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "today": today.isoformat(),
            "timezone": tz,
        },
        "counters": counters,
        "daily": daily,
        "concurrency": concurrency,
        "by_uf": by_uf,
        "extrato": extrato,
        "missed": missed,
        "refused": refused,
    }


def _rated(
    con: Any, date_from: dt.date, date_to: dt.date, rater: Rater, plan_for: PlanFor
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Daily and extrato rows; the rater sees each distinct Call once, weighted by its count."""
    groups = con.execute(
        "SELECT tenant, direction, class, local_day, billsec, answered, count(*) FROM calls "
        "WHERE local_day BETWEEN ? AND ? GROUP BY ALL",
        [date_from, date_to],
    ).fetchall()
    daily: Totals = defaultdict(lambda: [0, 0, 0, Decimal(0)])
    extrato: Totals = defaultdict(lambda: [0, 0, Decimal(0)])
    for slug, direction, cls, day, billsec, answered, n in groups:
        call = Call(slug, direction, cls, day, int(billsec), bool(answered))
        plan = plan_for(slug, day)
        rating = rater(call, plan) if plan is not None else FREE
        row = daily[(day.isoformat(), direction, cls)]
        row[0] += n
        row[1] += n if answered else 0
        row[2] += rating.billed_s * n
        row[3] += rating.cost * n
        if direction == "saida":
            ext = extrato[(slug, day.strftime("%Y-%m"), cls)]
            ext[0] += n
            ext[1] += rating.billed_s * n
            ext[2] += rating.cost * n
    return _rows(daily, extrato)


Totals = dict[tuple[str, str, str], list[Any]]


def _rated_in_sql(
    con: Any, date_from: dt.date, date_to: dt.date, plan_for: PlanFor
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`rating.rate` as SQL over all calls at once, with the plan `plan_for` gives each tenant on
    each day: the same cadence and the same rounding (per call, half up to 0.000001 R$), in
    integer micro-reais."""
    pairs = con.execute(
        "SELECT DISTINCT tenant, local_day FROM calls WHERE local_day BETWEEN ? AND ?", [date_from, date_to]
    ).fetchall()
    ids: dict[str, int] = {}
    cadence, prices, chosen = ["(-1, 0, 0, 1, 0)"], ["(-1, '', 0)"], ["('', DATE '1970-01-01', -1)"]
    for slug, day in pairs:
        plan = plan_for(slug, day)
        if plan is None:
            continue
        key = plan.model_dump_json()
        if key not in ids:
            pid = ids[key] = len(ids)
            b = plan.billing
            fee = int(plan.connection_fee * 10**6)
            cadence.append(f"({pid}, {b.free_under_s}, {b.minimum_s}, {b.increment_s}, {fee})")
            prices.extend(
                f"({pid}, '{cls.value}', {int(price * 10**6)})" for cls, price in plan.tariffs.items()
            )
        chosen.append(f"('{slug}', DATE '{day.isoformat()}', {ids[key]})")
    rows = con.execute(
        f"""
        WITH p(pid, free, minimum, step, fee) AS (VALUES {", ".join(cadence)}),
        t(pid, class, price) AS (VALUES {", ".join(prices)}),
        k(tenant, day, pid) AS (VALUES {", ".join(chosen)}),
        r AS (
            SELECT c.local_day, c.direction, c.class, c.tenant, c.answered,
                CASE WHEN p.pid IS NULL OR NOT c.answered OR c.billsec <= 0 OR c.billsec < p.free THEN 0
                     WHEN c.billsec <= p.minimum THEN p.minimum
                     ELSE p.minimum + (c.billsec - p.minimum + p.step - 1) // p.step * p.step
                END::BIGINT AS billed,
                coalesce(t.price, 0)::BIGINT AS price, coalesce(p.fee, 0)::BIGINT AS fee
            FROM calls c
            LEFT JOIN k ON k.tenant = c.tenant AND k.day = c.local_day
            LEFT JOIN p ON p.pid = k.pid
            LEFT JOIN t ON t.pid = k.pid AND t.class = c.class
            WHERE c.local_day BETWEEN ? AND ?
        )
        SELECT local_day, direction, class, tenant, count(*), count(*) FILTER (WHERE answered), sum(billed),
            sum(CASE WHEN direction = 'saida' AND billed > 0 AND price > 0
                     THEN (billed * price * 2 + 60) // 120 + fee ELSE 0 END)
        FROM r GROUP BY ALL
        """,
        [date_from, date_to],
    ).fetchall()
    daily: Totals = defaultdict(lambda: [0, 0, 0, Decimal(0)])
    extrato: Totals = defaultdict(lambda: [0, 0, Decimal(0)])
    for day, direction, cls, slug, n, answered, billed, micro in rows:
        cost = Decimal(int(micro)) / 10**6
        row = daily[(day.isoformat(), direction, cls)]
        row[0] += n
        row[1] += answered
        row[2] += int(billed)
        row[3] += cost
        if direction == "saida":
            ext = extrato[(slug, day.strftime("%Y-%m"), cls)]
            ext[0] += n
            ext[1] += int(billed)
            ext[2] += cost
    return _rows(daily, extrato)


def _rows(daily: Totals, extrato: Totals) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return (
        [
            {
                "date": day,
                "direction": direction,
                "class": cls,
                "calls": calls,
                "answered": answered,
                "minutes": round(billed / 60, 2),
                "cost": float(round(cost, 2)),
            }
            for (day, direction, cls), (calls, answered, billed, cost) in sorted(daily.items())
        ],
        [
            {
                "tenant": slug,
                "month": month,
                "class": cls,
                "calls": calls,
                "minutes": round(billed / 60, 2),
                "cost": float(round(cost, 2)),
            }
            for (slug, month, cls), (calls, billed, cost) in sorted(extrato.items())
        ],
    )


def _counters(
    con: Any, today: dt.date, date_from: dt.date, date_to: dt.date, concurrency: list[dict[str, Any]]
) -> dict[str, int]:
    counts = dict(
        con.execute(
            "SELECT direction, count(*) FROM calls WHERE local_day = ? GROUP BY 1", [today]
        ).fetchall()
    )
    if date_from <= today <= date_to:
        peaks = [c["peak"] for c in concurrency if c["date"] == today.isoformat()]
    else:
        local_hours(con, today, today)
        peaks = [int(p) for (p,) in con.execute("SELECT peak FROM concurrency").fetchall()]
    return {
        "entrada_hoje": int(counts.get("entrada", 0)),
        "saida_hoje": int(counts.get("saida", 0)),
        "interna_hoje": int(counts.get("interna", 0)),
        "simultaneas": max(peaks, default=0),
    }
