"""Benchmark: `pabx plan` of a one-tenant change on a generated 10,000-tenant platform.

Not a test: it prints wall times and their ratio to the target, and stops with an error when the
plan is wrong (it must name exactly the changed extension and one changed server).
Run it with `python bench/bench_plan.py` (or `make bench`, which runs every bench).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import git

from benchlib import child_env, pabx_command, run_pabx
from pabx.generate import GeneratorSpec, generate_platform

TARGET_S = 2.0


@dataclass(frozen=True)
class Run:
    label: str
    wall_s: float
    cpu_s: float
    peak_mib: float


def run_plan(label: str, repo: Path, env: dict[str, str], out: Path, expected: str) -> Run:
    run = run_pabx(["plan", "--repo", str(repo), "--format", "json", "--out", str(out)], env)
    if run.exit_code != 0:
        raise SystemExit(f"{label}: pabx plan failed:\n{run.output[-4000:]}")
    plan = json.loads(out.read_text(encoding="utf-8"))
    ids = [c["id"] for c in plan["changes"]]
    changed = [name for name, server in plan["servers"].items() if server["changed"]]
    if ids != [expected] or len(changed) != 1:
        raise SystemExit(f"{label}: wrong plan: changes {ids[:5]}, changed servers {changed[:5]}")
    return Run(label, run.wall_s, run.cpu_s, run.peak_mib)


def rename_first_extension(tenant: Path, tag: str) -> str:
    """Edit one extension's name in a tenant file; returns the change id the plan must show."""
    text = tenant.read_text(encoding="utf-8")
    match = re.search(r'\{number: (\d+), name: "', text)
    if match is None:
        raise SystemExit(f"no extension to rename in {tenant}")
    tenant.write_text(text.replace(match.group(0), f"{match.group(0)}{tag} ", 1), encoding="utf-8")
    return f"extension:{tenant.stem}/{match.group(1)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="generate here and keep it (default: a temp dir)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pabx-bench-plan-"))
    repo = args.keep or work / "repo"
    try:
        start = time.perf_counter()
        stats = generate_platform(GeneratorSpec(args.tenants), repo)
        g = git.Repo.init(repo)
        g.git.add(A=True)
        g.git.commit(
            "-q",
            "-m",
            "generated platform",
            env={
                "GIT_AUTHOR_NAME": "bench",
                "GIT_AUTHOR_EMAIL": "bench@example.com",
                "GIT_COMMITTER_NAME": "bench",
                "GIT_COMMITTER_EMAIL": "bench@example.com",
            },
        )
        print(
            f"generated and committed {stats.tenants} tenants, {stats.extensions} extensions, "
            f"{stats.numbers} numbers, {stats.servers} servers in {time.perf_counter() - start:.1f} s"
        )
        env = child_env(work / "state", work / "pycache", drop=("PABX_SECRET_KEY",))
        subprocess.run([*pabx_command(), "plan", "--help"], env=env, check=True, capture_output=True)
        tenants = sorted((repo / "tenants").glob("*.yaml"))
        out = work / "plan.json"

        first = rename_first_extension(tenants[0], "Cold")
        runs = [run_plan("cold", repo, env, out, first)]
        g.git.checkout("--", ".")
        second = rename_first_extension(tenants[len(tenants) // 2], "Warm")
        runs.append(run_plan("warm", repo, env, out, second))
        runs.append(run_plan("again", repo, env, out, second))

        print(
            f"{'run':6} {'wall (s)':>9} {'cpu (s)':>8} {'peak (MiB)':>11} {'vs ' + str(TARGET_S) + ' s':>9}"
        )
        for run in runs:
            print(
                f"{run.label:6} {run.wall_s:9.2f} {run.cpu_s:8.2f} {run.peak_mib:11.0f} {run.wall_s / TARGET_S:8.2f}x"
            )
        print("cold  = fresh state dir: no parse cache, no render cache")
        print("warm  = a new one-tenant change, with the caches a previous run left")
        print("again = the same change planned again (CI re-running the pull-request job)")

        # where the warm time goes, measured in this process (the library's own timers)
        os.environ["PABX_STATE_DIR"] = env["PABX_STATE_DIR"]
        from pabx.plan import compute_plan

        plan = compute_plan(repo)
        phases = ", ".join(f"{name} {seconds:.2f}" for name, seconds in plan.timings.items())
        print(f"phases of a warm plan (s): {phases}")
        warm = runs[1]
        verdict = "meets" if warm.wall_s < TARGET_S else "misses"
        print(f"plan of a one-tenant change (warm): {warm.wall_s:.2f} s {verdict} the {TARGET_S} s target")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
