"""Helpers for the edit tests: the demo data in a real git repository, and what `git diff` says."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import git
from click.testing import CliRunner, Result

from pabx.cli import main

ROOT = Path(__file__).resolve().parent.parent


def git_demo(dest: Path) -> git.Repo:
    """`dest` (a copy of the demo data) committed into a fresh git repository, with CODEOWNERS."""
    if (ROOT / ".github" / "CODEOWNERS").is_file():
        (dest / ".github").mkdir(exist_ok=True)
        shutil.copy(ROOT / ".github" / "CODEOWNERS", dest / ".github" / "CODEOWNERS")
    repo = git.Repo.init(dest)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test")
        config.set_value("user", "email", "test@example.com")
    repo.git.add(A=True)
    repo.index.commit("demo data")
    return repo


@dataclass
class Diff:
    removed: list[str]
    added: list[str]
    files: list[str]  # changed, added or deleted paths


def diff(repo: git.Repo) -> Diff:
    """Lines removed and added by the working tree against HEAD, new files included."""
    untracked = repo.untracked_files
    if untracked:
        repo.git.add("--intent-to-add", "--", *untracked)
    text = repo.git.diff("--unified=0", "--no-color")
    removed = [line[1:] for line in text.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in text.splitlines() if line.startswith("+") and not line.startswith("+++")]
    files = sorted(line.split(" b/", 1)[1] for line in text.splitlines() if line.startswith("diff --git "))
    return Diff(removed, added, files)


def snapshot(root: Path) -> dict[str, str]:
    """A digest of every file outside .git, to prove a refused command wrote nothing."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def run(runner: CliRunner, repo: Path, *args: str, input: str | None = None) -> Result:
    return runner.invoke(main, [*args, "--repo", str(repo)], input=input, catch_exceptions=False)


def refused(runner: CliRunner, repo: Path, *args: str) -> Result:
    """Run a command that must be refused: exit 2, no traceback, no file touched."""
    before = snapshot(repo)
    result = runner.invoke(main, [*args, "--repo", str(repo)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert snapshot(repo) == before, "a refused command changed files"
    return result
