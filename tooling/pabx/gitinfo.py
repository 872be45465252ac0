"""The source revision of a repository, through GitPython (for manifests and reports)."""

from __future__ import annotations

from pathlib import Path

import git


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
