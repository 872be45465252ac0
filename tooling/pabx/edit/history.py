"""Tenant IDs ever used: in the files now, and in tenant files that git history deleted."""

from __future__ import annotations

import re
from pathlib import Path

from pabx.loader.repo import Repository

_ID_LINE = re.compile(r"^id:\s*['\"]?(\d+)", re.MULTILINE)
FIRST_ID = 1001


def ids_in_files(repo: Repository) -> set[int]:
    """IDs of every tenant file, also removido ones and files that did not load."""
    ids = {tenant.id for tenant in repo.tenants.values()}
    for rel in repo.invalid:
        if rel.startswith("tenants/"):
            path = repo.root / rel
            if path.is_file():
                ids.update(
                    int(m) for m in _ID_LINE.findall(path.read_text(encoding="utf-8", errors="replace"))
                )
    return ids


def ids_in_history(root: Path) -> set[int]:
    """IDs of tenant files deleted in any commit of the git repository holding `root`.

    A tenant is removed by `status: removido`, never by deleting its file; this is the
    safety net for files deleted by hand, so their IDs are not handed out again.
    Not a git repository (or no git): no IDs.
    """
    try:
        import git

        repo = git.Repo(root, search_parent_directories=True)
    except Exception:  # not a repository, or git missing: nothing to add
        return set()
    if not repo.working_tree_dir or repo.head.is_valid() is False:
        return set()
    prefix = Path(root).resolve().relative_to(Path(repo.working_tree_dir).resolve()).as_posix()
    tenants = f"{prefix}/tenants/" if prefix != "." else "tenants/"
    try:
        log = repo.git.log("--all", "--diff-filter=D", "--name-only", "--format=%x00%H", "--", tenants)
    except git.GitCommandError:
        return set()
    ids: set[int] = set()
    for block in log.split("\x00"):
        lines = [line for line in block.splitlines() if line.strip()]
        if len(lines) < 2:
            continue
        commit, paths = lines[0], lines[1:]
        for path in paths:
            if not path.endswith(".yaml"):
                continue
            try:
                text = repo.git.show(f"{commit}^:{path}")
            except git.GitCommandError:
                continue
            ids.update(int(m) for m in _ID_LINE.findall(text))
    return ids


def next_tenant_id(repo: Repository, *, use_history: bool = True) -> int:
    used = ids_in_files(repo) | (ids_in_history(repo.root) if use_history else set())
    return max(used) + 1 if used else FIRST_ID


def used_ids(repo: Repository) -> set[int]:
    return ids_in_files(repo) | ids_in_history(repo.root)


__all__ = ["FIRST_ID", "ids_in_files", "ids_in_history", "next_tenant_id", "used_ids"]
