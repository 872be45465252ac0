"""Checks of a rendered release before it ships (Asterisk itself has no dry-run):
asterisklint on the dialplan, and the project's own parser for references."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pabx.render import naming

# Hints that do not apply to an included file: [general]/[globals] live in Asterisk's own file.
IGNORED = ("H_DP_GENERAL_MISPLACED", "H_DP_GLOBALS_MISPLACED")


@dataclass(frozen=True)
class LintFinding:
    file: str
    line: int
    code: str
    message: str


def asterisklint_binary() -> str | None:
    beside = Path(sys.executable).with_name("asterisklint")
    return str(beside) if beside.is_file() else shutil.which("asterisklint")


def asterisklint(release: Path) -> list[LintFinding]:
    """Run `asterisklint dialplan-check` on a release as Asterisk would include it."""
    binary = asterisklint_binary()
    if binary is None:
        raise FileNotFoundError("asterisklint is not installed (pip install asterisklint)")
    with tempfile.TemporaryDirectory(prefix="pabx-lint-") as tmp:
        root = Path(tmp)
        (root / naming.INCLUDE_PREFIX).symlink_to(release.resolve(), target_is_directory=True)
        (root / "extensions.conf").symlink_to(release.resolve() / "extensions.conf")
        env = {**os.environ, "ALINT_IGNORE": ",".join(IGNORED)}
        proc = subprocess.run(
            [binary, "dialplan-check", "extensions.conf"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    findings = []
    for line in (proc.stdout + proc.stderr).splitlines():
        where, _, rest = line.partition(" ")
        file, _, lineno = where.rpartition(":")
        code, _, message = rest.partition(": ")
        if not file or not lineno.isdigit() or not code:
            continue
        if code in IGNORED:
            continue
        file = file.removeprefix(naming.INCLUDE_PREFIX + "/")
        findings.append(LintFinding(file, int(lineno), code, message))
    return findings
