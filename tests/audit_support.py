"""Real git histories for the audit tests, written with GitPython: authors, dates, renames,
deletions, branches merged as pull requests, shallow clones."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import git
from git import Actor

from tests.conftest import ROOT

MARIA = Actor("Maria Souza", "maria.souza@pabx.example.com.br")
JOAO = Actor("João Lima", "joao.lima@pabx.example.com.br")
ANA = Actor("Ana Ferreira", "ana.ferreira@pabx.example.com.br")
BOT = Actor("GitHub", "noreply@github.com")

DATA = ("inventory", "tenants", "numbers", "routes", "plans", "schemas")


class Timeline:
    """A git repository in a folder, built commit by commit with explicit authors and dates."""

    def __init__(self, path: Path, *, demo: bool = True) -> None:
        self.root = path
        path.mkdir(parents=True, exist_ok=True)
        self.repo = git.Repo.init(path, initial_branch="main")
        with self.repo.config_writer() as config:
            config.set_value("user", "name", "Test Runner")
            config.set_value("user", "email", "runner@example.com")
            config.set_value("commit", "gpgsign", "false")
        if demo:
            for folder in DATA:
                shutil.copytree(ROOT / folder, path / folder)

    # --- files --------------------------------------------------------------------------------

    def read(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def write(self, rel: str, text: str) -> None:
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def edit(self, rel: str, old: str, new: str, count: int = 1) -> None:
        text = self.read(rel)
        assert text.count(old) >= count, f"{old!r} not in {rel}"
        self.write(rel, text.replace(old, new, count))

    def delete(self, rel: str) -> None:
        self.repo.index.remove([rel], working_tree=True)

    def rename(self, old: str, new: str) -> None:
        self.repo.index.move([old, new])

    # --- commits ------------------------------------------------------------------------------

    def commit(self, message: str, author: Actor, when: str, *, committer: Actor | None = None) -> str:
        """Stage every change of the work tree and commit it at `when` (ISO 8601 with offset)."""
        self.repo.git.add("-A")
        commit = self.repo.index.commit(
            message,
            author=author,
            committer=committer or author,
            author_date=dt.datetime.fromisoformat(when),
            commit_date=dt.datetime.fromisoformat(when),
        )
        return commit.hexsha

    def branch(self, name: str, start: str = "main") -> None:
        self.repo.git.checkout("-b", name, start)

    def checkout(self, name: str) -> None:
        self.repo.git.checkout(name)

    def merge_pr(self, branch: str, number: int, when: str, *, into: str = "main") -> str:
        """Merge `branch` into main with GitHub's merge commit message and identity."""
        self.repo.git.checkout(into)
        env = {
            "GIT_AUTHOR_NAME": BOT.name or "",
            "GIT_AUTHOR_EMAIL": BOT.email or "",
            "GIT_COMMITTER_NAME": BOT.name or "",
            "GIT_COMMITTER_EMAIL": BOT.email or "",
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_DATE": when,
        }
        self.repo.git.merge(
            "--no-ff",
            "-m",
            f"Merge pull request #{number} from acme-org/{branch}\n\n{branch}",
            branch,
            env=env,
        )
        return self.repo.head.commit.hexsha

    def head(self) -> str:
        return self.repo.head.commit.hexsha

    def note(self, commit: str, records: list[dict[str, str]]) -> None:
        """Deploy records as the apply writes them: JSON lines in refs/notes/pabx-deploy."""
        try:
            existing = self.repo.git.notes("--ref", "pabx-deploy", "show", commit)
        except git.GitCommandError:
            existing = ""
        lines = [line for line in existing.splitlines() if line.strip()]
        lines += [json.dumps(r, sort_keys=True) for r in records]
        self.repo.git.notes("--ref", "pabx-deploy", "add", "-f", "-m", "\n".join(lines), commit)

    def fingerprint(self) -> tuple[str, str, str]:
        """What a read-only tool must leave untouched: refs, index file and work-tree status."""
        refs = self.repo.git.for_each_ref("--format=%(refname) %(objectname)")
        index = (Path(self.repo.git_dir) / "index").read_bytes()
        status = self.repo.git.status("--porcelain", "--untracked-files=all")
        return refs, str(hash(index)), status


def record(server: str, revision: str, time: str, result: str = "ok") -> dict[str, str]:
    return {
        "server": server,
        "revision": revision,
        "checksum": "c" * 64,
        "time": time,
        "result": result,
        "actor": "ci (github actions)",
        "release": f"{revision[:12]}-cccccccc",
    }
