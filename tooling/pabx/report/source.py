"""Where the footer's revision link points: the commit page of the source repository."""

from __future__ import annotations

import os
import re
from pathlib import Path

import git

_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")


def commit_url(root: Path, revision: str) -> str | None:
    """`https://host/owner/repo/commit/<sha>` for a revision, or None when no web home is known.

    In a GitHub Actions job the server and repository come from its environment; elsewhere from
    the `origin` remote (credentials in it are never copied into a page).
    """
    sha = revision.removesuffix("-dirty")
    if not re.fullmatch(r"[0-9a-f]{7,40}", sha):
        return None
    server, repository = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    if server and repository:
        return f"{server.rstrip('/')}/{repository}/commit/{sha}"
    base = _web_base(_origin(root))
    return f"{base}/commit/{sha}" if base else None


def _origin(root: Path) -> str | None:
    try:
        repo = git.Repo(root, search_parent_directories=True)
        return next(iter(repo.remote("origin").urls), None)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError, git.GitCommandError):
        return None


def _web_base(remote: str | None) -> str | None:
    if not remote:
        return None
    match = re.fullmatch(r"(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/(?P<path>.+)", remote)
    if match is None:
        match = _SCP_LIKE.fullmatch(remote)
    if match is None:
        return None
    path = match["path"].removesuffix("/").removesuffix(".git")
    if not re.fullmatch(r"[A-Za-z0-9._~/-]+", path):
        return None
    return f"https://{match['host']}/{path}"
