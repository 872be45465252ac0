"""Benchmark: `pabx report`'s site builder on a large synthetic platform.

Generates a platform with `pabx generate` (1,000 tenants by default), then builds the whole
site (admin tree + one panel per tenant) from synthetic CDR datasets of 30 days, as large as a
busy tenant's. The CDR queries are left out (bench_cdr measures those): this is the cost of the
pages themselves. Prints wall time, pages, bytes written, peak memory and the ratio to target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 15.0  # 1,000 tenants: a scheduled job's budget, with the panels of every tenant

CLASSES = ("local_fixo", "local_movel", "ldn_fixo", "ldn_movel", "0800", "servicos")
UFS = ("SP", "RJ", "MG", "BA", "PR", "RS", "PE")


def synthetic_dataset(tenant: str | None, start: dt.date, days: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    dates = [(start + dt.timedelta(days=i)).isoformat() for i in range(days)]
    daily = []
    for date in dates:
        daily.append(
            {
                "date": date,
                "direction": "entrada",
                "class": "ura",
                "calls": 40,
                "answered": 35,
                "minutes": 90.0,
                "cost": 0.0,
            }
        )
        daily.append(
            {
                "date": date,
                "direction": "interna",
                "class": "ramal",
                "calls": 9,
                "answered": 9,
                "minutes": 12.0,
                "cost": 0.0,
            }
        )
        for cls in CLASSES:
            calls = rng.randint(1, 30)
            daily.append(
                {
                    "date": date,
                    "direction": "saida",
                    "class": cls,
                    "calls": calls,
                    "answered": calls - 1,
                    "minutes": calls * 2.5,
                    "cost": round(calls * 0.4, 2),
                }
            )
    slugs = [tenant or "t00001"]
    return {
        "scope": {
            "tenant": tenant,
            "from": dates[0],
            "to": dates[-1],
            "today": dates[-1],
            "timezone": "America/Sao_Paulo",
        },
        "counters": {"entrada_hoje": 40, "saida_hoje": 60, "interna_hoje": 9, "simultaneas": 7},
        "daily": daily,
        "concurrency": [{"date": d, "hour": h, "peak": rng.randint(0, 9)} for d in dates for h in range(24)],
        "by_uf": [{"date": d, "uf": uf, "calls": rng.randint(1, 20)} for d in dates for uf in UFS],
        "extrato": [
            {"tenant": s, "month": dates[-1][:7], "class": c, "calls": 100, "minutes": 250.0, "cost": 40.0}
            for s in slugs
            for c in CLASSES
        ],
        "missed": [],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--keep", type=Path, default=None, help="Generate and build under DIR and keep it.")
    args = parser.parse_args()

    from pabx.generate import GeneratorSpec, generate_platform
    from pabx.loader import load_valid_repository
    from pabx.render.secrets import Secrets
    from pabx.report import Period, Provenance, Registrations, build_site

    work = args.keep or Path(tempfile.mkdtemp(prefix="pabx-bench-report-"))
    repo_dir, out = work / "repo", work / "site"
    try:
        if not repo_dir.exists():
            generate_platform(GeneratorSpec(tenants=args.tenants), repo_dir)
        repo, _ = load_valid_repository(repo_dir)
        end = dt.date(2026, 5, 14)
        start = end - dt.timedelta(days=args.days - 1)
        cache: dict[str | None, dict[str, Any]] = {}

        def source(tenant: str | None) -> dict[str, Any]:
            if tenant not in cache:
                cache[tenant] = synthetic_dataset(tenant, start, args.days, sum(map(ord, tenant or "")))
            return cache[tenant]

        for slug in [None, *repo.tenants]:  # datasets first: only the builder is timed
            source(slug)
        shutil.rmtree(out, ignore_errors=True)
        began = time.perf_counter()
        cpu_began = time.process_time()
        result = build_site(
            repo,
            out,
            source,
            secrets=Secrets(b"bench-key"),
            period=Period.resolve(today=end, date_from=start, date_to=end),
            registrations=Registrations(),
            provenance=Provenance("bench", None, dt.datetime.now(dt.UTC)),
        )
        wall = time.perf_counter() - began
        cpu = time.process_time() - cpu_began
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if len(result.panels) == 0 or not result.admin_index.is_file():
            print("error: the site was not built", file=sys.stderr)
            return 1
        print(f"tenants: {len(repo.tenants)} ({len(result.panels)} panels), {args.days} days of data")
        print(f"pages: {result.pages}, {size / 1e6:.1f} MB written")
        print(
            f"build: {wall:.2f} s wall, {cpu:.2f} s CPU ({1000 * wall / max(1, len(result.panels)):.1f} ms per panel)"
        )
        print(f"peak memory: {peak_mb:.0f} MB")
        print(f"target: under {TARGET_S:.0f} s for 1,000 tenants -> {wall / TARGET_S:.2f}x of target")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
