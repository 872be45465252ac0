"""Deploy records as the apply writes them: git notes under refs/notes/pabx-deploy.

Each note is attached to the deployed commit and holds JSON lines, one object per apply per
server: {"server", "revision", "checksum", "time", "result", "actor", "release"}. The revision
live on a server is the one of its latest record whose result is "ok".
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import git

from pabx.errors import UserError
from pabx.gitsource import open_repo

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


def _time(value: object, where: str) -> dt.datetime:
    if not isinstance(value, str):
        raise UserError(f"deploy record in {where}: 'time' must be an ISO 8601 text")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise UserError(f"deploy record in {where}: 'time' {value!r} is not ISO 8601") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def read_records(root: Path) -> list[DeployRecord]:
    """Every deploy record of the notes ref, oldest first (empty when there is no ref)."""
    repo = open_repo(root)
    try:
        try:
            notes = repo.commit(NOTES_REF)
        except (git.BadName, ValueError):
            return []
        records: list[tuple[dt.datetime, int, DeployRecord]] = []
        order = 0
        for item in notes.tree.traverse():
            if not isinstance(item, git.Blob):
                continue
            annotated = str(item.path).replace("/", "")
            where = f"the note of {annotated[:12]} ({NOTES_REF})"
            for number, line in enumerate(item.data_stream.read().decode("utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UserError(f"{where}, line {number}: not JSON ({exc.msg})") from exc
                if not isinstance(data, dict) or not isinstance(data.get("server"), str):
                    raise UserError(f"{where}, line {number}: a record is an object with a 'server'")
                record = DeployRecord(
                    server=data["server"],
                    revision=str(data.get("revision") or annotated),
                    checksum=str(data.get("checksum") or ""),
                    time=_time(data.get("time"), f"{where}, line {number}"),
                    result=str(data.get("result") or ""),
                    actor=str(data.get("actor") or ""),
                    release=str(data.get("release") or ""),
                    commit=annotated,
                )
                order += 1
                records.append((record.time, order, record))
        return [r for _, _, r in sorted(records, key=lambda item: (item[0], item[1]))]
    finally:
        repo.close()


def live_revisions(root: Path, servers: list[str]) -> dict[str, str | None]:
    """server -> the revision live on it (latest successful record), None when never deployed.

    Every server of `servers` is there; so is a server that has records but is no longer in the
    inventory (its plan deletes what it runs).
    """
    live: dict[str, str | None] = dict.fromkeys(servers)
    for record in read_records(root):
        if record.ok:
            live[record.server] = record.revision
    return dict(sorted(live.items()))
