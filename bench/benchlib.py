"""What every benchmark shares: the `pabx` command, a child environment, one measured run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def pabx_command() -> list[str]:
    """The installed `pabx` script beside this interpreter, else the same entry point via -c."""
    script = Path(sys.executable).with_name("pabx")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from pabx.cli import main; main()"]


def peak_mib(maxrss: int) -> float:
    """ru_maxrss is in KiB on Linux and in bytes on macOS."""
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def child_env(state: Path, pycache: Path, *, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment of the measured runs: a private state dir, and bytecode written to a
    private prefix (compiled once by a warm-up run) even where PYTHONDONTWRITEBYTECODE is set,
    as in this sandbox: an installed pabx has its bytecode, and compiling it is not measured."""
    env = {**os.environ, "PABX_STATE_DIR": str(state), "PYTHONPYCACHEPREFIX": str(pycache)}
    for name in ("PABX_NO_CACHE", "PYTHONDONTWRITEBYTECODE", *drop):
        env.pop(name, None)
    return env


@dataclass(frozen=True)
class Measured:
    wall_s: float
    cpu_s: float
    peak_mib: float
    exit_code: int
    output: str


def run_pabx(args: list[str], env: dict[str, str]) -> Measured:
    """One `pabx ...` in a child process; its own rusage gives CPU time and peak memory."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*pabx_command(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return Measured(
        wall,
        usage.ru_utime + usage.ru_stime,
        peak_mib(usage.ru_maxrss),
        os.waitstatus_to_exitcode(status),
        output,
    )
