"""Deploy records, read for point-in-time questions (pabx.deploynotes; leniently: a line that is
not a record is counted, never fatal, so an auditor still gets the answer, with a note)."""

from __future__ import annotations

import git

from pabx.deploynotes import NOTES_REF, DeployRecord, live_at, read_notes

__all__ = ["NOTES_REF", "DeployRecord", "live_at", "read_records"]


def read_records(repo: git.Repo) -> tuple[list[DeployRecord], int]:
    """(every record, oldest first; how many lines were not records). No notes ref: ([], 0)."""
    return read_notes(repo, strict=False)
