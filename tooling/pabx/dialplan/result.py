"""What a trace returns: the steps visited and the outcome, with a stable JSON shape.

Every key of the JSON is always present (null or empty when it does not apply), so consumers
can rely on `result.dial.targets[0].number` without probing. Shape:

    {"steps": [{"channel", "context", "exten", "priority", "label", "app", "data",
                "substituted", "file", "line", "matched", "defined_in", "notes"}],
     "result": {"kind": "dial"|"queue"|"voicemail"|"hangup"|"error", "reason", "at",
                "dial", "queue", "voicemail", "hangup", "error", "answered", "callerid", "cdr",
                "groups", "headers", "continued", "warnings"}}

`answered`: the caller's channel was answered by the dialplan itself (Answer, Playback,
Background, VoiceMail...) before the outcome, so the caller got a 200 whatever the hangup cause.
`cdr.dst`/`cdr.dcontext`: the CDR's last extension and context, which do not move inside a Gosub.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pabx.dialplan.channel import CAUSES

OUTCOME_KINDS = ("dial", "queue", "voicemail", "hangup", "error")


@dataclass
class Step:
    """One priority executed (or attempted) on one channel."""

    channel: str
    context: str
    exten: str
    priority: int
    label: str | None
    app: str
    data: str
    substituted: str | None
    file: str
    line: int
    matched: str
    defined_in: str
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "context": self.context,
            "exten": self.exten,
            "priority": self.priority,
            "label": self.label,
            "app": self.app,
            "data": self.data,
            "substituted": self.substituted,
            "file": self.file,
            "line": self.line,
            "matched": self.matched,
            "defined_in": self.defined_in,
            "notes": list(self.notes),
        }


@dataclass
class DialTarget:
    """One destination of a Dial: `PJSIP/acme_2001` or `PJSIP/5511999998888@trunk_vivo-sp`."""

    technology: str
    resource: str
    endpoint: str | None
    number: str | None
    endpoint_defined: bool | None
    accountcode: str = ""
    peeraccount: str = ""
    callerid_num: str = ""
    callerid_name: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "technology": self.technology,
            "resource": self.resource,
            "endpoint": self.endpoint,
            "number": self.number,
            "endpoint_defined": self.endpoint_defined,
            "accountcode": self.accountcode,
            "peeraccount": self.peeraccount,
            "callerid": {"num": self.callerid_num, "name": self.callerid_name},
            "headers": [{"name": name, "value": value} for name, value in self.headers],
        }


@dataclass
class DialInfo:
    targets: list[DialTarget]
    timeout: str | None
    options: str
    option_args: dict[str, str | None]
    status: str | None = None  # the DIALSTATUS assumed when the trace went on past this Dial

    def to_json(self) -> dict[str, Any]:
        return {
            "targets": [target.to_json() for target in self.targets],
            "timeout": self.timeout,
            "options": self.options,
            "option_args": dict(sorted(self.option_args.items())),
            "status": self.status,
        }


@dataclass
class QueueInfo:
    name: str
    options: str
    timeout: str | None
    defined: bool | None
    strategy: str | None
    members: list[str]
    status: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "options": self.options,
            "timeout": self.timeout,
            "defined": self.defined,
            "strategy": self.strategy,
            "members": list(self.members),
            "status": self.status,
        }


@dataclass
class Mailbox:
    mailbox: str
    context: str
    defined: bool | None

    def to_json(self) -> dict[str, Any]:
        return {"mailbox": self.mailbox, "context": self.context, "defined": self.defined}


@dataclass
class VoicemailInfo:
    mailboxes: list[Mailbox]
    options: str

    def to_json(self) -> dict[str, Any]:
        return {"mailboxes": [box.to_json() for box in self.mailboxes], "options": self.options}


@dataclass
class HangupInfo:
    cause: int
    source: str  # the application, "autofallthrough", "invalid-extension", "rejected"...

    def to_json(self) -> dict[str, Any]:
        return {"cause": self.cause, "cause_name": CAUSES.get(self.cause, "UNKNOWN"), "source": self.source}


@dataclass
class Outcome:
    """How the traced call ended (or, in `continued`, an earlier Dial/Queue it went past)."""

    kind: str
    reason: str
    context: str
    exten: str
    priority: int
    dial: DialInfo | None = None
    queue: QueueInfo | None = None
    voicemail: VoicemailInfo | None = None
    hangup: HangupInfo | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "at": {"context": self.context, "exten": self.exten, "priority": self.priority},
            "dial": self.dial.to_json() if self.dial else None,
            "queue": self.queue.to_json() if self.queue else None,
            "voicemail": self.voicemail.to_json() if self.voicemail else None,
            "hangup": self.hangup.to_json() if self.hangup else None,
            "error": self.error,
        }


@dataclass
class TraceResult:
    steps: list[Step]
    outcome: Outcome
    callerid_num: str
    callerid_name: str
    accountcode: str
    peeraccount: str
    userfield: str
    amaflags: str
    cdr_variables: dict[str, str]
    groups: list[str]
    headers: list[tuple[str, str]]
    continued: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    answered: bool = False
    dst: str = ""
    dcontext: str = ""

    @property
    def kind(self) -> str:
        return self.outcome.kind

    def to_json(self) -> dict[str, Any]:
        result = self.outcome.to_json()
        result.update(
            {
                "answered": self.answered,
                "callerid": {"num": self.callerid_num, "name": self.callerid_name},
                "cdr": {
                    "dst": self.dst,
                    "dcontext": self.dcontext,
                    "accountcode": self.accountcode,
                    "peeraccount": self.peeraccount,
                    "userfield": self.userfield,
                    "amaflags": self.amaflags,
                    "variables": dict(sorted(self.cdr_variables.items())),
                },
                "groups": list(self.groups),
                "headers": [{"name": name, "value": value} for name, value in self.headers],
                "continued": [outcome.to_json() for outcome in self.continued],
                "warnings": list(self.warnings),
            }
        )
        return {"steps": [step.to_json() for step in self.steps], "result": result}

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2)

    def format_text(self) -> str:
        """A readable trace: one line per step (notes indented), then the outcome and the CDR."""
        lines: list[str] = []
        for step in self.steps:
            where = f"{step.context},{step.exten},{step.priority}"
            label = f"({step.label})" if step.label else ""
            via = f" [{step.matched} in {step.defined_in}]" if step.defined_in != step.context else ""
            who = "" if step.channel == "caller" else f"  <{step.channel}>"
            lines.append(f"{where}{label} {step.app}({step.substituted}){via}  {step.file}:{step.line}{who}")
            lines.extend(f"    {note}" for note in step.notes)
        for earlier in self.continued:
            lines.append(f"went on past: {earlier.reason}")
        lines.append(f"=> {self.outcome.kind}: {self.outcome.reason}")
        outcome = self.outcome
        if outcome.dial is not None:
            for target in outcome.dial.targets:
                number = f" number {target.number}" if target.number else ""
                lines.append(
                    f"   {target.technology}/{target.resource}: endpoint {target.endpoint}{number}, "
                    f'caller ID "{target.callerid_name}" <{target.callerid_num}>, accountcode {target.accountcode!r}'
                )
        if outcome.queue is not None:
            lines.append(
                f"   queue {outcome.queue.name} ({outcome.queue.strategy}): {', '.join(outcome.queue.members)}"
            )
        if outcome.voicemail is not None:
            boxes = ", ".join(f"{box.mailbox}@{box.context}" for box in outcome.voicemail.mailboxes)
            lines.append(f"   mailbox {boxes}")
        if outcome.hangup is not None:
            hangup = outcome.hangup.to_json()
            lines.append(f"   cause {hangup['cause']} {hangup['cause_name']} ({hangup['source']})")
        lines.append(
            f'   caller ID "{self.callerid_name}" <{self.callerid_num}>; CDR dst {self.dst}@{self.dcontext}, '
            f"accountcode {self.accountcode!r}, userfield {self.userfield!r}; groups {', '.join(self.groups) or '-'}"
        )
        lines.extend(f"   warning: {warning}" for warning in self.warnings)
        return "\n".join(lines)
