"""The tracer against recordings of a real Asterisk 22 running the fixture dialplans (tests/fixtures/asterisk/).

- `dialplan-show.txt`: `dialplan show <context>`, which lists extensions in match order with
  their priorities, labels and file:line; compared with our loader and `ext_cmp` order.
- `ordering-matches.txt`: which extension Asterisk ran for each number (a Local channel).
- `flow-executions.txt`, `ivr-executions.txt`: every `Executing [...]` line of whole calls,
  the IVR ones with DTMF sent into the call; compared step by step with our traces.
- `sip-calls.txt`: real INVITEs (SIPp) from a phone and a trunk into the server fixture
  `dialplan/pbx`: the lines executed, how the call ended, and its CDR row.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pabx.dialplan.config import parse_config
from pabx.dialplan.extensions import HINT, Dialplan, load_dialplan
from pabx.dialplan.result import TraceResult
from pabx.dialplan.trace import CallSetup, load_rendered, trace_call

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED = FIXTURES / "asterisk"
DIALPLANS = FIXTURES / "dialplan"

PRIORITY = r"(?:\[(?P<label>[^\]]+)\]\s+)?(?:(?P<priority>\d+)\. |hint: )(?P<call>.*?)\s+\[(?P<file>[^:\]]+):(?P<line>\d+)\]$"
ENTRY = re.compile(r"^  '(?P<name>[^']*)'(?: \(CID match '(?P<cid>[^']*)'\))? =>\s+" + PRIORITY)
CONTINUATION = re.compile(r"^\s+" + PRIORITY)
INCLUDE = re.compile(r"^  Include =>\s+'(?P<context>[^']+)'")
SUMMARY = re.compile(
    r"^-= (?P<extensions>\d+) extensions? \((?P<priorities>\d+) priorit(?:y|ies)\) in 1 context\. =-$"
)
EXECUTING = re.compile(
    r'^Executing \[(?P<exten>.*)@(?P<context>[^:@]+):(?P<priority>\d+)\] (?P<app>\w+)\("<channel>", "(?P<data>.*)"\)$'
)


@dataclass
class ShownExtension:
    name: str
    cid: str | None
    priorities: list[tuple[int, str | None, str, str, int]] = field(default_factory=list)


@dataclass
class ShownContext:
    extensions: list[ShownExtension] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    summary: tuple[int, int] = (0, 0)


def recorded_dialplan_show() -> dict[str, ShownContext]:
    contexts: dict[str, ShownContext] = {}
    current: ShownContext | None = None
    for line in (RECORDED / "dialplan-show.txt").read_text().splitlines():
        if line.startswith("; dialplan show "):
            current = contexts.setdefault(line.removeprefix("; dialplan show "), ShownContext())
        elif current is None or line.startswith(";"):
            continue
        elif entry := ENTRY.match(line):
            current.extensions.append(ShownExtension(entry["name"], entry["cid"]))
            current.extensions[-1].priorities.append(_priority(entry))
        elif include := INCLUDE.match(line):
            current.includes.append(include["context"])
        elif summary := SUMMARY.match(line):
            current.summary = (int(summary["extensions"]), int(summary["priorities"]))
        elif continuation := CONTINUATION.match(line):
            current.extensions[-1].priorities.append(_priority(continuation))
    return contexts


def _priority(match: re.Match[str]) -> tuple[int, str | None, str, str, int]:
    number = int(match["priority"]) if match["priority"] else HINT
    return number, match["label"], match["call"], match["file"], int(match["line"])


def loaded(*names: str) -> Dialplan:
    plans = [load_dialplan(parse_config(DIALPLANS / name)) for name in names]
    merged = plans[0]
    for plan in plans[1:]:
        merged.contexts.update(plan.contexts)
        merged.globals.update(plan.globals)
        merged.problems.extend(plan.problems)
    return merged


@pytest.fixture(scope="module")
def fixture_dialplan() -> Dialplan:
    plan = loaded("ordering.conf", "flow.conf", "ivr.conf", "syntax.conf")
    assert [(p.path.rsplit("/", 1)[-1], p.line) for p in plan.problems] == [
        ("syntax.conf", 18),
        ("syntax.conf", 19),
        ("syntax.conf", 28),
        ("syntax.conf", 29),
    ]
    return plan


def test_the_recordings_come_from_asterisk_22_and_cover_every_fixture_context() -> None:
    for name in (
        "dialplan-show.txt",
        "ordering-matches.txt",
        "flow-executions.txt",
        "ivr-executions.txt",
        "syntax-load-warnings.txt",
        "sip-calls.txt",
    ):
        assert (RECORDED / name).read_text().startswith("; Asterisk: Asterisk 22."), name
    plan = loaded("ordering.conf", "flow.conf", "ivr.conf", "syntax.conf")
    assert sorted(SHOWN) == sorted(plan.contexts)
    assert len(recorded_matches()) > 50


SHOWN = recorded_dialplan_show()


@pytest.mark.parametrize("context", sorted(SHOWN))
def test_extension_order_priorities_and_positions_match_dialplan_show(
    fixture_dialplan: Dialplan, context: str
) -> None:
    shown = SHOWN[context]
    assert shown.summary == (len(shown.extensions), sum(len(e.priorities) for e in shown.extensions)), (
        "parsed all"
    )
    ours = fixture_dialplan.contexts[context]
    assert [(e.name, e.cidmatch) for e in ours.extensions] == [(e.name, e.cid) for e in shown.extensions]
    for extension, recorded in zip(ours.extensions, shown.extensions, strict=True):
        priorities = [
            (p.number, p.label, p.app if number == HINT else f"{p.app}({p.data})", p.file.name, p.line)
            for number, p in sorted(extension.priorities.items())
        ]
        assert priorities == recorded.priorities, extension.name
    assert [include.context for include in ours.includes] == shown.includes


def test_load_problems_are_the_lines_asterisk_warned_about() -> None:
    plan = load_dialplan(parse_config(DIALPLANS / "syntax.conf"))
    warned = {
        int(found["line"])
        for line in (RECORDED / "syntax-load-warnings.txt").read_text().splitlines()
        if (found := re.search(r" at line (?P<line>\d+) of syntax\.conf", line))
    }
    assert warned == {18, 19, 28, 29}
    assert {problem.line for problem in plan.problems} == warned


def recorded_matches() -> list[tuple[str, str, str | None]]:
    rows = []
    for line in (RECORDED / "ordering-matches.txt").read_text().splitlines():
        if line.startswith(";"):
            continue
        context, number, executed = line.split("\t")
        found = EXECUTING.match(executed)
        rows.append((context, number, found["data"] if found else None))
    return rows


@pytest.mark.parametrize(("context", "number", "ran"), recorded_matches())
def test_the_extension_asterisk_ran_for_each_number(
    fixture_dialplan: Dialplan, context: str, number: str, ran: str | None
) -> None:
    found = fixture_dialplan.find(context, number)
    assert (found.priority.data if found else None) == ran


def recorded_calls(name: str) -> list[tuple[str, list[str], list[str]]]:
    calls: list[tuple[str, list[str], list[str]]] = []
    for line in (RECORDED / name).read_text().splitlines():
        if line.startswith("== "):
            calls.append((line.removeprefix("== "), [], []))
        elif calls and line.startswith("Executing"):
            calls[-1][1].append(line)
        elif calls and not line.startswith(";"):
            calls[-1][2].append(line)
    return calls


def executed_lines(steps: list[tuple[str, str, int, str, str | None]]) -> list[str]:
    return [
        f'Executing [{exten}@{context}:{priority}] {app}("<channel>", "{data}")'
        for context, exten, priority, app, data in steps
    ]


def normalized(line: str) -> str:
    found = EXECUTING.match(line)
    assert found, line
    return line.replace(f"] {found['app']}(", f"] {found['app'].lower()}(", 1)


@pytest.mark.parametrize(("call", "executed", "events"), recorded_calls("flow-executions.txt"))
def test_whole_calls_execute_the_same_priorities_with_the_same_data(
    fixture_dialplan: Dialplan, call: str, executed: list[str], events: list[str]
) -> None:
    assert executed and events
    context, exten = call.split(",")
    result = trace_call(
        fixture_dialplan, CallSetup(exten=exten, context=context, dial_statuses=("CHANUNAVAIL",))
    )
    ours = executed_lines([(s.context, s.exten, s.priority, s.app, s.substituted) for s in result.steps])
    assert [normalized(line) for line in ours] == [normalized(line) for line in executed]
    _assert_same_ending(result, events)


@pytest.mark.parametrize(("call", "executed", "events"), recorded_calls("ivr-executions.txt"))
def test_ivr_calls_with_dtmf_take_the_same_path(
    fixture_dialplan: Dialplan, call: str, executed: list[str], events: list[str]
) -> None:
    assert executed and events
    context, exten, keys = call.split(",")
    result = trace_call(
        fixture_dialplan, CallSetup(exten=exten, context=context, digits="" if keys == "none" else keys)
    )
    ours = executed_lines([(s.context, s.exten, s.priority, s.app, s.substituted) for s in result.steps])
    assert [normalized(line) for line in ours] == [normalized(line) for line in executed]
    _assert_same_ending(result, events)
    notes = " ".join(note for step in result.steps for note in step.notes)
    if any(event.startswith("Invalid extension") for event in events):
        assert "going to 'i'" in notes
    if any(event.startswith("Timeout on") for event in events):
        assert "going to 't'" in notes


def _assert_same_ending(result: TraceResult, events: list[str]) -> None:
    """Asterisk's last word on the call and our outcome agree on how and where it ended."""
    last = events[-1]
    source = result.outcome.hangup.source if result.outcome.hangup else None
    if last.startswith("Auto fallthrough"):
        assert source == "autofallthrough"
        return
    ended = re.match(
        r"Spawn extension \((?P<context>[^,]+), (?P<exten>[^,]+), (?P<priority>\d+)\) exited non-zero", last
    )
    assert ended, last
    outcome = result.outcome
    assert (outcome.context, outcome.exten, outcome.priority) == (
        ended["context"],
        ended["exten"],
        int(ended["priority"]),
    )
    # The application that ended the channel: Hangup(), or the outcome we stop at (VoiceMail here).
    assert source == "Hangup" or outcome.kind in ("voicemail", "queue", "dial")


def recorded_sip_calls() -> list[tuple[str, list[str], list[str], list[list[str]]]]:
    calls: list[tuple[str, list[str], list[str], list[list[str]]]] = []
    for line in (RECORDED / "sip-calls.txt").read_text().splitlines():
        if line.startswith("== "):
            calls.append((line.removeprefix("== "), [], [], []))
        elif calls and line.startswith("Executing"):
            calls[-1][1].append(line)
        elif calls and line.startswith("CDR "):
            calls[-1][3].append(next(csv.reader([line.removeprefix("CDR ")])))
        elif calls and not line.startswith(";"):
            calls[-1][2].append(line.strip())
    return calls


@pytest.mark.parametrize(("call", "executed", "events", "cdrs"), recorded_sip_calls())
def test_sip_calls_into_the_server_fixture(
    call: str, executed: list[str], events: list[str], cdrs: list[list[str]]
) -> None:
    """Real INVITEs from a phone and a trunk (no phone registered, so every Dial is CHANUNAVAIL)."""
    endpoint, number, call_type = call.split(",")
    server = load_rendered(DIALPLANS / "pbx")
    result = trace_call(
        server,
        CallSetup(
            exten=number,
            endpoint=endpoint,
            callerid_num=endpoint,  # SIPp sends the endpoint name as the From user
            headers=(("X-Call-Type", call_type),),
            dial_statuses=("CHANUNAVAIL",) * 3,
        ),
    )
    ours = executed_lines([(s.context, s.exten, s.priority, s.app, s.substituted) for s in result.steps])
    assert [normalized(line) for line in ours] == [normalized(line) for line in executed]
    last = events[-1]
    source = result.outcome.hangup.source if result.outcome.hangup else None
    if "rejected because extension not found" in last:
        assert source == "rejected" and result.steps == []
        return
    if "no invalid handler" in last:
        assert source == "invalid-extension"
    else:
        _assert_same_ending(result, events)
    (cdr,) = cdrs
    accountcode, src, _dst, _dcontext, clid = cdr[:5]
    userfield = cdr[17]
    assert (result.accountcode, result.callerid_num, result.userfield) == (accountcode, src, userfield)
    assert f'"{result.callerid_name}" <{result.callerid_num}>' == clid
