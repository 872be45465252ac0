"""`rollback --to REV`: git stays the source of truth. The data folders of the working tree become
those of REV in a new commit that names REV (a revert, not a reset: history keeps both), and
that commit is what the apply then ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import git

from pabx.errors import UserError
from pabx.gitsource import open_repo
from pabx.loader.layout import DATA_FOLDERS

ROLLBACK_FOLDERS = (*DATA_FOLDERS, "templates")


@dataclass(frozen=True)
class RollbackCommit:
    target: str  # the full id of REV
    commit: str  # the new commit (empty: nothing differed)
    message: str
    changed: list[str]


def rollback_commit(repo_root: Path, rev: str) -> RollbackCommit:
    """Commit the data folders as they were at `rev`; refuse over uncommitted data changes."""
    root = repo_root.resolve()
    repo = open_repo(root)
    try:
        try:
            target = repo.commit(rev)
        except (git.BadName, ValueError) as exc:
            raise UserError(f"{rev!r} is not a commit of this repository") from exc
        prefix = Path(repo.working_tree_dir or root).resolve()
        folders = [
            (root / f).relative_to(prefix).as_posix()
            for f in ROLLBACK_FOLDERS
            if (root / f).exists() or _in_tree(target, (root / f).relative_to(prefix).as_posix())
        ]
        dirty = repo.git.status("--short", "--untracked-files=all", "--", *folders).strip()
        if dirty:
            raise UserError(
                "uncommitted changes in the data folders; commit or stash them before a rollback:\n" + dirty
            )
        present = [f for f in folders if _in_tree(repo.head.commit, f)]
        if present:
            repo.git.rm("-r", "-q", "--cached", "--ignore-unmatch", "--", *present)
            for folder in present:
                _remove_tracked(repo, prefix, folder)
        there = [f for f in folders if _in_tree(target, f)]
        if there:
            repo.git.checkout(target.hexsha, "--", *there)
        changed = [
            line for line in repo.git.diff("--cached", "--name-only", "--", *folders).splitlines() if line
        ]
        subject = str(target.summary)
        message = (
            f"Roll back the platform's data to {target.hexsha[:12]} ({subject})\n\n"
            f"pabx rollback --to {rev}: tenants, numbers, routes, plans, inventory and templates as\n"
            f"they were at {target.hexsha}. Applying this commit deploys that state again.\n"
        )
        if not changed:
            return RollbackCommit(target.hexsha, "", message, [])
        repo.git.commit("-q", "-m", message, "--", *folders)
        return RollbackCommit(target.hexsha, repo.head.commit.hexsha, message, changed)
    finally:
        repo.close()


def _in_tree(commit: git.Commit, path: str) -> bool:
    try:
        commit.tree / path
    except KeyError:
        return False
    return True


def _remove_tracked(repo: git.Repo, prefix: Path, folder: str) -> None:
    """Delete the files of `folder` that HEAD tracks (untracked files are left alone)."""
    for line in repo.git.ls_tree("-r", "--name-only", "HEAD", "--", folder).splitlines():
        path = prefix / line
        if path.is_file() or path.is_symlink():
            path.unlink()
