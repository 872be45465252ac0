"""The call tracer against a real Asterisk 22 that ran the demo render (tests/fixtures/asterisk/demo/).

Every call in `calls.json` was placed with SIPp on Asterisk 22.10.1 loaded with `pabx render` of
the demo data, pbx-sp-01 and pbx-rj-01, with lab addresses (see the README there). Here the same
call is placed with the tracer on the current demo data, and both must agree on:

- the outcome and the caller's SIP final status: a Dial to a registered phone or to a trunk, a
  queue with a registered member, or a voicemail box is a 200; a refusal before any answer is the
  hangup cause's status (21 -> 403, 1 -> 404, 34 -> 503, 3 -> 404 for an unregistered phone); a
  hangup after the dialplan answered (IVR, suspension notice) is a 200 then a BYE with that cause;
- the far end: the endpoint or trunk the INVITE reached, the number sent to a trunk, the caller
  ID presented (P-Asserted-Identity to a trunk, From to a phone);
- the first CDR row: accountcode, userfield, dst and dcontext;
- every dialplan priority the caller's channel executed, with its substituted data.

The tracer cannot know which phones registered: they are read from the recorded `pjsip show
endpoints`, and a Dial to one that was not (or a queue with none) is traced on with
`dial_statuses=("CHANUNAVAIL",)` / `queue_statuses=("TIMEOUT",)`, as domain/asterisk.md says
Asterisk behaves. The lab render differs from the demo render only in addresses, which are all in
the top-level pjsip.conf: `test_the_recorded_render_is_the_demo_render` checks every other
rendered file against the sha256 recorded in `render.json`, so a change to the dialplan or the
demo data fails there until the lab is run again (README: "Re-recording").
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from pabx.dialplan.repo_trace import ServerCache, TraceReport, TraceRequest, trace
from pabx.loader import Repository, load_valid_repository
from pabx.render import render_servers
from pabx.render.secrets import Secrets
from tests.conftest import ROOT

DEMO = Path(__file__).parent / "fixtures" / "asterisk" / "demo"
CALLS: list[dict[str, Any]] = json.loads((DEMO / "calls.json").read_text())
RENDER: dict[str, Any] = json.loads((DEMO / "render.json").read_text())
SERVER_DIRS = {"pbx-sp-01": DEMO, "pbx-rj-01": DEMO / "pbx-rj-01"}
LAB_SECRETS = {
    "PABX_TRUNK_VIVO_SP_PASSWORD": "x",
    "PABX_TRUNK_CLARO_RJ_PASSWORD": "y",
    "PABX_TRUNK_EMBRATEL_PASSWORD": "z",
}
# Hangup cause -> the SIP status Asterisk 22 answered with (recorded; domain/asterisk.md).
SIP_STATUS = {1: 404, 3: 404, 21: 403, 34: 503}


# A refused call should say in its CDR what it was (issue: refused calls carry CDR userfield).
@pytest.fixture(scope="module")
def repo() -> Repository:
    loaded, _ = load_valid_repository(ROOT)
    return loaded


@pytest.fixture(scope="module")
def servers(repo: Repository) -> ServerCache:
    return ServerCache(repo)


@cache
def registered(server: str) -> frozenset[str]:
    """Endpoints with a contact in the recorded `pjsip show endpoints` (the phones that registered)."""
    text = (SERVER_DIRS[server] / "pjsip_show_endpoints.txt").read_text()
    return frozenset(re.findall(r"^\s+Contact:\s+([\w.-]+)/sip:\S+\s+\S+\s+Avail\b", text, re.M))


def uri_user(value: str | None) -> str | None:
    found = re.search(r"sips?:([^@;>]+)@", value or "")
    return found.group(1) if found else None


def concurrent_before(call: dict[str, Any]) -> int:
    """Calls of the same concurrent group placed (and still up) before this one."""
    if "concurrent calls" not in call.get("note", ""):
        return 0
    group = [
        c["name"] for c in CALLS if c.get("note") == call["note"] and c["placed_at"] == call["placed_at"]
    ]
    return group.index(call["name"])


def keys(call: dict[str, Any]) -> str:
    """The tracer's `digits` for the keys SIPp sent: each came 2.5 s after the answer, when the
    0.5 s greeting (Background) had ended, so the prompt times out ('.') and WaitExten gets the key."""
    return "".join(f".{key}" for key in call.get("digits", ""))


def request_for(call: dict[str, Any]) -> TraceRequest:
    origin = call["from"]
    if "endpoint" in origin:
        tenant, _, extension = origin["endpoint"].rpartition("_")
        return TraceRequest(
            from_extension=f"{tenant}/{extension}",
            dial=call["dialed"],
            server=call["server"],
            digits=keys(call),
            calls_up=concurrent_before(call),
        )
    sent_from = call["observed"]["to_caller"][0]["from"]  # the carrier's From, echoed back
    return TraceRequest(
        did=call["dialed"],
        trunk=origin["trunk"],
        server=call["server"],
        callerid_num=uri_user(sent_from) or "",
        headers=tuple(call["headers"].items()),
        digits=keys(call),
    )


def trace_like_the_lab(repo: Repository, servers: ServerCache, call: dict[str, Any]) -> TraceReport:
    """Trace, going on past each Dial/Queue that could not ring a registered phone, as Asterisk did."""
    request = request_for(call)
    phones = registered(call["server"])
    for _ in range(5):
        report = trace(repo, request, servers)
        outcome = report.result.outcome
        if outcome.kind == "dial" and outcome.dial is not None:
            ends = {t.endpoint for t in outcome.dial.targets}
            if not any(end in phones for end in ends):
                request = replace(request, dial_statuses=(*request.dial_statuses, "CHANUNAVAIL"))
                continue
        if outcome.kind == "queue" and outcome.queue is not None:
            members = {member.removeprefix("PJSIP/") for member in outcome.queue.members}
            if not members & phones:
                request = replace(request, queue_statuses=(*request.queue_statuses, "TIMEOUT"))
                continue
        return report
    raise AssertionError(f"{call['name']}: still ringing nobody after 5 tries")


def expected_sip(report: TraceReport) -> tuple[int, int | None, bool]:
    """(final status, Q.850 cause in Reason, whether Asterisk hangs up with a BYE) the tracer predicts."""
    result = report.result
    outcome = result.outcome
    if outcome.kind in ("dial", "queue", "voicemail"):
        return 200, None, False
    assert outcome.kind == "hangup" and outcome.hangup is not None, outcome.reason
    cause = outcome.hangup.cause
    if result.answered:
        return 200, cause, True
    return SIP_STATUS[cause], cause, False


def observed_cause(call: dict[str, Any]) -> int | None:
    found = re.search(r"cause=(\d+)", call["observed"]["reason"] or "")
    return int(found.group(1)) if found else None


def far_end(call: dict[str, Any]) -> dict[str, Any] | None:
    """The recorded far end in the tracer's terms (endpoint, number, caller ID), or None."""
    seen = call["observed"]["far_end"]
    if seen is None:
        return None
    if "trunk" in seen:
        return {
            "endpoint": f"trunk_{seen['trunk']}",
            "number": seen["ruri_user"],
            "callerid": uri_user(seen["pai"]) or seen["from_user"],
        }
    return {"endpoint": seen["endpoint"], "number": None, "callerid": seen["from_user"]}


def predicted_far_end(report: TraceReport, call: dict[str, Any]) -> dict[str, Any] | None:
    outcome = report.result.outcome
    if outcome.kind == "dial" and outcome.dial is not None:
        [target] = outcome.dial.targets
        return {"endpoint": target.endpoint, "number": target.number, "callerid": target.callerid_num}
    if outcome.kind == "queue" and outcome.queue is not None:
        members = sorted(
            m.removeprefix("PJSIP/")
            for m in outcome.queue.members
            if m.removeprefix("PJSIP/") in registered(call["server"])
        )
        # ringall / leastrecent with one registered member: that member rings, with the caller's number
        return {"endpoint": members[0], "number": None, "callerid": report.result.callerid_num}
    return None


def executed(call: dict[str, Any]) -> list[tuple[str, str, int, str, str]]:
    """(context, exten, priority, app, data) of each `Executing` line (app names compare case-blind:
    the log spells an application as it registered, `BackGround`)."""
    return [
        (e["context"], e["exten"], e["priority"], e["app"].lower(), e["data"])
        for e in call["observed"]["executed"]
    ]


def traced(report: TraceReport) -> list[tuple[str, str, int, str, str]]:
    return [
        (
            s.context,
            s.exten,
            s.priority,
            s.app.lower(),
            s.substituted if s.substituted is not None else s.data,
        )
        for s in report.result.steps
        if s.channel == "caller"
    ]


# ---------------------------------------------------------------------------- the recordings themselves


def test_the_recordings_cover_both_servers_and_every_kind_of_call() -> None:
    names = [c["name"] for c in CALLS]
    assert len(names) == len(set(names)) == 64
    assert {c["server"] for c in CALLS} == {"pbx-sp-01", "pbx-rj-01"}
    assert sum(c["server"] == "pbx-rj-01" for c in CALLS) == 7
    for server, folder in SERVER_DIRS.items():
        rows = (folder / "Master.csv").read_text().splitlines()
        mine = [line for c in CALLS if c["server"] == server for line in c["observed"]["cdr_csv"]]
        assert sorted(mine) == sorted(rows), f"every CDR row of {server} belongs to exactly one call"
        assert (folder / "load.log").read_text().rstrip().splitlines()[-2].endswith(": 0"), "no load error"
    assert {c.get("digits") for c in CALLS} >= {"0", "1", "2", "3", "9"}, "IVR keys sent as RFC 4733"
    assert registered("pbx-sp-01") >= {"acme_2001", "acme_2002", "acme_2003", "acme_2006", "trunk_vivo-sp"}
    assert "mercadinho-bom-preco_2004" in registered("pbx-rj-01")


def test_a_voicemail_fallback_kept_a_message() -> None:
    for name in ("voicemail_fallback_message", "in_did_queue_overflow_voicemail"):
        [call] = [c for c in CALLS if c["name"] == name]
        files = call["observed"]["voicemail_files"]
        [info] = [text for path, text in files.items() if path.endswith(".txt")]
        assert "origmailbox=2005" in info and re.search(r"^duration=[1-9]", info, re.M), name


@pytest.mark.parametrize("call", [c for c in CALLS if "trunk" in c["from"]], ids=lambda c: c["name"])
def test_carriers_never_learn_who_answered(repo: Repository, call: dict[str, Any]) -> None:
    """What Asterisk sent back to the carrier (provisional and final responses, BYE, any re-INVITE
    or UPDATE) names the DID at most: never an extension's number or name."""
    national = re.sub(r"^(\+55|55|0)", "", call["dialed"])
    entry = repo.numbers.get(national)
    owner = repo.tenants.get(entry.owner) if entry and entry.owner else None
    names = {e.name for e in owner.extensions} if owner else set()
    numbers = {str(e.number) for e in owner.extensions} if owner else set()
    for message in call["observed"]["to_caller"]:
        assert not message["message"].startswith(("INVITE", "UPDATE")), "no connected-line update"
        for header in ("p-asserted-identity", "remote-party-id", "contact", "to", "from"):
            value = message.get(header) or ""
            assert uri_user(value) not in numbers, (message["message"], header, value)
            assert not any(name in value for name in names), (message["message"], header, value)
        pai = message.get("p-asserted-identity")
        if pai is not None:
            assert uri_user(pai) == national and pai.startswith(f'"{national}"'), pai


def test_outbound_cdr_rows_have_the_dialed_number_and_refusals_a_userfield() -> None:
    for call in CALLS:
        row = call["observed"]["cdr"][0]
        far = call["observed"]["far_end"]
        if far is not None and "trunk" in far and "endpoint" in call["from"]:
            assert row["dst"] == call["dialed"], call["name"]
        refused = call["observed"]["final_status"] in (403, 404, 503) or call["observed"]["hangup_by_pbx"]
        if refused:
            assert row["userfield"], call["name"]
            if "endpoint" in call["from"]:
                assert row["dst"] == call["dialed"], call["name"]  # refusals are Gosubs: dst stays


# ---------------------------------------------------------------------------- the tracer agrees


def test_the_recorded_render_is_the_demo_render(repo: Repository) -> None:
    """Only the top-level pjsip.conf (addresses, registrations) may differ from the lab's render."""
    rendered = render_servers(repo, Secrets(b"lab", LAB_SECRETS), only=sorted(RENDER["servers"]))
    for server, recorded in RENDER["servers"].items():
        files = rendered[server]
        assert sorted(files) == sorted(recorded), server
        changed = [
            rel
            for rel, text in files.items()
            if rel != "pjsip.conf" and hashlib.sha256(text.encode()).hexdigest() != recorded[rel]
        ]
        assert not changed, (
            f"{server}: {changed} changed since the Asterisk recording "
            f"(render commit {RENDER['commit'][:12]}): re-run the lab (tests/fixtures/asterisk/demo/README.md)"
        )


@pytest.mark.parametrize("call", CALLS, ids=lambda c: c["name"])
def test_the_tracer_does_what_asterisk_did(
    repo: Repository, servers: ServerCache, call: dict[str, Any]
) -> None:
    report = trace_like_the_lab(repo, servers, call)
    observed = call["observed"]
    assert report.server == call["server"]
    assert report.result.outcome.kind != "error", report.result.outcome.reason

    status, cause, bye = expected_sip(report)
    assert observed["final_status"] == status, report.result.outcome.reason
    assert observed["hangup_by_pbx"] == bye
    if cause is not None:
        assert observed_cause(call) == cause

    assert far_end(call) == predicted_far_end(report, call)

    [first, *_] = observed["cdr"]
    cdr = report.result.to_json()["result"]["cdr"]
    assert (first["accountcode"], first["userfield"], first["dst"], first["dcontext"]) == (
        cdr["accountcode"],
        cdr["userfield"],
        cdr["dst"],
        cdr["dcontext"],
    )

    assert traced(report) == executed(call)
