"""Field-level history: who changed which tenant, number, route, plan or file, when, in which
commit and pull request. `history(root, selector, ...)` returns typed events; the CLI formats."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from pabx.audit.diff import RENAMED, Change
from pabx.audit.fields import FILE, NUMBER, TENANT, Entity, single_entity
from pabx.audit.index import AuditIndex
from pabx.errors import UserError


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    author_name: str
    author_email: str
    authored: dt.datetime
    committed: dt.datetime
    effective: dt.datetime  # when the change reached the ref (the merge, for a pull request's commits)
    pull_request: int | None
    subject: str
    merge: bool

    @property
    def short(self) -> str:
        return self.sha[:7]

    @property
    def author(self) -> str:
        return f"{self.author_name} <{self.author_email}>"


@dataclass(frozen=True)
class Event:
    """One commit and the changes it made to what was asked about."""

    commit: CommitInfo
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Selector:
    """What to follow: one entity of a kind (tenant, number, route, plan), a file, or everything."""

    kind: str | None = None
    key: str | None = None
    path: str | None = None

    @property
    def everything(self) -> bool:
        return self.kind is None and self.path is None


@dataclass
class History:
    events: list[Event]
    entities: list[Entity] = field(default_factory=list)  # what the selector resolved to, renames followed
    notes: list[str] = field(default_factory=list)  # e.g. what a shallow clone lacks


def _utc(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def commit_info(r: sqlite3.Row) -> CommitInfo:
    return CommitInfo(
        sha=r["sha"],
        author_name=r["author_name"],
        author_email=r["author_email"],
        authored=dt.datetime.fromisoformat(r["authored"]),
        committed=_utc(r["committed"]),
        effective=_utc(r["effective"]),
        pull_request=r["pr"],
        subject=r["subject"],
        merge=len(r["parents"].split()) > 1,
    )


def normalize_number(text: str) -> str:
    """'+55 (11) 3001-0000' -> '1130010000'."""
    digits = re.sub(r"\D", "", text)
    if len(digits) in (12, 13) and digits.startswith("55"):
        digits = digits[2:]
    if len(digits) in (11, 12) and digits.startswith("0"):
        digits = digits[1:]
    return digits


def resolve_tenant(index: AuditIndex, name: str) -> list[str]:
    """The tenant slugs `name` means: a slug, a tenant ID or a service code, at any time."""
    rows = index.query(
        "SELECT DISTINCT entity FROM changes WHERE kind = ? AND entity = ? "
        "UNION SELECT DISTINCT entity FROM changes WHERE kind = ? AND field IN ('id', 'service_code') "
        "AND after = ?",
        (TENANT, name, TENANT, name),
    )
    return sorted(r["entity"] for r in rows)


def lineage(index: AuditIndex, entity: Entity) -> list[tuple[Entity, int | None, int | None]]:
    """(entity, after seq, up to seq) windows of every name this entity had: its own history, its
    names before a rename into it (up to the rename) and after a rename away (from the rename)."""
    out: list[tuple[Entity, int | None, int | None]] = []
    seen: set[tuple[Entity, int | None, int | None]] = set()

    def visit(current: Entity, lo: int | None, hi: int | None) -> None:
        if (current, lo, hi) in seen or len(seen) > 100:
            return
        seen.add((current, lo, hi))
        out.append((current, lo, hi))
        rows = index.query(
            "SELECT seq, before, after FROM changes WHERE kind = ? AND action = ? AND field = '' "
            "AND (after = ? OR before = ?)",
            (current.kind, RENAMED, current.key, current.key),
        )
        for row in rows:
            seq = int(row["seq"])
            if (lo is not None and seq <= lo) or (hi is not None and seq > hi):
                continue
            if row["after"] == current.key and row["before"] != current.key:
                visit(Entity(current.kind, row["before"]), lo, seq - 1)
            elif row["before"] == current.key:
                visit(Entity(current.kind, row["after"]), seq - 1, hi)

    visit(entity, None, None)
    return out


_SELECT = (
    "SELECT c.seq, c.ord, c.path, c.kind, c.entity, c.field, c.action, c.before, c.after, "
    "m.sha, m.author_name, m.author_email, m.authored, m.committed, m.effective, m.pr, m.subject, "
    "m.parents, m.main_seq FROM changes c JOIN commits m ON m.seq = c.seq "
)


def _window(lo: int | None, hi: int | None) -> tuple[str, list[object]]:
    sql: str = ""
    params: list[object] = []
    if lo is not None:
        sql += " AND c.seq > ?"
        params.append(lo)
    if hi is not None:
        sql += " AND c.seq <= ?"
        params.append(hi)
    return sql, params


def _time_filter(since: dt.datetime | None, until: dt.datetime | None) -> tuple[str, list[object]]:
    sql: str = ""
    params: list[object] = []
    if since is not None:
        sql += " AND m.effective >= ?"
        params.append(int(since.timestamp()))
    if until is not None:
        sql += " AND m.effective <= ?"
        params.append(int(until.timestamp()))
    return sql, params


def _rows_for(
    index: AuditIndex, selector: Selector, since: dt.datetime | None, until: dt.datetime | None
) -> tuple[list[sqlite3.Row], list[Entity]]:
    timed, time_params = _time_filter(since, until)
    if selector.everything:
        return list(index.query(_SELECT + "WHERE 1 = 1" + timed, time_params)), []
    targets: list[Entity] = []
    path_rows: list[sqlite3.Row] = []
    if selector.path is not None:
        path = selector.path.removeprefix("./")
        single = single_entity(path)
        if single is not None and single.kind != FILE:
            targets.append(single)
        else:
            path_rows = list(
                index.query(
                    _SELECT + "WHERE (c.path = ? OR (c.action = 'moved' AND c.before = ?))" + timed,
                    [path, path, *time_params],
                )
            )
    elif selector.kind == TENANT:
        assert selector.key is not None
        slugs = resolve_tenant(index, selector.key)
        if not slugs:
            raise UserError(
                f"no tenant {selector.key!r} in the history of {index.ref} (slug, ID or service code)"
            )
        targets.extend(Entity(TENANT, slug) for slug in slugs)
    elif selector.kind is not None and selector.key is not None:
        key = normalize_number(selector.key) if selector.kind == NUMBER else selector.key
        targets.append(Entity(selector.kind, key))
    rows: list[sqlite3.Row] = list(path_rows)
    entities: list[Entity] = []
    for target in targets:
        for entity, lo, hi in lineage(index, target):
            if entity not in entities:
                entities.append(entity)
            window, window_params = _window(lo, hi)
            rows.extend(
                index.query(
                    _SELECT + "WHERE c.kind = ? AND c.entity = ?" + window + timed,
                    [entity.kind, entity.key, *window_params, *time_params],
                )
            )
            if entity.kind == TENANT:
                rows.extend(_ownership_rows(index, entity.key, window, window_params, timed, time_params))
    return rows, entities


def _ownership_rows(
    index: AuditIndex,
    slug: str,
    window: str,
    window_params: list[object],
    timed: str,
    time_params: list[object],
) -> list[sqlite3.Row]:
    """The changes of the numbers this tenant received or gave up, in the commits that did it."""
    owned = index.query(
        "SELECT DISTINCT c.seq, c.entity FROM changes c JOIN commits m ON m.seq = c.seq "
        "WHERE c.kind = ? AND c.field = 'owner' AND (c.before = ? OR c.after = ?)" + window + timed,
        [NUMBER, slug, slug, *window_params, *time_params],
    )
    out: list[sqlite3.Row] = []
    for row in owned:
        out.extend(
            index.query(
                _SELECT + "WHERE c.seq = ? AND c.kind = ? AND c.entity = ?",
                [row["seq"], NUMBER, row["entity"]],
            )
        )
    return out


def events_from_rows(rows: list[sqlite3.Row]) -> list[Event]:
    """Rows of the index grouped into events, in the order the changes reached the ref."""
    unique: dict[tuple[int, int], sqlite3.Row] = {}
    for row in rows:
        unique[(row["seq"], row["ord"])] = row
    ordered = sorted(unique.items(), key=lambda item: (item[1]["main_seq"], item[0]))
    events: list[Event] = []
    current: CommitInfo | None = None
    changes: list[Change] = []
    for _, row in ordered:
        r = row
        if current is None or current.sha != r["sha"]:
            if current is not None:
                events.append(Event(current, tuple(changes)))
            current, changes = commit_info(row), []
        changes.append(
            Change(
                r["path"],
                Entity(r["kind"], r["entity"]),
                r["field"],
                r["action"],
                r["before"],
                r["after"],
            )
        )
    if current is not None:
        events.append(Event(current, tuple(changes)))
    return events


def shallow_notes(index: AuditIndex) -> list[str]:
    """What a shallow clone lacks, said plainly (empty for a full clone)."""
    if not index.status.boundary:
        return []
    oldest = index.oldest()
    when = _utc(oldest["committed"]).date().isoformat() if oldest is not None else "its oldest commit"
    return [
        f"history before {when} is not in this clone (shallow): run git fetch --unshallow "
        "(in GitHub Actions: actions/checkout with fetch-depth: 0)"
    ]


def history(
    root: Path,
    selector: Selector = Selector(),
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    ref: str | None = None,
) -> History:
    """The field-level timeline of what `selector` names on `ref` (main by default)."""
    with AuditIndex(root, ref) as index:
        return history_from(index, selector, since=since, until=until)


def history_from(
    index: AuditIndex,
    selector: Selector = Selector(),
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> History:
    rows, entities = _rows_for(index, selector, since, until)
    return History(events_from_rows(rows), entities, shallow_notes(index))
