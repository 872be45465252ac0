"""The edge in front of a real Asterisk 22 (tests/fixtures/asterisk/edge/).

A real Kamailio 5.6 ran the edge that `pabx render` wrote for the demo data with an edge host, a
real Asterisk 22.10.1 ran pbx-sp-01's render behind it, and SIPp played the carrier and a phone
(README there). This checks that the recording is of what pabx renders today, and that what the
real pair did is what the edge map and the call tracer say should happen:

- a phone registers through the edge (Asterisk stores the edge's Path) and is reachable by it;
- a carrier's call for a DID reaches Asterisk through the edge, carrying the edge's
  X-Pabx-Trunk of the trunk whose `match:` holds the carrier's address; Asterisk takes it for that
  trunk and rings the DID's extension through the edge;
- a phone's call out reaches the carrier through the edge, with the number the tracer predicts;
- the carrier sending straight to Asterisk, even with a forged X-Pabx-Trunk, is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from pabx.dialplan.repo_trace import TraceRequest, trace
from pabx.edge import edge_map
from pabx.edge.render import render_edges
from pabx.loader import Repository, load_valid_repository
from pabx.render import render_servers
from pabx.render.naming import trunk_endpoint
from pabx.render.secrets import Secrets
from tests.conftest import ROOT
from tests.edge_support import set_edges

RECORDED = Path(__file__).parent / "fixtures" / "asterisk" / "edge"
REC: dict[str, Any] = json.loads((RECORDED / "recording.json").read_text(encoding="utf-8"))
EDGE_ADDRESS, PHONE, PHONE_ADDRESS, CARRIER_ADDRESS = "127.0.0.50", "acme_2003", "127.0.0.11", "127.0.0.2"
DID, DIALED = "1130010002", "1133334444"
LAB_SECRETS = {"PABX_TRUNK_VIVO_SP_PASSWORD": "vivo-lab", "PABX_TRUNK_CLARO_RJ_PASSWORD": "claro-lab"}
# the lab copy of the demo data (README: "Render"): (file, pattern, replacement)
LAB_EDITS = [
    ("inventory/hosts.yml", r"(pbx-sp-01:\n(?:.*\n)*?\s*)pabx_sip_address: .*",
     r"\1pabx_sip_address: 127.0.0.1\n          pabx_sip_port: 5080"),
    ("inventory/hosts.yml", r"(pbx-rj-01:\n(?:.*\n)*?\s*)pabx_sip_address: .*",
     r"\1pabx_sip_address: 127.0.0.1\n          pabx_sip_port: 5081"),
    ("inventory/trunks/vivo-sp.yaml", r"^host: .*", "host: 127.0.0.2"),
    ("inventory/trunks/vivo-sp.yaml", r"^port: .*", "port: 5090"),
    ("inventory/trunks/vivo-sp.yaml", r"^registration: .*", "registration: false"),
    ("inventory/trunks/vivo-sp.yaml", r"^match: .*", "match: [127.0.0.2]"),
    ("inventory/trunks/embratel.yaml", r"^host: .*", "host: 127.0.0.3"),
    ("inventory/trunks/embratel.yaml", r"^port: .*", "port: 5090"),
    ("inventory/trunks/embratel.yaml", r"^transport: .*", "transport: udp"),
    ("inventory/trunks/embratel.yaml", r"^match: .*", "match: [127.0.0.3]"),
    ("inventory/trunks/claro-rj.yaml", r"^host: .*", "host: 127.0.0.4"),
    ("inventory/trunks/claro-rj.yaml", r"^port: .*", "port: 5090"),
    ("inventory/trunks/claro-rj.yaml", r"^match: .*", "match: [127.0.0.4]"),
]  # fmt: skip
LAB_EDGE = {
    "pabx_edge_address": "127.0.0.50",
    "pabx_edge_port": 5060,
    "pabx_kamailio_etc": "/opt/pabxlab/edgelab/build/edge-01",
    "pabx_kamailio_ctl": "unix:/tmp/edgelab.ctl",
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Repository:
    root = tmp_path_factory.mktemp("edgelab")
    for folder in ("inventory", "numbers", "plans", "routes", "tenants", "schemas", "templates"):
        shutil.copytree(ROOT / folder, root / folder)
    for rel, pattern, replacement in LAB_EDITS:
        path = root / rel
        text = path.read_text(encoding="utf-8")
        edited = re.sub(pattern, replacement, text, count=1, flags=re.MULTILINE)
        assert edited != text, (rel, pattern)
        path.write_text(edited, encoding="utf-8")
    set_edges(root, {"edge-01": LAB_EDGE})
    loaded, _ = load_valid_repository(root)
    return loaded


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _header(message: dict[str, Any], name: str) -> list[str]:
    return [value for key, value in message["headers"] if key.lower() == name.lower()]


def _at_asterisk(first: str, direction: str = "received") -> list[dict[str, Any]]:
    return [m for m in REC["asterisk_messages"] if m["dir"] == direction and m["first"].startswith(first)]


def _cdr(channel_prefix: str) -> list[str]:
    [row] = [r for r in REC["cdr"] if r[5].startswith(channel_prefix)]
    return row


def test_the_recording_is_of_what_pabx_renders(lab: Repository) -> None:
    """When the edge or the Asterisk side behind it renders differently, run the edge lab again."""
    server = render_servers(lab, Secrets(b"lab", LAB_SECRETS), only=["pbx-sp-01"])["pbx-sp-01"]
    edge = render_edges(lab)["edge-01"]
    rendered = {"pbx-sp-01/pjsip.conf": _sha(server["pjsip.conf"])}
    rendered |= {
        f"edge-01/{rel}": _sha(text) for rel, text in edge.items() if f"edge-01/{rel}" in REC["render"]
    }
    assert rendered == REC["render"]
    assert REC["asterisk"].startswith("Asterisk 22.")


def test_a_phone_registers_through_the_edge_and_is_reached_by_its_path() -> None:
    registers = _at_asterisk("REGISTER ")
    assert registers and {m["peer"] for m in registers} == {f"{EDGE_ADDRESS}:5060"}
    for message in registers:
        assert _header(message, "Path") == [f"<sip:{EDGE_ADDRESS};lr;received=sip:{PHONE_ADDRESS}:5060>"]
        assert "path" in _header(message, "Supported")
    assert re.search(rf"{PHONE}/sip:{PHONE}@{re.escape(PHONE_ADDRESS)}:5060\s+\w+\s+Avail", REC["contacts"])
    # every request Asterisk sent the phone went to the edge, with the Path as its Route
    to_phone = [
        m for m in REC["asterisk_messages"] if m["dir"] == "sent" and f"@{PHONE_ADDRESS}" in m["first"]
    ]
    assert {m["first"].split()[0] for m in to_phone} >= {"INVITE", "OPTIONS"}
    for message in to_phone:
        assert message["peer"] == f"{EDGE_ADDRESS}:5060"
        assert _header(message, "Route") == [f"<sip:{EDGE_ADDRESS};lr;received=sip:{PHONE_ADDRESS}:5060>"]


def test_a_carriers_call_is_told_apart_by_the_edges_header_and_rings_the_did(lab: Repository) -> None:
    trunk = edge_map(lab).carrier_sources[CARRIER_ADDRESS]
    assert trunk == trunk_endpoint("vivo-sp")
    [invite] = [m for m in _at_asterisk(f"INVITE sip:{DID}@") if m["peer"] == f"{EDGE_ADDRESS}:5060"]
    assert _header(invite, "X-Pabx-Trunk") == [trunk]
    assert REC["results"]["1. carrier -> DID via edge"] == 0
    report = trace(lab, TraceRequest(did=DID, trunk="vivo-sp", server="pbx-sp-01", callerid_num="1140040000"))
    assert report.result.outcome.dial is not None
    [target] = report.result.outcome.dial.targets
    row = _cdr(f"PJSIP/{trunk}-")
    assert (row[0], row[6].rsplit("-", 1)[0], row[14]) == (
        report.result.accountcode,
        f"PJSIP/{target.endpoint}",
        "ANSWERED",
    )
    assert target.endpoint == PHONE
    # the phone was rung by the edge, which stays in the dialog (Record-Route)
    [ringing] = [
        m for m in REC["sipp"]["phone"] if m["dir"] == "received" and m["first"].startswith("INVITE")
    ]
    assert _header(ringing, "Via")[0].startswith(f"SIP/2.0/UDP {EDGE_ADDRESS}")
    assert _header(ringing, "Record-Route") == [f"<sip:{EDGE_ADDRESS};lr=on>"]


def test_a_phones_call_out_reaches_the_carrier_through_the_edge(lab: Repository) -> None:
    report = trace(lab, TraceRequest(dial=DIALED, from_extension=PHONE.replace("_", "/")))
    assert report.result.outcome.dial is not None
    [target] = report.result.outcome.dial.targets
    assert REC["results"]["2. phone -> carrier via edge"] == 0
    [sent] = _at_asterisk(f"INVITE sip:{target.number}@", "sent")
    assert sent["peer"] == f"{EDGE_ADDRESS}:5060" and _header(sent, "Route") == [
        f"<sip:{EDGE_ADDRESS}:5060;lr>"
    ]
    [arrived] = [
        m for m in REC["sipp"]["carrier"] if m["dir"] == "received" and m["first"].startswith("INVITE")
    ]
    assert arrived["first"] == f"INVITE sip:{target.number}@{CARRIER_ADDRESS}:5090 SIP/2.0"
    assert _header(arrived, "Via")[0].startswith(f"SIP/2.0/UDP {EDGE_ADDRESS}")
    assert _header(arrived, "Record-Route") == [f"<sip:{EDGE_ADDRESS};lr=on>"]
    assert target.callerid_num in _header(arrived, "P-Asserted-Identity")[0]
    row = _cdr(f"PJSIP/{PHONE}-")
    assert (row[6].rsplit("-", 1)[0], row[14]) == (f"PJSIP/{target.endpoint}", "ANSWERED")


def test_the_carrier_going_around_the_edge_is_refused_even_with_the_header() -> None:
    for name in ("3. carrier -> Asterisk directly", "4. forged header directly"):
        assert REC["results"][name] != 0, name
    direct = [m for m in _at_asterisk(f"INVITE sip:{DID}@127.0.0.1") if m["peer"].startswith(CARRIER_ADDRESS)]
    assert len(direct) == 4 and any(_header(m, "X-Pabx-Trunk") for m in direct)
    answers = [
        m["first"]
        for m in REC["asterisk_messages"]
        if m["dir"] == "sent" and m["peer"].startswith(CARRIER_ADDRESS) and m["first"].startswith("SIP/2.0")
    ]
    assert answers and all(a.startswith(("SIP/2.0 401", "SIP/2.0 481")) for a in answers), answers
    # without the header no endpoint takes the request; with it the header names the trunk, whose
    # ACL (the edge's address only) refuses it
    reasons: dict[str, set[str]] = {}
    for source, reason in re.findall(
        r"failed for '([\d.:]+)' \(callid: [^)]+\) - (.+)$", "\n".join(REC["failed_requests"]), re.M
    ):
        reasons.setdefault(source, set()).add(reason)
    forged = {m["peer"] for m in direct if _header(m, "X-Pabx-Trunk")}
    plain = {m["peer"] for m in direct} - forged
    assert len(forged) == len(plain) == 1
    assert "No matching endpoint found" in reasons[plain.pop()]
    assert "Not match Endpoint ACL" in reasons[forged.pop()]
    # no channel was made for them: the only CDR rows are the two calls through the edge
    assert sorted(r[5].rsplit("-", 1)[0] for r in REC["cdr"]) == [
        f"PJSIP/{PHONE}",
        f"PJSIP/{trunk_endpoint('vivo-sp')}",
    ]
