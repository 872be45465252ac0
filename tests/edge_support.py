"""A SIP edge fleet on loopback for the edge tests and bench: real Kamailio and SIPp processes.

The repository's two Asterisk servers become SIPp UAS processes on 127.0.0.2 and 127.0.0.3
(stand-ins for Asterisk at the SIP level only: they answer, log what they received and hang
up), the edge is Kamailio on 127.0.0.1 with the configuration `pabx render` wrote.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SCENARIOS = Path(__file__).resolve().parent / "fixtures" / "edge"
EDGE = "edge-01"
SERVER_ADDRESSES = {"pbx-sp-01": "127.0.0.2", "pbx-rj-01": "127.0.0.3"}
# the demo's Rio carrier becomes a SIPp UAS on loopback: its signalling address and its host
CARRIER, CARRIER_ADDRESS = "claro-rj", "127.0.0.4"


def have_tools() -> bool:
    return bool(shutil.which("kamailio") and shutil.which("sipp") and shutil.which("kamcmd"))


def free_port(address: str) -> int:
    """A UDP and TCP port free on `address` now (the kernel's pick)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((address, 0))
            port = int(udp.getsockname()[1])
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            try:
                tcp.bind((address, port))
            except OSError:
                continue
        return port


@dataclass
class Fleet:
    repo: Path
    edge_port: int
    ctl: str
    ports: dict[str, int]
    run: Path
    carrier_port: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def build(self) -> Path:
        return self.repo / "build" / EDGE

    def message_log(self, server: str) -> Path:
        return self.run / f"{server}.msg"


def set_edges(
    repo: Path,
    edges: dict[str, dict[str, object]] | None,
    servers: dict[str, dict[str, object]] | None = None,
) -> None:
    """Give the inventory exactly these edge hosts (None: no edge group) and merge `servers`'
    host vars into the Asterisk servers'."""
    hosts = repo / "inventory" / "hosts.yml"
    data = yaml.safe_load(hosts.read_text(encoding="utf-8"))
    children = data["all"]["children"]
    children.pop("edge", None)
    if edges is not None:
        children["edge"] = {"hosts": edges}
    for name, extra in (servers or {}).items():
        children["asterisk"]["hosts"][name].update(extra)
    header = "# yaml-language-server: $schema=../schemas/inventory.schema.json\n"
    hosts.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def make_fleet(repo: Path, run: Path) -> Fleet:
    """Point the demo inventory's servers at loopback addresses and add an edge in front."""
    hosts = repo / "inventory" / "hosts.yml"
    data = yaml.safe_load(hosts.read_text(encoding="utf-8"))
    ports = {}
    for server, address in SERVER_ADDRESSES.items():
        entry = data["all"]["children"]["asterisk"]["hosts"][server]
        ports[server] = free_port(address)
        entry["pabx_sip_address"] = address
        entry["pabx_sip_port"] = ports[server]
    edge_port = free_port("127.0.0.1")
    ctl = f"unix:{run / 'ctl'}"
    data["all"]["children"]["edge"] = {
        "hosts": {
            EDGE: {
                "pabx_edge_address": "127.0.0.1",
                "pabx_edge_port": edge_port,
                "pabx_kamailio_etc": str(repo / "build" / EDGE),
                "pabx_kamailio_ctl": ctl,
            }
        }
    }
    header = "# yaml-language-server: $schema=../schemas/inventory.schema.json\n"
    hosts.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    carrier_port = free_port(CARRIER_ADDRESS)
    trunk = repo / "inventory" / "trunks" / f"{CARRIER}.yaml"
    text = trunk.read_text(encoding="utf-8")
    text = re.sub(r"^host: .*$", f"host: {CARRIER_ADDRESS}", text, count=1, flags=re.MULTILINE)
    text = re.sub(r"^port: .*$", f"port: {carrier_port}", text, count=1, flags=re.MULTILINE)
    text = re.sub(r"^match: .*$", f"match: [{CARRIER_ADDRESS}]", text, count=1, flags=re.MULTILINE)
    trunk.write_text(text, encoding="utf-8")
    return Fleet(repo, edge_port, ctl, ports, run, carrier_port)


def short_run_dir() -> Path:
    """Unix socket paths are short (108 bytes): the ctl socket lives in a short temporary folder."""
    return Path(tempfile.mkdtemp(prefix="pabx-edge-"))


def render(repo: Path) -> None:
    from pabx.loader import load_valid_repository
    from pabx.render import render_repository
    from pabx.render.secrets import Secrets

    loaded, _ = load_valid_repository(repo)
    render_repository(loaded, repo / "build", Secrets(None), revision="test")


def _wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def kamcmd(fleet: Fleet, *args: str) -> str:
    done = subprocess.run(["kamcmd", "-s", fleet.ctl, *args], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, f"kamcmd {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def reload_tables(fleet: Fleet) -> None:
    """What the apply does on an edge after copying the new tables: no restart."""
    from pabx.edge.render import RELOAD_COMMANDS

    for command in RELOAD_COMMANDS:
        kamcmd(fleet, *command.split())


def start_edge(fleet: Fleet, shm_mb: int = 64) -> subprocess.Popen[bytes]:
    cfg = fleet.build / "kamailio.cfg"
    log = open(fleet.run / "kamailio.log", "wb")  # noqa: SIM115  (closed with the process)
    proc = subprocess.Popen(
        ["kamailio", "-f", str(cfg), "-DD", "-E", "-m", str(shm_mb), "-M", "8", "-Y", str(fleet.run)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    fleet.processes.append(proc)
    ctl_path = fleet.ctl.removeprefix("unix:")

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError(
                "kamailio exited: " + (fleet.run / "kamailio.log").read_text(errors="replace")
            )
        return os.path.exists(ctl_path)

    _wait_for(ready, 10, "kamailio's ctl socket")
    return proc


def start_server(fleet: Fleet, server: str) -> subprocess.Popen[bytes]:
    """A SIPp UAS standing in for one Asterisk server (or, named CARRIER, for the carrier),
    logging every message it receives."""
    address, port = (
        (CARRIER_ADDRESS, fleet.carrier_port)
        if server == CARRIER
        else (SERVER_ADDRESSES[server], fleet.ports[server])
    )
    proc = subprocess.Popen(
        [
            "sipp",
            "-sf",
            str(SCENARIOS / "uas.xml"),
            "-i",
            address,
            "-p",
            str(port),
            "-trace_msg",
            "-message_file",
            str(fleet.message_log(server)),
            "-nostdin",
            "-timeout",
            "120",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=fleet.run,
    )
    fleet.processes.append(proc)
    _wait_for(lambda: _bound(address, port), 10, f"sipp for {server}")
    return proc


def _bound(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        try:
            udp.bind((address, port))
        except OSError:
            return True
    return False


def call_args(
    fleet: Fleet,
    rows: list[tuple[str, ...]],
    *,
    hold_ms: int = 0,
    rate: int = 0,
    source: str = "127.0.0.1",
    scenario: str = "uac.xml",
) -> tuple[list[str], Path]:
    """SIPp UAC arguments calling each (called, caller[, carrier host]) row once through the edge,
    from `source` (a carrier's or a server's address; default: somewhere on the outside)."""
    inf = fleet.run / f"calls-{time.monotonic_ns()}.csv"
    inf.write_text("SEQUENTIAL\n" + "".join(";".join(row) + ";\n" for row in rows), encoding="utf-8")
    args = [
        "sipp", f"127.0.0.1:{fleet.edge_port}", "-sf", str(SCENARIOS / scenario),
        "-inf", str(inf), "-i", source, "-p", str(free_port(source)),
        "-m", str(len(rows)), "-d", str(hold_ms), "-nostdin",
        "-timeout", "60", "-timeout_error", "-recv_timeout", "5000",
    ]  # fmt: skip
    if rate:
        args += ["-r", str(rate), "-l", str(max(rate, 10) * 4)]
    return args, inf


def place_calls(
    fleet: Fleet,
    rows: list[tuple[str, ...]],
    *,
    hold_ms: int = 0,
    source: str = "127.0.0.1",
    scenario: str = "uac.xml",
) -> subprocess.CompletedProcess[str]:
    args, _ = call_args(fleet, rows, hold_ms=hold_ms, source=source, scenario=scenario)
    return subprocess.run(
        args, capture_output=True, text=True, timeout=90, cwd=fleet.run, stdin=subprocess.DEVNULL
    )


_REQUEST = re.compile(r"^(INVITE|BYE|REGISTER|ACK) sip:([^@;> ]+)", re.MULTILINE)
_CALL_ID = re.compile(r"^Call-ID: *(\S+)", re.MULTILINE)


def received(fleet: Fleet, server: str) -> list[tuple[str, str, str]]:
    """(method, request-URI user or host, Call-ID) of every request the server received."""
    path = fleet.message_log(server)
    if not path.is_file():
        return []
    out = []
    for block in path.read_text(errors="replace").split("-----------------------------------------------"):
        if "message received" not in block:
            continue
        request, call_id = _REQUEST.search(block), _CALL_ID.search(block)
        if request and call_id:
            out.append((request.group(1), request.group(2), call_id.group(1)))
    return out


def messages(fleet: Fleet, server: str) -> list[str]:
    """The text of every message the server (or CARRIER) received, in order."""
    path = fleet.message_log(server)
    if not path.is_file():
        return []
    blocks = path.read_text(errors="replace").split("-----------------------------------------------")
    return [b for b in blocks if "message received" in b]


def invited(fleet: Fleet, server: str) -> list[str]:
    return [user for method, user, _ in received(fleet, server) if method == "INVITE"]


def stop(fleet: Fleet) -> None:
    """Stop the processes this fleet started (their own sessions: nothing else is touched)."""
    for proc in reversed(fleet.processes):
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    for proc in fleet.processes:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    fleet.processes.clear()


@contextmanager
def running_fleet(repo: Path, shm_mb: int = 64) -> Iterator[Fleet]:
    run = short_run_dir()
    fleet = make_fleet(repo, run)
    try:
        render(repo)
        start_edge(fleet, shm_mb)
        for server in [*SERVER_ADDRESSES, CARRIER]:
            start_server(fleet, server)
        yield fleet
    finally:
        stop(fleet)
        shutil.rmtree(run, ignore_errors=True)


def sip_request(
    fleet: Fleet,
    method: str,
    to_user: str,
    from_user: str,
    *,
    wait: float = 2.0,
    source: str = "127.0.0.1",
    headers: tuple[str, ...] = (),
) -> str:
    """Send one request to the edge from a plain UDP socket on `source`, with `headers` added;
    return the final status line ("" if none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        port = sock.getsockname()[1]
        sock.settimeout(wait)
        target = f"127.0.0.1:{fleet.edge_port}"
        extra = "".join(f"{h}\r\n" for h in headers)
        message = (
            f"{method} sip:{to_user}@{target} SIP/2.0\r\n{extra}"
            f"Via: SIP/2.0/UDP {source}:{port};branch=z9hG4bK{time.monotonic_ns()}\r\n"
            f"From: <sip:{from_user}@{target}>;tag=t{time.monotonic_ns()}\r\n"
            f"To: <sip:{to_user}@{target}>\r\n"
            f"Call-ID: {time.monotonic_ns()}@pabx-test\r\nCSeq: 1 {method}\r\n"
            f"Contact: <sip:{from_user}@{source}:{port}>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        sock.sendto(message.encode(), ("127.0.0.1", fleet.edge_port))
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65535).decode(errors="replace")
            except TimeoutError:
                return ""
            status = data.split("\r\n", 1)[0]
            if not status.startswith("SIP/2.0 1"):
                return status
        return ""
