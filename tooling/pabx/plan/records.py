"""Deploy records for the plan: which revision is live on each server (pabx.deploynotes reads them).

The revision live on a server is the one of its latest record whose result is "ok".
"""

from __future__ import annotations

from pathlib import Path

from pabx.deploynotes import NOTES_REF, OK, DeployRecord, live_at, read_notes
from pabx.gitsource import open_repo

__all__ = ["NOTES_REF", "OK", "DeployRecord", "live_revisions", "read_records"]


def read_records(root: Path) -> list[DeployRecord]:
    """Every deploy record of the notes ref, oldest first (empty when there is no ref); a line
    that is not a record is an error naming its note and line."""
    repo = open_repo(root)
    try:
        return read_notes(repo, strict=True)[0]
    finally:
        repo.close()


def live_revisions(root: Path, servers: list[str]) -> dict[str, str | None]:
    """server -> the revision live on it (latest successful record), None when never deployed.

    Every server of `servers` is there; so is a server that has records but is no longer in the
    inventory (its plan deletes what it runs).
    """
    live: dict[str, str | None] = dict.fromkeys(servers)
    live.update({server: record.revision for server, record in live_at(read_records(root)).items()})
    return dict(sorted(live.items()))
