"""Deploy records, read for point-in-time questions: git notes under refs/notes/pabx-deploy.

The format is the apply's (pabx.deploy.records writes it; pabx.plan.records reads it for
`plan --base deployed`): one JSON object per line, {"server", "revision", "checksum", "time",
"result", "actor", "release"}, in the note of the deployed commit. This reader exists so that a
quick question does not import the plan and render machinery; a test keeps it in step with
pabx.plan.records. A line that is not a record is counted, never fatal: an auditor still gets
the answer, with a note.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import git

NOTES_REF = "refs/notes/pabx-deploy"


@dataclass(frozen=True)
class DeployRecord:
    server: str
    revision: str
    checksum: str
    time: dt.datetime
    result: str
    actor: str
    release: str
    commit: str  # the commit the note is attached to

    @property
    def ok(self) -> bool:
        return self.result == "ok"


def read_records(repo: git.Repo) -> tuple[list[DeployRecord], int]:
    """(every record, oldest first; how many lines were not records). No notes ref: ([], 0)."""
    try:
        notes = repo.commit(NOTES_REF)
    except (git.BadName, ValueError, git.BadObject):
        return [], 0
    found: list[tuple[dt.datetime, int, DeployRecord]] = []
    bad = 0
    for item in notes.tree.traverse():
        if not isinstance(item, git.Blob):
            continue
        annotated = str(item.path).replace("/", "")
        for line in item.data_stream.read().decode("utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                when = dt.datetime.fromisoformat(str(data["time"]).replace("Z", "+00:00"))
                record = DeployRecord(
                    server=str(data["server"]),
                    revision=str(data.get("revision") or annotated),
                    checksum=str(data.get("checksum") or ""),
                    time=when if when.tzinfo else when.replace(tzinfo=dt.UTC),
                    result=str(data.get("result") or ""),
                    actor=str(data.get("actor") or ""),
                    release=str(data.get("release") or ""),
                    commit=annotated,
                )
            except (ValueError, KeyError, TypeError):
                bad += 1
                continue
            found.append((record.time, len(found), record))
    return [record for _, _, record in sorted(found, key=lambda item: (item[0], item[1]))], bad


def live_at(records: list[DeployRecord], when: dt.datetime) -> dict[str, DeployRecord]:
    """server -> its latest successful record not after `when` (a failed or rolled-back apply
    left the one before it live)."""
    live: dict[str, DeployRecord] = {}
    for record in records:
        if record.ok and record.time <= when:
            live[record.server] = record
    return dict(sorted(live.items()))
