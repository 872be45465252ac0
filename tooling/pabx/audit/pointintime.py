"""Point in time: a number's or tenant's record as of main at a moment, and what each server ran.

"As of main at T" is the commit of the ref's first-parent chain that was current at T (by
committer date). "Live on a server at T" is the revision of its latest successful deploy record
(refs/notes/pabx-deploy) not after T; when that is not main's commit, the record as that
revision had it is shown too.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import git

from pabx.audit import parts
from pabx.audit.deploys import NOTES_REF, DeployRecord, live_at, read_records
from pabx.audit.diff import extract
from pabx.audit.fields import NUMBER, TENANT, Entity, Fields, number_fields
from pabx.audit.history import CommitInfo, commit_info, lineage, normalize_number, resolve_tenant
from pabx.audit.index import AuditIndex
from pabx.errors import UserError


@dataclass(frozen=True)
class LiveServer:
    """What one server ran at the moment asked about."""

    server: str
    record: DeployRecord
    same_as_main: bool
    behind: int | None  # first-parent commits of main after the live revision (None: not on main's chain)
    fields: Fields | None  # the record as the live revision had it (when it differs from main)
    differs: bool | None  # the record differs between the live revision and main (None: unknown)
    note: str | None = None


@dataclass
class PointInTime:
    when: dt.datetime
    ref: str
    entity: Entity
    main: CommitInfo
    path: str | None
    fields: Fields | None  # None: the entity did not exist on main then
    last_change: CommitInfo | None
    serving: str | None  # the server of the tenant (of the number's owner) then
    servers: list[LiveServer] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _blob_text(index: AuditIndex, commit: str, path: str) -> str | None:
    try:
        item = index.repo.commit(commit).tree / f"{index.prefix}{path}"
    except (KeyError, ValueError, git.BadName):
        return None
    if item.type != "blob":
        return None
    return index.blobs.text(item.hexsha)


def _number_in(text: str, path: str, number: str) -> Fields | None:
    """The entry of `number` in a numbers file, parsing only the parts that mention it."""
    doc = parts.split(text)
    if doc is not None and doc.shape == parts.SEQ:
        try:
            for part in doc.parts:
                if number in part.text:
                    key, fields = number_fields(part.value)
                    if key == number:
                        return fields
            return None
        except parts.NotSplittable:
            pass
    try:
        return extract(path, text).get(Entity(NUMBER, number))
    except parts.Unreadable:
        return None


def _number_paths(index: AuditIndex, number: str) -> list[str]:
    paths = [f"numbers/{number[:2]}.yaml"]
    for row in index.query(
        "SELECT DISTINCT path FROM changes WHERE kind = ? AND entity = ?", (NUMBER, number)
    ):
        if row["path"] not in paths:
            paths.append(row["path"])
    return paths


def _number_at(index: AuditIndex, commit: str, number: str) -> tuple[str | None, Fields | None]:
    for path in _number_paths(index, number):
        text = _blob_text(index, commit, path)
        if text is not None:
            found = _number_in(text, path, number)
            if found is not None:
                return path, found
    return None, None


def _tenant_at(index: AuditIndex, commit: str, names: list[str]) -> tuple[str | None, Fields | None]:
    """The first of the tenant's names (its slugs over time) with a file at `commit`."""
    for slug in names:
        path = f"tenants/{slug}.yaml"
        text = _blob_text(index, commit, path)
        if text is None:
            continue
        try:
            fields = extract(path, text).get(Entity(TENANT, slug))
        except parts.Unreadable:
            continue
        if fields is not None:
            return path, fields
    return None, None


def _tenant_names(index: AuditIndex, asked: str) -> list[str]:
    """Every slug the tenant had (the asked one first), renames followed both ways."""
    names: list[str] = []
    for slug in resolve_tenant(index, asked) or [asked]:
        for entity, _, _ in lineage(index, Entity(TENANT, slug)):
            if entity.key not in names:
                names.append(entity.key)
    if asked in names:
        names.remove(asked)
        names.insert(0, asked)
    return names


def _record_at(
    index: AuditIndex, entity: Entity, commit: str, names: list[str]
) -> tuple[str | None, Fields | None]:
    if entity.kind == NUMBER:
        return _number_at(index, commit, entity.key)
    return _tenant_at(index, commit, names)


def _last_change(index: AuditIndex, entities: list[str], kind: str, main_seq: int) -> CommitInfo | None:
    marks = ",".join("?" * len(entities))
    row = index.query(
        "SELECT m.* FROM changes c JOIN commits m ON m.seq = c.seq "
        f"WHERE c.kind = ? AND c.entity IN ({marks}) AND m.main_seq <= ? "
        "ORDER BY m.main_seq DESC, m.seq DESC LIMIT 1",
        (kind, *entities, main_seq),
    )
    return commit_info(row[0]) if row else None


def _chain_position(index: AuditIndex, sha: str) -> sqlite3.Row | None:
    rows = index.query("SELECT * FROM commits WHERE sha LIKE ? AND first_parent = 1", (sha + "%",))
    return rows[0] if len(rows) == 1 else None


def point_in_time(
    root: Path,
    when: dt.datetime,
    *,
    number: str | None = None,
    tenant: str | None = None,
    ref: str | None = None,
) -> PointInTime:
    """The record of `number` or `tenant` as of main at `when`, and what each server ran then."""
    if (number is None) == (tenant is None):
        raise UserError("ask about one thing: --number N or --tenant T")
    if when.tzinfo is None:
        raise UserError("a time needs its zone")
    with AuditIndex(root, ref) as index:
        main_row = index.main_at(when)
        if main_row is None:
            oldest = index.oldest()
            if index.status.boundary and oldest is not None:
                first = dt.datetime.fromtimestamp(oldest["committed"], dt.UTC).date().isoformat()
                raise UserError(
                    f"history before {first} is not in this clone (shallow): run git fetch --unshallow "
                    "(in GitHub Actions: actions/checkout with fetch-depth: 0)"
                )
            raise UserError(f"{index.ref} had no commit yet at {when.isoformat()}")
        main = commit_info(main_row)
        if number is not None:
            entity = Entity(NUMBER, normalize_number(number))
            names = [entity.key]
        else:
            assert tenant is not None
            names = _tenant_names(index, tenant)
            entity = Entity(TENANT, names[0])
        path, fields = _record_at(index, entity, main.sha, names)
        if entity.kind == TENANT and path is not None:
            entity = Entity(TENANT, Path(path).stem)
        result = PointInTime(
            when=when,
            ref=index.ref,
            entity=entity,
            main=main,
            path=path,
            fields=fields,
            last_change=_last_change(index, names, entity.kind, int(main_row["main_seq"])),
            serving=_serving(index, main.sha, entity, fields),
        )
        if fields is None:
            result.notes.append(f"{entity.label} did not exist on {index.ref} at that time")
        records, bad = read_records(index.repo)
        if bad:
            result.notes.append(f"{bad} line(s) of the deploy records ({NOTES_REF}) are not records: ignored")
        if not records:
            result.notes.append(
                f"no deploy records ({NOTES_REF}) in this clone: fetch them with "
                f"git fetch origin {NOTES_REF}:{NOTES_REF}"
            )
        for record in live_at(records, when).values():
            result.servers.append(_live(index, record, main_row, entity, names, fields))
        return result


def _serving(index: AuditIndex, commit: str, entity: Entity, fields: Fields | None) -> str | None:
    if fields is None:
        return None
    if entity.kind == TENANT:
        return fields.get("server")
    owner = fields.get("owner")
    if not owner or owner == "Disponível":
        return None
    _, tenant = _tenant_at(index, commit, [owner])
    return tenant.get("server") if tenant else None


def _live(
    index: AuditIndex,
    record: DeployRecord,
    main_row: sqlite3.Row,
    entity: Entity,
    names: list[str],
    fields: Fields | None,
) -> LiveServer:
    main_sha: str = main_row["sha"]
    revision = record.revision.removesuffix("-dirty")
    if main_sha.startswith(revision) and len(revision) >= 7:
        return LiveServer(record.server, record, True, 0, None, False)
    position = _chain_position(index, revision)
    behind = int(main_row["main_seq"]) - int(position["main_seq"]) if position is not None else None
    try:
        full = index.repo.commit(revision).hexsha
    except (git.BadName, ValueError, git.BadObject):
        note = f"revision {revision[:12]} is not in this clone (fetch it, or --unshallow)"
        return LiveServer(record.server, record, False, behind, None, None, note)
    _, live_fields = _record_at(index, entity, full, names)
    return LiveServer(record.server, record, False, behind, live_fields, live_fields != fields)
