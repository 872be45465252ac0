"""The plan as data: typed semantic changes, per-server file changes and reloads, gates, checksum."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

PLAN_FORMAT_VERSION = 1


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class FieldChange:
    """One field of an entity, old -> new (JSON values; None when absent). Never a secret."""

    field: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class Change:
    """One semantic change: what an entity of the repository becomes, by meaning.

    `kind` is tenant, extension, queue, ivr, number, route, plan, trunk, server or platform;
    `id` names the entity (`tenant:acme`, `extension:acme/2001`, `number:1130001000`);
    `event` says what happened in a word the gates and outputs use (created, removed, status,
    moved, assigned, released, ...); `servers` are the servers whose configuration it touches and
    `tenants` the tenants it concerns (a number's old and new owners).
    """

    kind: str
    action: Action
    id: str
    file: str
    event: str
    summary: str
    fields: tuple[FieldChange, ...] = ()
    servers: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "action": str(self.action),
            "id": self.id,
            "file": self.file,
            "event": self.event,
            "summary": self.summary,
            "fields": [f.to_json() for f in self.fields],
            "servers": list(self.servers),
            "tenants": list(self.tenants),
        }


@dataclass(frozen=True)
class Gate:
    """A destructive or risky change that blocks the apply unless explicitly allowed."""

    kind: str  # tenant-removed, number-removed, number-moved, class-opened, mass-change
    id: str
    reason: str
    file: str = ""
    servers: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "reason": self.reason,
            "file": self.file,
            "servers": list(self.servers),
        }


@dataclass(frozen=True)
class FileChange:
    """One rendered file of a server (path relative to build/<server>/), masked."""

    path: str
    action: Action
    diff: str

    def to_json(self) -> dict[str, Any]:
        return {"action": str(self.action), "diff": self.diff}


@dataclass
class ServerPlan:
    """What one server needs: its changed files, the targeted reloads, whether it must restart."""

    name: str
    base_revision: str | None
    files: dict[str, FileChange] = field(default_factory=dict)
    reloads: list[str] = field(default_factory=list)
    restart_required: bool = False
    restart_reasons: list[str] = field(default_factory=list)
    base_digest: str | None = None  # identity of the masked base render (None: not rendered)
    head_digest: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "base_revision": self.base_revision,
            "changed": self.changed,
            "base_digest": self.base_digest,
            "head_digest": self.head_digest,
            "reloads": list(self.reloads),
            "restart_required": self.restart_required,
            "restart_reasons": list(self.restart_reasons),
            "files": {path: fc.to_json() for path, fc in sorted(self.files.items())},
        }

    def checksum_body(self) -> dict[str, Any]:
        """What the checksum covers: an unchanged server contributes only that it is unchanged."""
        if not self.changed:
            return {"changed": False}
        body = self.to_json()
        body.pop("base_revision")  # content, not commit ids: the PR's head and the merge agree
        return body


@dataclass
class Plan:
    """The whole plan: gates first, semantic changes, then per-server files and reloads."""

    base: str
    head_revision: str
    base_revisions: dict[str, str | None]
    changes: list[Change]
    gates: list[Gate]
    servers: dict[str, ServerPlan]
    allow_destructive: bool = False
    threshold: float = 0.2
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    edge: Any = None  # pabx.edge.plan.EdgePlan when the inventory has a SIP edge

    @property
    def edge_changed(self) -> bool:
        return bool(self.edge is not None and self.edge.changed)

    @property
    def blocked(self) -> bool:
        """Gates present and not allowed: apply refuses."""
        return bool(self.gates) and not self.allow_destructive

    @property
    def is_empty(self) -> bool:
        return (
            not self.changes and not any(s.changed for s in self.servers.values()) and not self.edge_changed
        )

    @property
    def changed_servers(self) -> list[str]:
        return [name for name, s in self.servers.items() if s.changed]

    def counts(self) -> dict[str, int]:
        out = {str(a): 0 for a in Action}
        for change in self.changes:
            out[str(change.action)] += 1
        return out

    def checksum_body(self) -> dict[str, Any]:
        body = {
            "version": PLAN_FORMAT_VERSION,
            "changes": [c.to_json() for c in self.changes],
            "gates": [g.to_json() for g in self.gates],
            "servers": {name: s.checksum_body() for name, s in sorted(self.servers.items())},
        }
        if self.edge_changed:  # a fleet without an edge keeps the checksums it had
            body["edge"] = self.edge.to_json()
        return body

    @property
    def checksum(self) -> str:
        """sha256 of the canonical JSON of what the plan does (not of when or from which commit)."""
        canonical = json.dumps(
            self.checksum_body(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "version": PLAN_FORMAT_VERSION,
            "checksum": self.checksum,
            "base": self.base,
            "head_revision": self.head_revision,
            "base_revisions": dict(sorted(self.base_revisions.items())),
            "allow_destructive": self.allow_destructive,
            "blocked": self.blocked,
            "threshold": self.threshold,
            "empty": self.is_empty,
            "summary": {
                "changes": self.counts(),
                "gates": len(self.gates),
                "servers_changed": len(self.changed_servers),
                "files_changed": sum(len(s.files) for s in self.servers.values()),
            },
            "gates": [g.to_json() for g in self.gates],
            "changes": [c.to_json() for c in self.changes],
            "servers": {name: s.to_json() for name, s in sorted(self.servers.items())},
            "edge": self.edge.to_json() if self.edge is not None else None,  # None: the fleet has no edge
        }
