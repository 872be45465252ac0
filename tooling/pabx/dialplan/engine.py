"""Runs a channel through a loaded dialplan the way main/pbx.c `__ast_pbx_run` does.

Each priority found is a `Step`; its data is substituted, then its application (apps.py) tells
the loop what comes next: the next priority, a jump already made, or a key the caller pressed.
A missing priority ends the extension as Asterisk does: an extension that does not exist goes
to `i` (then `e`, then hangup); running off the end of one hangs up (`autofallthrough`, with
busy or congestion according to DIALSTATUS), or waits for digits when autofallthrough is off.
Keys come from `EngineOptions.digits`, one per prompt; `.` lets a prompt time out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from pabx.dialplan.apps import run_application
from pabx.dialplan.channel import CONGESTION, USER_BUSY, Call, Channel, GosubFrame
from pabx.dialplan.config import Config
from pabx.dialplan.control import NEXT, Control, Digit, Finished, TraceError
from pabx.dialplan.expr import (
    ExpressionError,
    SubstitutionError,
    UnknownFunctionError,
    split_args,
    substitute,
)
from pabx.dialplan.extensions import Dialplan, Found
from pabx.dialplan.functions import read_function
from pabx.dialplan.pjsip import PjsipObjects
from pabx.dialplan.result import HangupInfo, Outcome, Step

TIMEOUT_KEY = "."  # in EngineOptions.digits: let one prompt time out


@dataclass(frozen=True)
class EngineOptions:
    digits: str = ""
    dial_statuses: tuple[str, ...] = ()
    queue_statuses: tuple[str, ...] = ()
    max_steps: int = 1000


class _ChannelScope:
    """Substitution scope of one channel: built-in names, channel variables, then globals."""

    def __init__(self, engine: Engine, channel: Channel) -> None:
        self.engine = engine
        self.channel = channel

    def variable(self, name: str) -> str | None:
        channel = self.channel
        builtin = {
            "EXTEN": channel.exten,
            "CONTEXT": channel.context,
            "PRIORITY": str(channel.priority),
            "CHANNEL": channel.name,
            "UNIQUEID": channel.uniqueid,
            "HANGUPCAUSE": str(channel.hangup_cause),
            "EPOCH": str(self.engine.call.epoch),
        }
        if name in builtin:
            return builtin[name]
        if name in channel.variables:
            return channel.variables[name]
        return self.engine.globals.get(name)

    def function(self, name: str, args: str) -> str | None:
        return read_function(self.engine, self.channel, name, args)


class Engine:
    """One trace: the dialplan and rendered config it runs on, the call's legs and what happened."""

    def __init__(
        self,
        dialplan: Dialplan,
        options: EngineOptions | None = None,
        *,
        pjsip: PjsipObjects | None = None,
        queues: Config | None = None,
        voicemail: Config | None = None,
    ) -> None:
        self.dialplan = dialplan
        self.options = options or EngineOptions()
        self.pjsip = pjsip
        self.queues = queues
        self.voicemail = voicemail
        self.call = Call()
        self.globals = dict(dialplan.globals)
        self.steps: list[Step] = []
        self.warnings: list[str] = []
        self.continued: list[Outcome] = []
        self.digits: deque[str] = deque(self.options.digits)
        self.dial_statuses: deque[str] = deque(self.options.dial_statuses)
        self.queue_statuses: deque[str] = deque(self.options.queue_statuses)
        self.current_step: Step | None = None
        self.labels: dict[int, str] = {}

    # ------------------------------------------------------------------ FunctionHost

    def substitute(self, channel: Channel, text: str) -> str:
        return substitute(text, _ChannelScope(self, channel))

    def warn(self, message: str) -> None:
        if self.current_step is not None:
            self.current_step.notes.append(f"warning: {message}")
        self.warnings.append(message)

    def note(self, message: str) -> None:
        if self.current_step is not None:
            self.current_step.notes.append(message)

    def extension_exists(self, context: str, exten: str | None, priority: str | None) -> bool:
        if exten is None:
            return context in self.dialplan.contexts
        if priority is None or not priority:
            return self.dialplan.exists(context, exten, 1)
        if priority.strip().lstrip("+-").isdigit():
            return self.dialplan.exists(context, exten, int(priority))
        return self.dialplan.find_label(context, exten, priority) is not None

    def global_variable(self, name: str) -> str | None:
        return self.globals.get(name)

    def set_global_variable(self, name: str, value: str) -> None:
        self.globals[name] = value

    def pjsip_option(self, object_type: str, name: str, option: str) -> str | None:
        if self.pjsip is None:
            self.warn(f"no pjsip.conf loaded: {object_type} '{name}' option '{option}' reads as empty")
            return None
        found = self.pjsip.get(object_type, name)
        return found.get(option) if found else None

    # ------------------------------------------------------------------ running

    def add_channel(self, channel: Channel, label: str) -> None:
        self.call.channels.append(channel)
        self.labels[id(channel)] = label

    def run(self, channel: Channel) -> Outcome:
        """Run `channel` from its current location until an outcome (always returns one)."""
        if id(channel) not in self.labels:
            self.add_channel(channel, "caller")
        try:
            self._loop(channel, return_depth=None)
        except Finished as finished:
            return finished.outcome
        except TraceError as error:
            return self.outcome(channel, "error", str(error), error=str(error))
        raise AssertionError("the dialplan loop ended without an outcome")  # pragma: no cover

    def run_subroutine(self, channel: Channel, target: str) -> None:
        """Gosub on `channel` and run until the matching Return (a pre-dial handler)."""
        depth = len(channel.stack)
        self.gosub(channel, target)
        try:
            self._loop(channel, return_depth=depth + 1)
        except Finished as finished:
            self.warn(f"subroutine {target} on {channel.name} did not return: {finished.outcome.reason}")

    def _loop(self, channel: Channel, return_depth: int | None) -> None:
        while True:
            if return_depth is not None and len(channel.stack) < return_depth:
                return
            if len(self.steps) >= self.options.max_steps:
                raise TraceError(
                    f"loop guard: more than {self.options.max_steps} steps (the dialplan seems to loop)"
                )
            found = self.dialplan.find(
                channel.context, channel.exten, channel.priority, callerid=channel.caller_num
            )
            if found is None:
                self._no_priority(channel)
                continue
            control = self._execute(channel, found)
            if isinstance(control, Digit):
                self.collect_extension(channel, control.key)
            elif control == NEXT:
                channel.priority += 1

    def _execute(self, channel: Channel, found: Found) -> Control:
        priority = found.priority
        step = Step(
            channel=self.labels.get(id(channel), channel.name),
            context=channel.context,
            exten=channel.exten,
            priority=priority.number,
            label=priority.label,
            app=priority.app,
            data=priority.data,
            substituted=None,
            file=str(priority.file),
            line=priority.line,
            matched=found.extension.name,
            defined_in=found.context.name,
        )
        self.steps.append(step)
        self.current_step = step
        self.record_cdr_location(channel)
        data = self.substitute_or_fail(channel, priority.data)
        step.substituted = data
        return run_application(self, channel, priority.app, data)

    @staticmethod
    def record_cdr_location(channel: Channel) -> None:
        """The CDR's dst/dcontext follow the channel, except inside a Gosub (cdr.c base_process_party_a).

        Each application publishes a channel snapshot; the CDR takes its context and extension
        unless AST_FLAG_SUBROUTINE_EXEC is set, which Gosub sets and Return restores. A Goto out of
        a subroutine keeps the flag: a call refused inside Gosub(pabx-out) keeps the dialed number.
        """
        if not channel.in_subroutine:
            channel.cdr_dst = channel.exten
            channel.cdr_dcontext = channel.context

    def substitute_or_fail(self, channel: Channel, text: str) -> str:
        try:
            return self.substitute(channel, text)
        except UnknownFunctionError as error:
            raise TraceError(str(error)) from error
        except (ExpressionError, SubstitutionError) as error:
            raise TraceError(f"cannot evaluate {text!r}: {error}") from error

    # ------------------------------------------------------------------ what __ast_pbx_run does between apps

    def _no_priority(self, channel: Channel) -> None:
        if not self.dialplan.exists(channel.context, channel.exten, 1, callerid=channel.caller_num):
            self.invalid_extension(channel, channel.exten)
            return
        where = f"'{channel.exten}' of [{channel.context}]"
        if not self.dialplan.autofallthrough:
            key = self.next_digit()
            if key is None:
                self.response_timeout(channel)
            else:
                self.collect_extension(channel, key)
            return
        status = channel.variables.get("DIALSTATUS", "")
        cause = channel.hangup_cause
        if status in ("CONGESTION", "CHANUNAVAIL") and not channel.answered:
            cause = CONGESTION
        elif status == "BUSY" and not channel.answered:
            cause = USER_BUSY
        channel.hangup_cause = cause
        raise Finished(
            self.outcome(
                channel,
                "hangup",
                f"no priority {channel.priority} in {where}: Asterisk hangs up (autofallthrough, DIALSTATUS={status or 'unset'})",
                hangup=HangupInfo(cause, "autofallthrough"),
            )
        )

    def invalid_extension(self, channel: Channel, dialed: str) -> None:
        """No such extension: `i`, else `e`, else hang up."""
        if self.dialplan.exists(channel.context, "i", 1, callerid=channel.caller_num):
            self.note(f"no extension '{dialed}' in [{channel.context}]: going to 'i'")
            channel.set_variable("INVALID_EXTEN", dialed)
            self.jump(channel, channel.context, "i", 1)
        elif self.dialplan.exists(channel.context, "e", 1, callerid=channel.caller_num):
            self.raise_exception(channel, "INVALID")
        else:
            raise Finished(
                self.outcome(
                    channel,
                    "hangup",
                    f"no extension '{dialed}' in [{channel.context}] and no 'i' or 'e' extension: Asterisk hangs up",
                    hangup=HangupInfo(channel.hangup_cause, "invalid-extension"),
                )
            )

    def response_timeout(self, channel: Channel) -> None:
        """No key pressed: `t`, else `e`, else hang up."""
        if self.dialplan.exists(channel.context, "t", 1, callerid=channel.caller_num):
            self.note(f"no key pressed: going to 't' of [{channel.context}]")
            self.jump(channel, channel.context, "t", 1)
        elif self.dialplan.exists(channel.context, "e", 1, callerid=channel.caller_num):
            self.raise_exception(channel, "RESPONSETIMEOUT")
        else:
            raise Finished(
                self.outcome(
                    channel,
                    "hangup",
                    f"no key pressed and no 't' or 'e' extension in [{channel.context}]: Asterisk hangs up",
                    hangup=HangupInfo(channel.hangup_cause, "timeout"),
                )
            )

    def raise_exception(self, channel: Channel, reason: str) -> None:
        self.note(f"exception {reason}: going to 'e' of [{channel.context}]")
        channel.exception = reason
        self.jump(channel, channel.context, "e", 1)

    def collect_extension(self, channel: Channel, first_key: str) -> None:
        """collect_digits: read keys while a longer extension could still match, then go there."""
        dialed = first_key
        while self.dialplan.match_more(channel.context, dialed, callerid=channel.caller_num):
            key = self.next_digit()
            if key is None:
                break
            dialed += key
        if self.dialplan.exists(channel.context, dialed, 1, callerid=channel.caller_num):
            self.note(f"caller dialed '{dialed}': going to '{dialed}' of [{channel.context}]")
            self.jump(channel, channel.context, dialed, 1)
        else:
            self.invalid_extension(channel, dialed)

    def next_digit(self) -> str | None:
        """The next key the caller presses at a prompt, or None when the prompt times out."""
        if not self.digits:
            return None
        key = self.digits.popleft()
        return None if key == TIMEOUT_KEY else key

    # ------------------------------------------------------------------ locations

    def jump(self, channel: Channel, context: str, exten: str, priority: int) -> None:
        channel.context = context
        channel.exten = exten
        channel.priority = priority

    def resolve_location(self, channel: Channel, target: str) -> tuple[str, str, int]:
        """pbx_parse_location: `[[context,]exten,]priority` with `+N`/`-N` and labels."""
        parts = target.split(",")
        if len(parts) == 1:
            context, exten, priority = "", "", parts[0]
        elif len(parts) == 2:
            context, exten, priority = "", parts[0], parts[1]
        else:
            context, exten, priority = parts[0], parts[1], parts[2]
        context = context or channel.context
        exten = exten or channel.exten
        mode = 0
        if priority.startswith("+"):
            mode, priority = 1, priority[1:]
        elif priority.startswith("-"):
            mode, priority = -1, priority[1:]
        stripped = priority.strip()
        if stripped.isdigit():
            number = int(stripped)
            if mode:
                number = channel.priority + number * mode
            return context, exten, number
        label = self.dialplan.find_label(context, exten, priority, callerid=channel.caller_num)
        if label is None:
            raise TraceError(
                f"no priority or label '{priority}' in '{exten}' of [{context}] (from {target!r})"
            )
        return context, exten, label

    def goto(self, channel: Channel, target: str) -> None:
        context, exten, priority = self.resolve_location(channel, target)
        if not self.dialplan.exists(context, exten, priority, callerid=channel.caller_num):
            self.warn(f"Goto target {context},{exten},{priority} does not exist")
        self.jump(channel, context, exten, priority)

    def gosub(self, channel: Channel, target: str) -> None:
        label, has_args, rest = target.partition("(")
        args: list[str] = []
        if has_args:
            closing = rest.rfind(")")
            args = split_args(rest[:closing] if closing >= 0 else rest, remove_chars=False)
        origin = (channel.context, channel.exten, channel.priority)
        context, exten, priority = self.resolve_location(channel, label)
        if not self.dialplan.exists(context, exten, priority, callerid=channel.caller_num):
            raise TraceError(f"Gosub to {context},{exten},{priority}, which does not exist")
        previous_count = int(channel.variables.get("ARGC", "0") or 0) if channel.stack else 0
        frame = GosubFrame(origin[0], origin[1], origin[2] + 1, in_subroutine=channel.in_subroutine)
        for index in range(max(len(args), previous_count)):
            name = f"ARG{index + 1}"
            frame.saved[name] = channel.variables.get(name)
            channel.set_variable(name, args[index] if index < len(args) else "")
        frame.saved["ARGC"] = channel.variables.get("ARGC")
        channel.set_variable("ARGC", str(len(args)))
        channel.stack.append(frame)
        channel.in_subroutine = True
        self.jump(channel, context, exten, priority)

    def gosub_return(self, channel: Channel, value: str) -> None:
        if not channel.stack:
            raise TraceError("Return without Gosub: the stack is empty")
        frame = channel.stack.pop()
        for name, saved in frame.saved.items():
            channel.set_variable(name, saved)
        channel.set_variable("GOSUB_RETVAL", value)
        channel.in_subroutine = frame.in_subroutine
        self.jump(channel, frame.context, frame.exten, frame.priority)

    # ------------------------------------------------------------------ outcomes

    def outcome(self, channel: Channel, kind: str, reason: str, **details: object) -> Outcome:
        outcome = Outcome(kind, reason, channel.context, channel.exten, channel.priority)
        for key, value in details.items():
            setattr(outcome, key, value)
        return outcome

    def finish(self, channel: Channel, kind: str, reason: str, **details: object) -> Finished:
        return Finished(self.outcome(channel, kind, reason, **details))
