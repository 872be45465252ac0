"""The repository's git, through GitPython: opening it, where pabx sits in it, its revision.

Light on purpose (no model, no loader): the audit's quick questions import it too.
"""

from __future__ import annotations

from pathlib import Path

import git

from pabx.errors import UserError


def open_repo(root: Path, why: str) -> git.Repo:
    """The git repository holding `root`; a UserError ending in `why` when there is none."""
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise UserError(f"{root} is not inside a git repository: {why}") from exc


def prefix_of(repo: git.Repo, root: Path) -> str:
    """Where the pabx repository sits inside the git work tree ('' at its top, else 'sub/dir/')."""
    top = Path(repo.working_tree_dir or root).resolve()
    rel = root.resolve().relative_to(top).as_posix()
    return "" if rel == "." else rel + "/"


def revision(root: Path) -> str:
    """HEAD's commit id, with `-dirty` when the data differs from it; `unversioned` outside git."""
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return "unversioned"
    try:
        sha = repo.head.commit.hexsha
    except ValueError:  # no commit yet
        return "unversioned"
    dirty = repo.is_dirty(untracked_files=True, path=str(root.resolve()))
    return f"{sha}-dirty" if dirty else sha
