"""Benchmark: day-to-day edit commands on a generated 10,000-tenant platform in a git repository.

Not a test: it prints the wall and CPU time of each command and the ratio to the target. It
does fail when a command fails or its `git diff` is not the expected number of lines.
Each command validates the repository as it would be after the change (in a shadow tree): one
warm `pabx validate`, two for the commands that also need the repository as it was.
Run it with `python bench/bench_edit.py` (or `make bench`, which runs every bench).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchlib import child_env, pabx_command, run_pabx
from pabx.errors import Report
from pabx.generate import GeneratorSpec, generate_platform
from pabx.loader.repo import load_repository

TARGET_S = 6.0  # at most two warm validations (3 s each) of the 10,000-tenant platform


@dataclass(frozen=True)
class Step:
    label: str
    args: list[str]
    added: int  # lines `git diff --numstat` must show added …
    removed: int  # … and removed


@dataclass(frozen=True)
class Timing:
    label: str
    wall_s: float
    cpu_s: float
    peak_mib: float


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def _steps(repo: Path) -> list[Step]:
    """Commands that touch a tenant, a numbers file and a new tenant, chosen from the data."""
    loaded = load_repository(repo, Report(), use_cache=False)
    biggest = max(sorted(loaded.plans), key=lambda p: loaded.plans[p].limits.extensions)
    slug, tenant = next(
        (s, t)
        for s, t in sorted(loaded.tenants.items())
        if t.plan != biggest
        and t.status.value == "ativo"
        and len(t.extensions) < loaded.plans[t.plan].limits.extensions
    )
    free = next((s.entry.number for s in loaded.number_sites if s.entry.owner is None), None)
    plan = biggest
    steps = [
        Step("extension add", ["extension", "add", slug, "2999", "--name", "Bench"], 1, 0),
        Step("tenant set", ["tenant", "set", slug, "--plan", plan], 1, 1),
        Step("number add (100)", ["number", "add", "1130999000-1130999099", "--route", "padrao"], 100, 0),
        Step(
            "tenant add",
            [
                "tenant",
                "add",
                "--name",
                "Bench Comércio Ltda",
                "--contact",
                "Bench",
                "--document",
                "11.444.777/0001-61",
                "--email",
                "bench@bench.com.br",
                "--plan",
                plan,
                "--no-interactive",
            ],
            12,
            0,
        ),
    ]
    ext = tenant.extensions[0].number
    target = free or "1130999000"
    steps.append(Step("number assign", ["number", "assign", target, slug, "--to", f"ext:{ext}"], 1, 1))
    return steps


def run_step(step: Step, repo: Path, env: dict[str, str]) -> Timing:
    run = run_pabx([*step.args, "--repo", str(repo)], env)
    if run.exit_code != 0:
        print(run.output[-4000:], file=sys.stderr)
        raise SystemExit(f"{step.label}: the command failed")
    _git(repo, "add", "-A")
    numstat = _git(repo, "diff", "--cached", "--numstat").split()
    added = sum(int(n) for n in numstat[0::3])
    removed = sum(int(n) for n in numstat[1::3])
    if (added, removed) != (step.added, step.removed):
        raise SystemExit(
            f"{step.label}: git diff has +{added} -{removed}, expected +{step.added} -{step.removed}"
        )
    _git(repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", step.label)
    return Timing(step.label, run.wall_s, run.cpu_s, run.peak_mib)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="generate here and keep it (default: a temp dir)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pabx-bench-edit-"))
    repo = args.keep or work / "repo"
    try:
        stats = generate_platform(GeneratorSpec(args.tenants, 10, 5), repo)
        print(f"generated {stats.tenants} tenants, {stats.extensions} extensions, {stats.numbers} numbers")
        _git(repo, "init", "-q")
        _git(repo, "add", "-A")
        _git(
            repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", "generated"
        )
        env = child_env(work / "state", work / "pycache")
        subprocess.run(
            [*pabx_command(), "validate", "--repo", str(repo)], env=env, check=True, capture_output=True
        )
        timings = [run_step(step, repo, env) for step in _steps(repo)]
        print(
            f"{'command':18} {'wall (s)':>9} {'cpu (s)':>8} {'peak (MiB)':>11} {'vs ' + str(TARGET_S) + ' s':>9}"
        )
        for t in timings:
            print(
                f"{t.label:18} {t.wall_s:9.2f} {t.cpu_s:8.2f} {t.peak_mib:11.0f} {t.wall_s / TARGET_S:8.2f}x"
            )
        worst = max(timings, key=lambda t: t.wall_s)
        verdict = "meets" if worst.wall_s < TARGET_S else "misses"
        print(f"slowest edit ({worst.label}): {worst.wall_s:.2f} s {verdict} the {TARGET_S} s target")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
