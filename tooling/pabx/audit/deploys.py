"""Deploy records, read for point-in-time questions (pabx.deploynotes; leniently: a line that is
not a record is counted, never fatal, so an auditor still gets the answer, with a note)."""

from __future__ import annotations

import datetime as dt

import git

from pabx.deploynotes import NOTES_REF, DeployRecord, read_notes

__all__ = ["NOTES_REF", "DeployRecord", "live_at", "read_records"]


def read_records(repo: git.Repo) -> tuple[list[DeployRecord], int]:
    """(every record, oldest first; how many lines were not records). No notes ref: ([], 0)."""
    return read_notes(repo, strict=False)


def live_at(records: list[DeployRecord], when: dt.datetime) -> dict[str, DeployRecord]:
    """server -> its latest successful record not after `when` (a failed or rolled-back apply
    left the one before it live)."""
    live: dict[str, DeployRecord] = {}
    for record in records:
        if record.ok and record.time <= when:
            live[record.server] = record
    return dict(sorted(live.items()))
