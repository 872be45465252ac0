"""Tracing calls through a rendered-like server: outcomes, prompts and digits, functions, errors, JSON shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pabx.dialplan.config import parse_config_text
from pabx.dialplan.extensions import load_dialplan
from pabx.dialplan.result import TraceResult
from pabx.dialplan.trace import CallSetup, RenderedServer, load_rendered, trace_call

PBX = Path(__file__).parent / "fixtures" / "dialplan" / "pbx"


@pytest.fixture(scope="module")
def server() -> RenderedServer:
    loaded = load_rendered(PBX)
    assert loaded.problems == []
    return loaded


def trace_text(text: str, exten: str, context: str = "c", **options: object) -> TraceResult:
    plan = load_dialplan(parse_config_text(text, name="extensions.conf"))
    assert plan.problems == []
    return trace_call(plan, CallSetup(exten=exten, context=context, **options))  # type: ignore[arg-type]


def visited(result: TraceResult) -> list[tuple[str, str, int, str]]:
    return [(step.context, step.exten, step.priority, step.app) for step in result.steps]


# --------------------------------------------------------------------------- outcomes on the server


def test_internal_call_dials_the_extension_with_the_caller_id_of_the_endpoint(server: RenderedServer) -> None:
    result = trace_call(server, CallSetup(exten="2002", endpoint="acme_2001"))
    assert result.kind == "dial"
    assert result.outcome.dial is not None
    (target,) = result.outcome.dial.targets
    assert (target.technology, target.endpoint, target.number, target.endpoint_defined) == (
        "PJSIP",
        "acme_2002",
        None,
        True,
    )
    assert (target.callerid_num, target.callerid_name) == ("2001", "Recepcao")
    assert (target.accountcode, target.peeraccount) == ("acme", "acme")
    assert (result.accountcode, result.userfield, result.groups) == (
        "acme",
        "interna:ramal",
        ["acme@acme_calls"],
    )
    assert result.outcome.dial.timeout == "20" and result.outcome.dial.option_args == {"t": None, "T": None}
    assert [(s.context, s.matched, s.defined_in) for s in result.steps][:2] == [
        ("t_acme_phones", "_2XXX", "t_acme_internal"),
        ("t_acme_phones", "_2XXX", "t_acme_internal"),
    ]


def test_a_literal_extension_beats_the_pattern(server: RenderedServer) -> None:
    result = trace_call(server, CallSetup(exten="2999", endpoint="acme_2001"))
    assert result.kind == "hangup" and result.outcome.hangup is not None
    assert (result.outcome.hangup.cause, result.outcome.hangup.to_json()["cause_name"]) == (1, "UNALLOCATED")
    assert visited(result) == [("t_acme_phones", "2999", 1, "Hangup")]


@pytest.mark.parametrize(("status", "options"), [("NOANSWER", "u"), ("BUSY", "b")])
def test_going_on_past_a_dial_reaches_voicemail(server: RenderedServer, status: str, options: str) -> None:
    result = trace_call(server, CallSetup(exten="2002", endpoint="acme_2001", dial_statuses=(status,)))
    assert result.kind == "voicemail" and result.outcome.voicemail is not None
    assert [box.to_json() for box in result.outcome.voicemail.mailboxes] == [
        {"mailbox": "2002", "context": "t_acme", "defined": True}
    ]
    assert result.outcome.voicemail.options == options
    (earlier,) = result.continued
    assert earlier.kind == "dial" and earlier.dial is not None and earlier.dial.status == status


def test_queue_outcome_reads_queues_conf(server: RenderedServer) -> None:
    result = trace_call(server, CallSetup(exten="600", endpoint="acme_2002"))
    assert result.kind == "queue" and result.outcome.queue is not None
    assert result.outcome.queue.to_json() == {
        "name": "t_acme_q600",
        "options": "t",
        "timeout": "30",
        "defined": True,
        "strategy": "ringall",
        "members": ["PJSIP/acme_2001", "PJSIP/acme_2002"],
        "status": None,
    }
    overflow = trace_call(server, CallSetup(exten="600", endpoint="acme_2002", queue_statuses=("TIMEOUT",)))
    assert overflow.kind == "voicemail" and overflow.continued[0].kind == "queue"


def test_outbound_call_goes_out_the_trunk_with_the_pre_dial_handler_on_the_trunk_leg(
    server: RenderedServer,
) -> None:
    result = trace_call(server, CallSetup(exten="021987654321", endpoint="acme_2001"))
    assert result.kind == "dial" and result.outcome.dial is not None
    (target,) = result.outcome.dial.targets
    assert (target.endpoint, target.number, target.endpoint_defined) == ("trunk_vivo", "5521987654321", True)
    assert (target.callerid_num, target.callerid_name) == ("1130001000", "Acme")
    assert (target.accountcode, target.peeraccount) == ("acme", "acme")
    assert target.headers == [("X-Tenant", "acme")]
    assert result.headers == []  # added on the trunk leg, not on the caller's
    callee_steps = [step for step in result.steps if step.channel != "caller"]
    assert [(s.context, s.priority, s.app) for s in callee_steps] == [
        ("pabx-predial", 1, "Set"),
        ("pabx-predial", 2, "Set"),
        ("pabx-predial", 3, "Set"),
        ("pabx-predial", 4, "Return"),
    ]
    assert callee_steps[2].substituted == "SEEN_INHERITED=1130001000"  # __PABX_ORIGIN reached the new leg
    assert result.userfield == "saida:ldn_movel"


def test_the_concurrent_call_limit_uses_group_counts(server: RenderedServer) -> None:
    allowed = trace_call(
        server, CallSetup(exten="2002", endpoint="acme_2001", group_counts={"acme@acme_calls": 1})
    )
    assert allowed.kind == "dial"
    refused = trace_call(
        server, CallSetup(exten="2002", endpoint="acme_2001", group_counts={"acme@acme_calls": 2})
    )
    assert refused.kind == "hangup" and refused.outcome.hangup is not None
    assert refused.outcome.hangup.cause == 34 and refused.outcome.hangup.source == "Congestion"
    assert refused.steps[-1].label == "full"


def test_collect_call_prefix_is_refused(server: RenderedServer) -> None:
    result = trace_call(server, CallSetup(exten="909033334444", endpoint="acme_2001"))
    assert result.kind == "hangup" and result.outcome.hangup is not None and result.outcome.hangup.cause == 21


def test_a_number_that_is_no_extension_is_refused_with_404(server: RenderedServer) -> None:
    result = trace_call(server, CallSetup(exten="12345", endpoint="acme_2001"))
    assert result.kind == "hangup" and result.steps == []
    assert "404" in result.outcome.reason and result.outcome.hangup is not None
    assert result.outcome.hangup.source == "rejected"


def test_an_undefined_endpoint_is_an_error(server: RenderedServer) -> None:
    result = trace_call(server, CallSetup(exten="2002", endpoint="globex_2001"))
    assert result.kind == "error" and "globex_2001" in (result.outcome.error or "")


# --------------------------------------------------------------------------- inbound and the IVR


@pytest.mark.parametrize(
    ("digits", "kind", "ends_at"),
    [
        ("1", "queue", ("t_acme_internal", "600")),  # Background takes the key: '1' exists alone
        ("2", "dial", ("t_acme_internal", "2001")),
        (".1", "queue", ("t_acme_internal", "600")),  # the greeting times out, WaitExten takes '1'
        ("", "dial", ("t_acme_internal", "2002")),  # nothing pressed: 't'
        ("9", "dial", ("t_acme_internal", "2002")),  # 'i', back to the menu, then 't'
        ("92", "dial", ("t_acme_internal", "2001")),  # 'i', back to the menu, then '2'
    ],
)
def test_did_to_ivr_with_digits(
    server: RenderedServer, digits: str, kind: str, ends_at: tuple[str, str]
) -> None:
    result = trace_call(server, CallSetup(exten="1130001000", endpoint="trunk_vivo", digits=digits))
    assert result.kind == kind
    assert (result.outcome.context, result.outcome.exten) == ends_at
    assert result.accountcode == "acme"


def test_invalid_key_sets_invalid_exten_and_goes_back_to_the_menu(server: RenderedServer) -> None:
    result = trace_call(server, CallSetup(exten="1130001000", endpoint="trunk_vivo", digits="9"))
    route = [(s.context, s.exten, s.priority) for s in result.steps]
    assert route[:8] == [
        ("pabx-from-vivo", "1130001000", 1),
        ("pabx-from-vivo", "1130001000", 2),
        ("pabx-from-vivo", "1130001000", 3),
        ("pabx-did", "1130001000", 1),
        ("pabx-did", "1130001000", 2),
        ("pabx-did", "1130001000", 3),
        ("t_acme_ivr", "s", 1),
        ("t_acme_ivr", "s", 2),
    ]
    assert route[8:11] == [("t_acme_ivr", "i", 1), ("t_acme_ivr", "i", 2), ("t_acme_ivr", "s", 2)]
    assert any("going to 'i'" in note for note in result.steps[7].notes)


def test_collect_call_header_is_rejected(server: RenderedServer) -> None:
    result = trace_call(
        server, CallSetup(exten="1130001000", endpoint="trunk_vivo", headers=(("x-call-type", "collect"),))
    )
    assert result.kind == "hangup" and result.outcome.hangup is not None and result.outcome.hangup.cause == 21


def test_unknown_did_ends_in_a_hangup_without_handler(server: RenderedServer) -> None:
    result = trace_call(server, CallSetup(exten="1130009999", endpoint="trunk_vivo"))
    assert result.kind == "hangup" and result.outcome.hangup is not None
    assert result.outcome.hangup.source == "invalid-extension"
    assert "no extension '1130009999' in [pabx-did]" in result.outcome.reason


# --------------------------------------------------------------------------- flow details


def test_gosub_return_and_arguments_are_restored() -> None:
    result = trace_text(
        "[c]\n"
        "exten => s,1,Set(ARG1=outer)\n"
        " same => n,Gosub(sub,s,1(a,b))\n"
        " same => n,Hangup(${GOSUB_RETVAL}${ARG1}${ARGC})\n"
        "[sub]\n"
        "exten => s,1,Gosub(inner,s,1(x))\n"
        " same => n,Return(${ARG1}${ARG2}${GOSUB_RETVAL})\n"
        "[inner]\n"
        "exten => s,1,Return(${ARG1}${ARG2}-${ARGC})\n",
        "s",
    )
    assert [step.substituted for step in result.steps] == [
        "ARG1=outer",
        "sub,s,1(a,b)",
        "inner,s,1(x)",
        "x-1",  # ARG2 of the outer frame is masked inside the inner one
        "abx-1",
        "abx-1outer",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[c]\nexten => s,1,Frobnicate()\n", "application Frobnicate() is not known"),
        ("[c]\nexten => s,1,NoOp(${NOSUCH(x)})\n", "unknown dialplan function NOSUCH()"),
        ("[c]\nexten => s,1,Set(NOSUCH(x)=1)\n", "unknown dialplan function NOSUCH()"),
        ("[c]\nexten => s,1,Return()\n", "Return without Gosub"),
        ("[c]\nexten => s,1,Gosub(nowhere,s,1)\n", "Gosub to nowhere,s,1"),
        ("[c]\nexten => s,1,Goto(c,s,nolabel)\n", "no priority or label 'nolabel'"),
        ("[c]\nexten => s,1,NoOp($[1 +])\n", "cannot evaluate"),
        ("[c]\nexten => s,1,Goto(s,1)\n", "loop guard"),
    ],
)
def test_errors_name_what_the_tracer_cannot_follow(text: str, message: str) -> None:
    result = trace_text(text, "s", max_steps=50)
    assert result.kind == "error"
    assert message in (result.outcome.error or "")


def test_goto_if_exec_if_and_relative_goto() -> None:
    result = trace_text(
        "[c]\n"
        "exten => s,1,GotoIf($[1 = 2]?no:yes)\n"
        " same => n(no),Hangup(21)\n"
        " same => n(yes),ExecIf($[1]?Goto(+2))\n"
        " same => n,Hangup(21)\n"
        " same => n,GotoIf(0?no)\n"
        " same => n,Hangup(16)\n",
        "s",
    )
    assert visited(result) == [
        ("c", "s", 1, "GotoIf"),
        ("c", "s", 3, "ExecIf"),
        ("c", "s", 5, "GotoIf"),
        ("c", "s", 6, "Hangup"),
    ]
    assert result.outcome.hangup is not None and result.outcome.hangup.cause == 16


def test_running_off_the_end_after_a_busy_dial_indicates_busy() -> None:
    result = trace_text("[c]\nexten => s,1,Dial(PJSIP/x)\n", "s", dial_statuses=("BUSY",))
    assert result.kind == "hangup" and result.outcome.hangup is not None
    assert (result.outcome.hangup.cause, result.outcome.hangup.source) == (17, "autofallthrough")


def test_without_autofallthrough_the_end_waits_for_digits() -> None:
    text = "[general]\nautofallthrough=no\n[c]\nexten => s,1,Answer()\nexten => 5,1,Hangup(16)\nexten => t,1,Hangup(19)\n"
    pressed = trace_text(text, "s", digits="5")
    assert pressed.outcome.hangup is not None and pressed.outcome.hangup.cause == 16
    silent = trace_text(text, "s")
    assert silent.outcome.hangup is not None and silent.outcome.hangup.cause == 19


def test_cdr_dst_does_not_move_inside_a_gosub() -> None:
    """cdr.c: dst/dcontext follow the channel unless AST_FLAG_SUBROUTINE_EXEC is set (Gosub sets it,
    Return restores it, a Goto out of the subroutine keeps it)."""
    dialplan = (
        "[c]\nexten => 100,1,Gosub(sub,s,1)\n same => n,Goto(d,200,1)\n"
        "exten => 300,1,Gosub(sub,s,1(deny))\n"
        '[sub]\nexten => s,1,GotoIf($["${ARG1}" = "deny"]?d,refused,1)\n same => n,Return()\n'
        "[d]\nexten => 200,1,Answer()\n same => n,Hangup()\nexten => refused,1,Hangup(21)\n"
    )
    returned = trace_text(dialplan, "100")
    assert (returned.dst, returned.dcontext, returned.answered) == ("200", "d", True)
    refused = trace_text(dialplan, "300")
    assert (refused.dst, refused.dcontext, refused.answered) == ("300", "c", False)
    assert refused.to_json()["result"]["cdr"]["dst"] == "300"


def test_read_collects_digits_until_hash() -> None:
    result = trace_text(
        "[c]\nexten => s,1,Read(PIN,digite,4)\n same => n,Read(MORE)\n same => n,Hangup(${PIN}-${MORE}-${READSTATUS})\n",
        "s",
        digits="123456#",
    )
    assert result.steps[-1].substituted == "1234-56-OK"


def test_functions_write_the_channel() -> None:
    result = trace_text(
        "[c]\n"
        'exten => s,1,Set(CALLERID(all)="Acme Ltda" <1130001000>)\n'
        " same => n,Set(CDR(userfield)=saida:local_fixo)\n"
        " same => n,Set(CHANNEL(accountcode)=acme)\n"
        " same => n,Set(CDR(custom)=x)\n"
        " same => n,Set(GROUP()=solo)\n"
        " same => n,Set(PJSIP_HEADER(add,X-A)=1)\n"
        " same => n,Set(CDR(src)=nope)\n"
        " same => n,Hangup()\n",
        "s",
    )
    data = result.to_json()["result"]
    assert data["callerid"] == {"num": "1130001000", "name": "Acme Ltda"}
    assert data["cdr"] == {
        "dst": "s",
        "dcontext": "c",
        "accountcode": "acme",
        "peeraccount": "",
        "userfield": "saida:local_fixo",
        "amaflags": "DOCUMENTATION",
        "variables": {"custom": "x"},
    }
    assert data["groups"] == ["solo"]
    assert data["headers"] == [{"name": "X-A", "value": "1"}]
    assert data["warnings"] == ["CDR(src) is read-only: Asterisk refuses the write"]
    assert data["hangup"] == {"cause": 16, "cause_name": "NORMAL_CLEARING", "source": "Hangup"}


def test_dial_to_several_targets_and_an_undefined_endpoint(server: RenderedServer) -> None:
    plan = server.dialplan
    server_with_dial = RenderedServer(
        load_dialplan(
            parse_config_text("[c]\nexten => s,1,Dial(PJSIP/acme_2001&PJSIP/ghost&Local/100@x,30,r)\n")
        ),
        pjsip=server.pjsip,
    )
    assert plan is not server_with_dial.dialplan
    result = trace_call(server_with_dial, CallSetup(exten="s", context="c"))
    assert result.outcome.dial is not None
    assert [(t.technology, t.endpoint, t.endpoint_defined) for t in result.outcome.dial.targets] == [
        ("PJSIP", "acme_2001", True),
        ("PJSIP", "ghost", False),
        ("Local", None, None),
    ]
    assert any("ghost" in warning for warning in result.warnings)


# --------------------------------------------------------------------------- JSON


def test_json_shape_is_stable(server: RenderedServer) -> None:
    outcomes = [
        trace_call(server, CallSetup(exten="2002", endpoint="acme_2001")),
        trace_call(server, CallSetup(exten="600", endpoint="acme_2001")),
        trace_call(server, CallSetup(exten="2002", endpoint="acme_2001", dial_statuses=("NOANSWER",))),
        trace_call(server, CallSetup(exten="2999", endpoint="acme_2001")),
        trace_call(server, CallSetup(exten="2002", endpoint="nobody")),
    ]
    assert [r.kind for r in outcomes] == ["dial", "queue", "voicemail", "hangup", "error"]
    for result in outcomes:
        data = json.loads(result.to_json_text())
        assert sorted(data) == ["result", "steps"]
        assert sorted(data["result"]) == sorted(
            [
                "kind",
                "reason",
                "at",
                "dial",
                "queue",
                "voicemail",
                "hangup",
                "error",
                "answered",
                "callerid",
                "cdr",
                "groups",
                "headers",
                "continued",
                "warnings",
            ]
        )
        assert sorted(data["result"]["at"]) == ["context", "exten", "priority"]
        assert sorted(data["result"]["cdr"]) == [
            "accountcode",
            "amaflags",
            "dcontext",
            "dst",
            "peeraccount",
            "userfield",
            "variables",
        ]
        for step in data["steps"]:
            assert sorted(step) == sorted(
                [
                    "channel",
                    "context",
                    "exten",
                    "priority",
                    "label",
                    "app",
                    "data",
                    "substituted",
                    "file",
                    "line",
                    "matched",
                    "defined_in",
                    "notes",
                ]
            )
        assert data["result"][data["result"]["kind"]] is not None
    dial = outcomes[0].to_json()["result"]["dial"]
    assert sorted(dial) == ["option_args", "options", "status", "targets", "timeout"]
    assert sorted(dial["targets"][0]) == [
        "accountcode",
        "callerid",
        "endpoint",
        "endpoint_defined",
        "headers",
        "number",
        "peeraccount",
        "resource",
        "technology",
    ]


def test_the_same_call_traces_identically(server: RenderedServer) -> None:
    first = trace_call(server, CallSetup(exten="021987654321", endpoint="acme_2001")).to_json_text()
    second = trace_call(server, CallSetup(exten="021987654321", endpoint="acme_2001")).to_json_text()
    assert first == second


def test_steps_point_at_the_rendered_file_and_line(server: RenderedServer) -> None:
    result = trace_call(server, CallSetup(exten="2002", endpoint="acme_2001"))
    first = result.steps[0]
    assert Path(first.file) == PBX / "tenants" / "acme" / "extensions.conf"
    assert first.line == 8


def test_a_dial_to_endpoints_that_do_not_exist_returns_chanunavail_at_once(server: RenderedServer) -> None:
    text = "[c]\nexten => s,1,Dial(PJSIP/ghost)\n same => n,NoOp(${DIALSTATUS})\n same => n,Hangup()\n"
    broken = RenderedServer(load_dialplan(parse_config_text(text)), pjsip=server.pjsip)
    result = trace_call(broken, CallSetup(exten="s", context="c"))
    assert result.steps[-2].substituted == "CHANUNAVAIL"
    assert result.outcome.hangup is not None and result.outcome.hangup.cause == 3  # the peer's cause
    assert result.continued[0].dial is not None and result.continued[0].dial.status == "CHANUNAVAIL"
    assert result.warnings == [
        "Dial to PJSIP endpoint 'ghost', which pjsip.conf does not define (CHANUNAVAIL)"
    ]


def test_text_format_shows_steps_notes_and_outcome(server: RenderedServer) -> None:
    text = trace_call(server, CallSetup(exten="021987654321", endpoint="acme_2001")).format_text()
    lines = text.splitlines()
    assert lines[0].startswith("t_acme_phones,021987654321,1 Set(CDR(userfield)=saida:ldn_movel)")
    assert "[_0[1-9][1-9]9XXXXXXXX in t_acme_outbound]" in lines[0]
    assert "    pre-dial handler pabx-predial,s,1(acme) runs on PJSIP/trunk_vivo-00000002" in lines
    assert "=> dial: Dial(PJSIP/5521987654321@trunk_vivo)" in lines
    assert any(line.endswith("<callee PJSIP/trunk_vivo-00000002>") for line in lines)


def test_a_chanunavail_dial_runs_no_pre_dial_handler(server: RenderedServer) -> None:
    result = trace_call(
        server, CallSetup(exten="021987654321", endpoint="acme_2001", dial_statuses=("CHANUNAVAIL",))
    )
    assert all(step.channel == "caller" for step in result.steps)
    assert any("never created" in note for step in result.steps for note in step.notes)
    assert result.kind == "hangup" and result.outcome.hangup is not None
    assert (result.outcome.hangup.cause, result.outcome.hangup.source) == (34, "autofallthrough")
