"""Benchmark: `pabx render` on the generated 10,000-tenant / 100,000-extension platform.

Not a test: prints wall time, CPU time and peak memory of
  1. a cold render (fresh state directory and empty output: parse, validate, render, write),
  2. a warm render of the same repository (nothing changed: nothing is written),
  3. a re-render after one tenant changed (must rewrite only that tenant's files),
and their ratio to the targets: under 6 s for the full render, under 1 s for the re-render.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import child_env, pabx_command, run_pabx
from pabx.generate import GeneratorSpec, generate_platform

FULL_TARGET_S = 6.0
INCREMENTAL_TARGET_S = 1.0


def run_render(label: str, repo: Path, out: Path, env: dict[str, str]) -> tuple[float, float, float, int]:
    run = run_pabx(["render", "--repo", str(repo), "--out", str(out), "--masked"], env)
    if run.exit_code != 0:
        print(run.output[-4000:], file=sys.stderr)
        raise SystemExit(f"{label}: pabx render failed")
    written = sum(int(n) for n in re.findall(r"\((\d+) written", run.output))
    return run.wall_s, run.cpu_s, run.peak_mib, written


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="pabx-bench-render-") as tmp:
        root = Path(tmp)
        repo, out, state, pycache = root / "repo", root / "build", root / "state", root / "pycache"
        stats = generate_platform(GeneratorSpec(tenants=10_000), repo)
        print(f"platform: {stats.tenants} tenants, {stats.extensions} extensions, {stats.numbers} numbers")
        env = child_env(state, pycache)
        subprocess.run([*pabx_command(), "--help"], env=env, capture_output=True, check=True)  # bytecode
        results = [("cold render", *run_render("cold", repo, out, env))]
        results.append(("warm render, nothing changed", *run_render("warm", repo, out, env)))
        tenant = sorted((repo / "tenants").glob("*.yaml"))[7]
        text = tenant.read_text(encoding="utf-8")
        tenant.write_text(re.sub(r"(\n  - \{number: \d+, name: )([^,}]+)", r"\1Renamed \2", text, count=1))
        results.append(("re-render after one tenant changed", *run_render("incremental", repo, out, env)))
        for label, wall, cpu, peak, written in results:
            print(
                f"{label:38} wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak {peak:7.1f} MiB  files written {written}"
            )
        full, incremental = results[0][1], results[2][1]
        print(f"full render: {full:.2f} s = {full / FULL_TARGET_S:.2f} x the {FULL_TARGET_S:.0f} s target")
        print(
            f"re-render: {incremental:.2f} s = {incremental / INCREMENTAL_TARGET_S:.2f} x the "
            f"{INCREMENTAL_TARGET_S:.0f} s target; {results[2][4]} files written (expected 2: the tenant's "
            "pjsip.conf and extensions.conf)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
