"""Run every bench/bench_*.py in turn, each in its own interpreter; exit 1 if any failed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    failed = []
    for bench in sorted(here.glob("bench_*.py")):
        print(f"== {bench.name}", flush=True)
        if subprocess.run([sys.executable, str(bench)], check=False).returncode != 0:
            failed.append(bench.name)
        print(flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
