"""Deploy records: what the apply writes so that "what was live on server S at time T" has an
answer from git alone.

Each apply appends one JSON line per server it deployed to a git note on the deployed commit,
under refs/notes/pabx-deploy (CI pushes that ref):
{"server", "revision", "checksum", "time", "result": "ok"|"failed"|"rolled-back", "actor", "release"}.
Each server also keeps `<etc>/pabx-live.json` (the playbook writes it). Reading the notes is
`pabx.plan.records.read_records`, shared with `plan --base deployed`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from pabx import deploynotes
from pabx.errors import UserError
from pabx.gitsource import open_repo
from pabx.plan.records import NOTES_REF, DeployRecord, read_records

RESULTS = ("ok", "failed", "rolled-back")

__all__ = ["NOTES_REF", "RESULTS", "DeployRecord", "actor", "append_records", "live_at", "utc_now"]


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def actor(repo_root: Path | None = None) -> str:
    """Who applies: the GitHub actor in CI, else the repository's git user, else the login name."""
    if os.environ.get("GITHUB_ACTOR"):
        return f"{os.environ['GITHUB_ACTOR']} (github actions)"
    try:
        name = git.Git(str(repo_root) if repo_root else None).config("user.name")
    except git.GitCommandError:
        name = ""
    return name.strip() or f"{getpass.getuser()}@{socket.gethostname()}"


@dataclass(frozen=True)
class Record:
    server: str
    revision: str
    checksum: str
    time: str
    result: str
    actor: str
    release: str

    def to_json(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "revision": self.revision,
            "checksum": self.checksum,
            "time": self.time,
            "result": self.result,
            "actor": self.actor,
            "release": self.release,
        }


def append_records(repo_root: Path, commit: str, records: Iterable[Record]) -> int:
    """Append one JSON line per record to the note of `commit` (refs/notes/pabx-deploy)."""
    records = list(records)
    lines = [json.dumps(r.to_json(), ensure_ascii=False, sort_keys=True) for r in records]
    if not lines:
        return 0
    for record in records:
        if record.result not in RESULTS:
            raise ValueError(f"deploy record result {record.result!r} is not one of {RESULTS}")
    repo = open_repo(repo_root)
    try:
        try:
            existing = repo.git.notes("--ref", NOTES_REF, "show", commit)
        except git.GitCommandError:
            existing = ""
        body = "\n".join([*([existing.rstrip("\n")] if existing.strip() else []), *lines]) + "\n"
        # `git notes add -f` with the whole body: `append` would put a blank line between applies
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".note") as fh:
            fh.write(body)
            fh.flush()
            repo.git.notes("--ref", NOTES_REF, "add", "-f", "-F", fh.name, commit, env=_identity(repo))
    finally:
        repo.close()
    return len(lines)


def _identity(repo: git.Repo) -> dict[str, str]:
    """A committer for the notes commit when git has none configured (a fresh CI machine)."""
    reader = repo.config_reader()
    if reader.has_option("user", "name") and reader.has_option("user", "email"):
        return {}
    return {
        "GIT_AUTHOR_NAME": "pabx apply",
        "GIT_AUTHOR_EMAIL": "pabx-apply@localhost",
        "GIT_COMMITTER_NAME": "pabx apply",
        "GIT_COMMITTER_EMAIL": "pabx-apply@localhost",
    }


def live_at(
    repo_root: Path, at: dt.datetime | None = None, server: str | None = None
) -> dict[str, DeployRecord]:
    """server -> the record of what was live on it at `at` (now by default): its latest "ok"
    record not after `at`. A "failed" or "rolled-back" apply left the one before it live."""
    when = at or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        raise UserError("a time needs its zone: 2026-05-01T14:00:00Z or 2026-05-01T11:00:00-03:00")
    records = [r for r in read_records(repo_root) if server is None or r.server == server]
    return deploynotes.live_at(records, when)
