"""Deploy records, the git notes under refs/notes/pabx-deploy: written by `pabx apply`, read here.

Each note is attached to the deployed commit and holds JSON lines, one object per apply per
server: {"server", "revision", "checksum", "time", "result", "actor", "release"}. The plan
(`--base deployed`), `pabx deploys` and `pabx deploy` read them strictly (a broken line is an
error naming the note and line); the audit reads them leniently (a broken line is counted, the
auditor still gets an answer). This module imports no model and no renderer, so a quick audit
question stays quick.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import git

from pabx.errors import UserError

NOTES_REF = "refs/notes/pabx-deploy"
OK = "ok"


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
        return self.result == OK

    def to_json(self) -> dict[str, str]:
        return {
            "server": self.server,
            "time": self.time.isoformat(),
            "result": self.result,
            "revision": self.revision,
            "checksum": self.checksum,
            "actor": self.actor,
            "release": self.release,
        }


def _record(data: Any, annotated: str) -> DeployRecord:
    """One note line's object as a record; ValueError says what is wrong with it."""
    if not isinstance(data, dict) or not isinstance(data.get("server"), str):
        raise ValueError("a record is an object with a 'server'")
    value = data.get("time")
    if not isinstance(value, str):
        raise ValueError("'time' must be an ISO 8601 text")
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'time' {value!r} is not ISO 8601") from None
    return DeployRecord(
        server=data["server"],
        revision=str(data.get("revision") or annotated),
        checksum=str(data.get("checksum") or ""),
        time=when if when.tzinfo else when.replace(tzinfo=dt.UTC),
        result=str(data.get("result") or ""),
        actor=str(data.get("actor") or ""),
        release=str(data.get("release") or ""),
        commit=annotated,
    )


def read_notes(repo: git.Repo, *, strict: bool) -> tuple[list[DeployRecord], int]:
    """(every record, oldest first; lines that were not records). No notes ref: ([], 0).

    `strict`: the first line that is not a record raises UserError naming the note and line.
    """
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
        text = item.data_stream.read().decode("utf-8", errors="replace")  # a bad byte is no traceback
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"not JSON ({exc.msg})") from None
                record = _record(data, annotated)
            except ValueError as exc:
                if strict:
                    where = f"the note of {annotated[:12]} ({NOTES_REF}), line {number}"
                    raise UserError(f"deploy record in {where}: {exc}") from None
                bad += 1
                continue
            found.append((record.time, len(found), record))
    return [record for _, _, record in sorted(found, key=lambda item: (item[0], item[1]))], bad


def live_at(records: list[DeployRecord], when: dt.datetime | None = None) -> dict[str, DeployRecord]:
    """server -> its latest successful record not after `when` (None: the latest of all); a
    failed or rolled-back apply left the one before it live. `records` oldest first."""
    live: dict[str, DeployRecord] = {}
    for record in records:
        if record.ok and (when is None or record.time <= when):
            live[record.server] = record
    return dict(sorted(live.items()))
