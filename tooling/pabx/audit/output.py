"""History as text, CSV, JSON or Markdown: one small class per format, the same method.

The CSV is the auditors' spreadsheet: pt-BR headers (Data, Autor, Commit, Pull request, Arquivo,
Entidade, Campo, Antes, Depois), `;` separated, UTF-8 with BOM so spreadsheet programs read the
accents; dates in the platform time zone.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from pabx.audit.clock import local
from pabx.audit.deploys import NOTES_REF
from pabx.audit.diff import CREATED, DELETED, MOVED, RENAMED, UNREADABLE, Change
from pabx.audit.fields import AVAILABLE, KIND_LABELS, NULL, NUMBER, Fields
from pabx.audit.history import CommitInfo, Event, History

if TYPE_CHECKING:
    from pabx.audit.pointintime import PointInTime

HEADERS = ("Data", "Autor", "Commit", "Pull request", "Arquivo", "Entidade", "Campo", "Antes", "Depois")
ACTION_LABELS = {
    CREATED: "criado",
    DELETED: "removido",
    RENAMED: "renomeado",
    MOVED: "movido",
    UNREADABLE: "ilegível",
}


@dataclass(frozen=True)
class Row:
    """One line of the audit spreadsheet."""

    date: str
    author: str
    commit: str
    pull_request: str
    path: str
    entity: str
    field: str
    before: str
    after: str

    def cells(self) -> tuple[str, ...]:
        return (
            self.date,
            self.author,
            self.commit,
            self.pull_request,
            self.path,
            self.entity,
            self.field,
            self.before,
            self.after,
        )


def entity_label(change: Change) -> str:
    return f"{KIND_LABELS.get(change.entity.kind, change.entity.kind)} {change.entity.key}"


def rows(events: Sequence[Event], tz: ZoneInfo) -> list[Row]:
    out: list[Row] = []
    for event in events:
        commit = event.commit
        pr = f"#{commit.pull_request}" if commit.pull_request is not None else ""
        for change in event.changes:
            if change.field:
                name = change.field
                before, after = change.before, change.after
            else:
                name = f"({ACTION_LABELS.get(change.action, change.action)})"
                before, after = change.before, change.after
            out.append(
                Row(
                    local(commit.effective, tz),
                    commit.author,
                    commit.short,
                    pr,
                    change.path,
                    entity_label(change),
                    name,
                    "" if before is None else before,
                    "" if after is None else after,
                )
            )
    return out


class Output:
    name: ClassVar[str]

    def render(self, history: History, tz: ZoneInfo) -> str:
        raise NotImplementedError


class TextOutput(Output):
    name = "text"

    def render(self, history: History, tz: ZoneInfo) -> str:
        lines: list[str] = [f"note: {note}" for note in history.notes]
        if not history.events:
            lines.append("no changes found")
        for event in history.events:
            c = event.commit
            head = [local(c.effective, tz), c.short, c.author]
            if c.pull_request is not None:
                head.append(f"PR #{c.pull_request}")
            head.append(c.subject)
            lines.append("  ".join(head))
            current: tuple[str, str] | None = None
            for change in event.changes:
                where = (entity_label(change), change.path)
                if where != current:
                    current = where
                    lines.append(f"  {where[0]} ({where[1]})")
                lines.append("    " + _text_change(change))
        return "\n".join(lines) + "\n"


def _text_change(change: Change) -> str:
    before = NULL if change.before is None else change.before
    after = NULL if change.after is None else change.after
    if not change.field:
        if change.action == RENAMED:
            return f"renomeado: {before} → {after}"
        if change.action == MOVED:
            return f"movido: {before} → {after}"
        if change.action == UNREADABLE:
            return f"arquivo ilegível (YAML inválido): {after}"
        return ACTION_LABELS.get(change.action, change.action)
    if change.action == CREATED and change.before is None:
        return f"+ {change.field}: {after}"
    if change.action == DELETED and change.after is None:
        return f"- {change.field}: {before}"
    return f"{change.field}: {before} → {after}"


class CsvOutput(Output):
    name = "csv"

    def render(self, history: History, tz: ZoneInfo) -> str:
        return to_csv(rows(history.events, tz))


class MarkdownOutput(Output):
    name = "markdown"

    def render(self, history: History, tz: ZoneInfo) -> str:
        notes = "".join(f"> {note}\n\n" for note in history.notes)
        return notes + to_markdown(rows(history.events, tz))


class JsonOutput(Output):
    name = "json"

    def render(self, history: History, tz: ZoneInfo) -> str:
        return json.dumps(history_json(history, tz), ensure_ascii=False, indent=2) + "\n"


def history_json(history: History, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "timezone": str(tz.key),
        "notes": history.notes,
        "entities": [{"kind": e.kind, "key": e.key} for e in history.entities],
        "events": [
            {
                "commit": e.commit.sha,
                "short": e.commit.short,
                "author": {"name": e.commit.author_name, "email": e.commit.author_email},
                "date": e.commit.effective.astimezone(tz).isoformat(),
                "authored": e.commit.authored.isoformat(),
                "committed": e.commit.committed.astimezone(tz).isoformat(),
                "pull_request": e.commit.pull_request,
                "subject": e.commit.subject,
                "changes": [
                    {
                        "path": c.path,
                        "kind": c.entity.kind,
                        "entity": c.entity.key,
                        "field": c.field,
                        "action": c.action,
                        "before": c.before,
                        "after": c.after,
                    }
                    for c in e.changes
                ],
            }
            for e in history.events
        ],
    }


OUTPUTS: dict[str, Output] = {o.name: o for o in (TextOutput(), CsvOutput(), JsonOutput(), MarkdownOutput())}


def to_csv(items: Sequence[Row]) -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADERS)
    for row in items:
        writer.writerow(_spreadsheet_safe(cell) for cell in row.cells())
    return buffer.getvalue()


def _spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @ first) is kept as text."""
    if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(cell):
        return "'" + cell
    return cell


def _is_number(cell: str) -> bool:
    try:
        float(cell.replace(",", "."))
        return True
    except ValueError:
        return False


def _md(cell: str) -> str:
    return cell.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ") or " "


def to_markdown(items: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for row in items:
        lines.append("| " + " | ".join(_md(cell) for cell in row.cells()) + " |")
    return "\n".join(lines) + "\n"


# --- point in time ----------------------------------------------------------------------------

NUMBER_LABELS = {
    "owner": "Proprietário",
    "route": "Rota",
    "destination": "Destino",
    "reverse_billing": "Tarifação reversa",
    "description": "Descrição",
}


def _record_lines(kind: str, fields: Fields, indent: str, *, whole: bool = True) -> list[str]:
    if kind == NUMBER:
        shown = dict(fields)
        if whole:
            shown.setdefault("owner", AVAILABLE)
        ordered = [k for k in NUMBER_LABELS if k in shown] + [k for k in shown if k not in NUMBER_LABELS]
        return [f"{indent}{NUMBER_LABELS.get(k, k)}: {shown[k]}" for k in ordered]
    return [f"{indent}{k}: {v}" for k, v in fields.items()]


def _commit_line(commit: CommitInfo, tz: ZoneInfo) -> str:
    pr = f", PR #{commit.pull_request}" if commit.pull_request is not None else ""
    return f"{commit.short} ({local(commit.effective, tz)}, {commit.author}{pr}, {commit.subject!r})"


def point_in_time_text(pit: PointInTime, tz: ZoneInfo) -> str:
    lines = [f"{pit.entity.label} at {local(pit.when, tz)} ({tz.key})"]
    lines.append(f"{pit.ref} then: {_commit_line(pit.main, tz)}")
    if pit.fields is not None:
        lines.extend(_record_lines(pit.entity.kind, pit.fields, "  "))
        where = f"  file: {pit.path}"
        if pit.last_change is not None:
            last = pit.last_change
            where += f"; last changed by {last.short} on {local(last.effective, tz)}, {last.author}"
            if last.pull_request is not None:
                where += f", PR #{last.pull_request}"
        lines.append(where)
    lines.extend(f"note: {note}" for note in pit.notes)
    if pit.servers:
        lines.append(f"Live on each server then (deploy records, {NOTES_REF}):")
    for live in pit.servers:
        record = live.record
        serves = ""
        if live.server == pit.serving:
            who = pit.entity.key if pit.entity.kind != NUMBER else (pit.fields or {}).get("owner")
            serves = f" (serves {who})"
        text = f"  {live.server}{serves}: {record.revision[:7]}, applied {local(record.time, tz)} by {record.actor}: "
        if live.same_as_main:
            text += f"same as {pit.ref}"
        else:
            text += f"differs from {pit.ref}"
            if live.behind is not None:
                text += f" ({live.behind} commit{'s' if live.behind != 1 else ''} behind)"
            if live.note:
                text += f"; {live.note}"
            elif live.differs is False:
                text += f"; {pit.entity.label} was the same there"
            elif live.fields is None:
                text += f"; {pit.entity.label} did not exist there"
            else:
                text += f"; {pit.entity.label} there:"
        lines.append(text)
        if not live.same_as_main and live.differs and live.fields is not None:
            changed = {k: v for k, v in live.fields.items() if pit.fields is None or pit.fields.get(k) != v}
            gone = [k for k in (pit.fields or {}) if k not in live.fields]
            lines.extend(_record_lines(pit.entity.kind, changed, "      ", whole=False))
            lines.extend(f"      {NUMBER_LABELS.get(k, k)}: {NULL}" for k in gone)
    return "\n".join(lines) + "\n"


def point_in_time_json(pit: PointInTime, tz: ZoneInfo) -> str:
    def commit(c: CommitInfo | None) -> dict[str, Any] | None:
        if c is None:
            return None
        return {
            "commit": c.sha,
            "author": {"name": c.author_name, "email": c.author_email},
            "date": c.effective.astimezone(tz).isoformat(),
            "pull_request": c.pull_request,
            "subject": c.subject,
        }

    data = {
        "when": pit.when.astimezone(tz).isoformat(),
        "timezone": str(tz.key),
        "ref": pit.ref,
        "kind": pit.entity.kind,
        "entity": pit.entity.key,
        "main": commit(pit.main),
        "path": pit.path,
        "record": pit.fields,
        "last_change": commit(pit.last_change),
        "serving_server": pit.serving,
        "servers": [
            {
                "server": s.server,
                "revision": s.record.revision,
                "applied": s.record.time.astimezone(tz).isoformat(),
                "actor": s.record.actor,
                "release": s.record.release,
                "same_as_main": s.same_as_main,
                "behind": s.behind,
                "record_differs": s.differs,
                "record": s.fields if not s.same_as_main else None,
                "note": s.note,
            }
            for s in pit.servers
        ],
        "notes": pit.notes,
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
