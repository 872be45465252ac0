"""The edge with the real thing: Kamailio on loopback with the rendered configuration, SIPp
calling DIDs through it, SIPp UAS processes standing in for the two Asterisk servers."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

from pabx.loader import load_valid_repository
from tests.conftest import need
from tests.edge_support import (
    CARRIER,
    CARRIER_ADDRESS,
    SERVER_ADDRESSES,
    Fleet,
    call_args,
    have_tools,
    invited,
    messages,
    place_calls,
    received,
    reload_tables,
    render,
    running_fleet,
    sip_request,
)


@pytest.fixture
def fleet(demo_repo: Path) -> Fleet:  # type: ignore[misc]
    need(have_tools(), "kamailio, kamcmd and sipp (Debian packages kamailio and sip-tester)")
    with running_fleet(demo_repo) as running:
        yield running


def _owned_dids(repo: Path) -> dict[str, str]:
    """DID -> the server of its owner, from the repository (what the edge must do)."""
    loaded, _ = load_valid_repository(repo)
    return {
        n.number: loaded.tenants[n.owner].server
        for n in loaded.numbers.values()
        if n.owner and loaded.tenants[n.owner].status != "removido"
    }


def _move_tenant(repo: Path, slug: str, server: str) -> None:
    path = repo / "tenants" / f"{slug}.yaml"
    text = path.read_text(encoding="utf-8")
    moved = re.sub(r"^server: .*$", f"server: {server}", text, count=1, flags=re.MULTILINE)
    assert moved != text
    path.write_text(moved, encoding="utf-8")


def test_each_server_receives_exactly_its_tenants_calls(fleet: Fleet) -> None:
    expected = _owned_dids(fleet.repo)
    assert set(expected.values()) == set(SERVER_ADDRESSES)
    # the carrier's number formats: national, E.164 with and without +, trunk prefix 0
    formats = ["{}", "+55{}", "55{}", "0{}"]
    rows = [(formats[i % 4].format(did), "1140040000") for i, did in enumerate(sorted(expected))]
    done = place_calls(fleet, rows)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    for server in SERVER_ADDRESSES:
        got = sorted(invited(fleet, server))
        want = sorted(
            row[0] for row, did in zip(rows, sorted(expected), strict=True) if expected[did] == server
        )
        assert got == want, server
        byes = [m for m, _, _ in received(fleet, server) if m == "BYE"]
        assert len(byes) == len(want)


def test_phones_reach_their_tenants_server_by_user_or_domain(fleet: Fleet) -> None:
    loaded, _ = load_valid_repository(fleet.repo)
    sp = next(s for s, t in sorted(loaded.tenants.items()) if t.server == "pbx-sp-01")
    rj = next(s for s, t in sorted(loaded.tenants.items()) if t.server == "pbx-rj-01")
    done = place_calls(fleet, [("11988887777", f"{sp}_2001"), ("21988887777", f"{rj}_2001")])
    assert done.returncode == 0, done.stdout[-2000:]
    assert invited(fleet, "pbx-sp-01") == ["11988887777"]
    assert invited(fleet, "pbx-rj-01") == ["21988887777"]
    # a REGISTER goes to the tenant's server, with a Path so the server reaches the phone back
    sip_request(fleet, "REGISTER", f"{rj}_2001", f"{rj}_2001", wait=0.5)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(
        m == "REGISTER" for m, _, _ in received(fleet, "pbx-rj-01")
    ):
        time.sleep(0.05)
    assert [u for m, u, _ in received(fleet, "pbx-rj-01") if m == "REGISTER"]
    assert not [u for m, u, _ in received(fleet, "pbx-sp-01") if m == "REGISTER"]
    assert "Path: <sip:" in fleet.message_log("pbx-rj-01").read_text(errors="replace")


def test_unknown_did_and_unknown_source_are_refused_at_the_edge(fleet: Fleet) -> None:
    assert sip_request(fleet, "INVITE", "1199999999", "1140040000").startswith("SIP/2.0 404")
    assert sip_request(fleet, "REGISTER", "nobody", "nobody").startswith("SIP/2.0 403")
    # a caller claiming an unknown tenant is not a phone of the platform: only a known DID passes
    assert sip_request(fleet, "INVITE", "11988887777", "ghost-tenant_2001").startswith("SIP/2.0 404")
    assert not invited(fleet, "pbx-sp-01") and not invited(fleet, "pbx-rj-01")


def test_moving_a_tenant_keeps_the_call_in_progress_and_sends_new_calls_to_the_new_server(
    fleet: Fleet,
) -> None:
    expected = _owned_dids(fleet.repo)
    loaded, _ = load_valid_repository(fleet.repo)
    did = next(d for d, s in sorted(expected.items()) if s == "pbx-sp-01")
    owner = loaded.numbers[did].owner
    assert owner is not None
    # a call set up before the move, held for 3 s
    args, _ = call_args(fleet, [(did, "1140040000")], hold_ms=3000)
    before = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=fleet.run,
                              stdin=subprocess.DEVNULL)  # fmt: skip
    fleet.processes.append(before)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and did not in invited(fleet, "pbx-sp-01"):
        time.sleep(0.05)
    assert invited(fleet, "pbx-sp-01") == [did]
    first_call = next(cid for m, _, cid in received(fleet, "pbx-sp-01") if m == "INVITE")

    _move_tenant(fleet.repo, owner, "pbx-rj-01")  # the one-line YAML change
    time.sleep(1.05)  # db_text notices a new table file by its mtime (seconds)
    render(fleet.repo)
    assert f"{did}:0:0:pbx-rj-01" in (fleet.build / "db" / "did").read_text()
    reload_tables(fleet)

    done = place_calls(fleet, [(did, "1140040000")])
    assert done.returncode == 0, done.stdout[-2000:]
    assert invited(fleet, "pbx-rj-01") == [did]
    out, _ = before.communicate(timeout=30)
    assert before.returncode == 0, out.decode(errors="replace")[-2000:]
    # the BYE of the call set up before the move still reached the old server
    old = f"{SERVER_ADDRESSES['pbx-sp-01']}:{fleet.ports['pbx-sp-01']}"
    assert ("BYE", old, first_call) in received(fleet, "pbx-sp-01")
    assert first_call not in {cid for _, _, cid in received(fleet, "pbx-rj-01")}
    assert invited(fleet, "pbx-sp-01") == [did]


def _invites(fleet: Fleet, server: str) -> list[str]:
    return [m for m in messages(fleet, server) if re.search(r"^INVITE ", m, re.MULTILINE)]


def test_a_carriers_call_carries_the_trunk_header_and_nobody_else_can_forge_it(fleet: Fleet) -> None:
    did = next(d for d, s in sorted(_owned_dids(fleet.repo).items()) if s == "pbx-rj-01")
    # from the carrier's signalling address (`match:` of the trunk)
    done = place_calls(fleet, [(did, "1140040000")], source=CARRIER_ADDRESS)
    assert done.returncode == 0, done.stdout[-2000:]
    # from anywhere else, claiming to be the carrier: the edge drops the claim
    forged = "X-Pabx-Trunk: trunk_claro-rj"
    assert sip_request(fleet, "INVITE", did, "1140040000", headers=(forged,)).startswith("SIP/2.0 200")
    first, second = _invites(fleet, "pbx-rj-01")
    assert re.search(r"^X-Pabx-Trunk: trunk_claro-rj\s*$", first, re.MULTILINE)
    assert "X-Pabx-Trunk" not in second


def test_servers_reach_their_carriers_through_the_edge_and_nobody_else_does(fleet: Fleet) -> None:
    carrier = f"{CARRIER_ADDRESS}:{fleet.carrier_port}"
    row = ("1140040000", "acme_2001", carrier)
    done = place_calls(fleet, [row], source=SERVER_ADDRESSES["pbx-rj-01"], scenario="uac_server.xml")
    assert done.returncode == 0, done.stdout[-2000:]
    (invite,) = _invites(fleet, CARRIER)
    assert re.search(rf"^INVITE sip:1140040000@{re.escape(carrier)} SIP/2.0$", invite, re.MULTILINE)
    assert re.search(rf"^Record-Route: <sip:127\.0\.0\.1:{fleet.edge_port};lr=on>", invite, re.MULTILINE)
    assert not re.search(r"^Route:", invite, re.MULTILINE)  # the edge took its own Route off
    assert [m for m, _, _ in received(fleet, CARRIER)] == ["INVITE", "ACK", "BYE"]
    # the same request from outside the fleet is a call to an unknown DID: refused, nothing reaches the carrier
    refused = place_calls(fleet, [("1140040000", "intruso", carrier)], scenario="uac_server.xml")
    assert refused.returncode != 0
    assert len(_invites(fleet, CARRIER)) == 1


def test_a_server_reaches_a_registered_phone_through_the_path_the_edge_gave_it(fleet: Fleet) -> None:
    loaded, _ = load_valid_repository(fleet.repo)
    tenant = next(s for s, t in sorted(loaded.tenants.items()) if t.server == "pbx-rj-01")
    user = f"{tenant}_2001"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
        phone.bind(("127.0.0.5", 0))
        phone.settimeout(5)
        port = phone.getsockname()[1]
        edge = f"127.0.0.1:{fleet.edge_port}"
        phone.sendto(
            (
                f"REGISTER sip:{edge} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.5:{port};branch=z9hG4bKreg1\r\n"
                f"From: <sip:{user}@{edge}>;tag=r1\r\nTo: <sip:{user}@{edge}>\r\nCall-ID: reg1@pabx-test\r\n"
                f"CSeq: 1 REGISTER\r\nContact: <sip:{user}@127.0.0.5:{port}>\r\nMax-Forwards: 70\r\n"
                "Content-Length: 0\r\n\r\n"
            ).encode(),
            ("127.0.0.1", fleet.edge_port),
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not [
            m for m in messages(fleet, "pbx-rj-01") if "REGISTER sip:" in m
        ]:
            time.sleep(0.05)
        register = next(m for m in messages(fleet, "pbx-rj-01") if "REGISTER sip:" in m)  # (retransmitted)
        # Asterisk keeps a Path only from a REGISTER that says it supports one (420 otherwise)
        assert re.search(r"^Supported: path\s*$", register, re.MULTILINE)
        path = re.search(r"^Path: (<[^>]+>)", register, re.MULTILINE)
        assert path and f"received=sip:127.0.0.5:{port}" in path.group(1)
        # the server calls the phone: request-URI its contact, Route the Path, sent to the edge
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
            server.bind((SERVER_ADDRESSES["pbx-rj-01"], 0))
            sport = server.getsockname()[1]
            server.sendto(
                (
                    f"OPTIONS sip:{user}@127.0.0.5:{port} SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP {SERVER_ADDRESSES['pbx-rj-01']}:{sport};branch=z9hG4bKopt1\r\n"
                    f"From: <sip:asterisk@{SERVER_ADDRESSES['pbx-rj-01']}>;tag=o1\r\n"
                    f"To: <sip:{user}@127.0.0.5:{port}>\r\nCall-ID: opt1@pabx-test\r\nCSeq: 1 OPTIONS\r\n"
                    f"Route: {path.group(1)}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                ).encode(),
                ("127.0.0.1", fleet.edge_port),
            )
            data, source = phone.recvfrom(65535)
    text = data.decode(errors="replace")
    assert text.startswith(f"OPTIONS sip:{user}@127.0.0.5:{port} SIP/2.0")
    assert source == ("127.0.0.1", fleet.edge_port)  # through the edge, not from the server
    assert not re.search(r"^Route:", text, re.MULTILINE)
