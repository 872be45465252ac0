"""Benchmark: `pabx validate` on a generated 10,000-tenant platform, cold and warm.

Not a test: it prints wall time and peak memory of each run and their ratio to the target.
Cold = a fresh state directory (no parse cache); warm = the same state directory again.
Run it with `python bench/bench_validate.py` (or `make bench`, which runs every bench).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchlib import child_env, pabx_command, run_pabx
from pabx.generate import GeneratorSpec, generate_platform

TARGET_S = 3.0
EXPECTED_VERDICT = "valid: 0 error(s), 0 warning(s)"


@dataclass(frozen=True)
class Run:
    label: str
    wall_s: float
    cpu_s: float
    peak_mib: float
    verdict: str


def run_validate(label: str, repo: Path, env: dict[str, str]) -> Run:
    """One `pabx validate` in a child process; its own rusage gives its peak memory."""
    run = run_pabx(["validate", "--repo", str(repo)], env)
    lines = run.output.strip().splitlines()
    verdict = lines[-1] if lines else f"(no output, exit {run.exit_code})"
    if run.exit_code != 0 or verdict != EXPECTED_VERDICT:
        print(run.output[-4000:], file=sys.stderr)
        raise SystemExit(f"{label}: pabx validate did not find the generated platform valid: {verdict}")
    return Run(label, run.wall_s, run.cpu_s, run.peak_mib, verdict)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--extensions-per-tenant", type=int, default=10)
    parser.add_argument("--numbers-per-tenant", type=int, default=5)
    parser.add_argument(
        "--warm-runs", type=int, default=2, help="warm runs after the cold one (best is kept)"
    )
    parser.add_argument("--keep", type=Path, help="generate here and keep it (default: a temp dir)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pabx-bench-"))
    repo = args.keep or work / "repo"
    try:
        spec = GeneratorSpec(args.tenants, args.extensions_per_tenant, args.numbers_per_tenant)
        start = time.perf_counter()
        stats = generate_platform(spec, repo)
        generated = time.perf_counter() - start
        print(
            f"generated {stats.tenants} tenants, {stats.extensions} extensions, {stats.numbers} numbers, "
            f"{stats.servers} servers in {generated:.2f} s"
        )
        env = child_env(work / "state", work / "pycache")
        subprocess.run(
            [*pabx_command(), "validate", "--list-rules"], env=env, check=True, capture_output=True
        )
        runs = [run_validate("cold", repo, env)]
        warm = [run_validate(f"warm {i + 1}", repo, env) for i in range(args.warm_runs)]
        runs += warm
        print(
            f"{'run':8} {'wall (s)':>9} {'cpu (s)':>8} {'peak (MiB)':>11} {'vs ' + str(TARGET_S) + ' s':>9}"
        )
        for run in runs:
            print(
                f"{run.label:8} {run.wall_s:9.2f} {run.cpu_s:8.2f} {run.peak_mib:11.0f} "
                f"{run.wall_s / TARGET_S:8.2f}x"
            )
        best = min(warm, key=lambda r: r.wall_s) if warm else runs[0]
        verdict = "meets" if best.wall_s < TARGET_S else "misses"
        print(f"validate (warm, best of {len(warm)}): {best.wall_s:.2f} s {verdict} the {TARGET_S} s target")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
