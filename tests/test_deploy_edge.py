"""The edge deployed by the same `pabx apply`, for real: tooling/ansible/edge.yml over SSH (the test's
own sshd) into a live folder that a real Kamailio runs from, beside the two Asterisk servers
(over SSH too, with the CLI stand-in) whose SIP side is a SIPp UAS each on 127.0.0.2/127.0.0.3.

The tests share one fleet (module scope) and run in order: the first apply ships the servers and
the edge files (kamailio.cfg is new: no reload, restart required; the test then starts Kamailio
from the live folder); a tenant moved by a one-line YAML edit goes new server -> edge (tables
reloaded in the running Kamailio, same process) -> old server's cleanup; an apply with no change
leaves the edge alone; a reload that cannot reach Kamailio fails the edge, holds back the cleanup
and is done by the next apply. Then the local target ships the edge into its folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import git
import pytest
import yaml
from click.testing import CliRunner

from pabx.cli import main
from pabx.deploy import ApplyOptions, ApplyResult, apply_repository
from pabx.edge.render import CONFIG, RELOAD_COMMANDS, render_edges
from pabx.loader import load_valid_repository
from pabx.plan.records import read_records
from tests import edge_support
from tests.conftest import ROOT, need
from tests.edge_support import EDGE, SERVER_ADDRESSES
from tests.sshd import sshd_unavailable_reason, start_sshd
from tests.test_deploy import ORIGINAL_PJSIP, STANDIN, TRUNK_PASSWORDS
from tests.test_deploy import Fleet as Servers

pytestmark = pytest.mark.integration

CALLER = "1140040000"
MARKER = "pabx-test-marker"  # set in Kamailio's memory only: a table reload wipes it


@dataclass
class LiveEdge(edge_support.Fleet):
    """edge_support's fleet, with Kamailio run from the folder the apply ships to (not build/)."""

    live: Path = Path()

    @property
    def build(self) -> Path:
        return self.live


@dataclass
class Deployed:
    servers: Servers  # the Asterisk side (tests/test_deploy.py's fleet helpers)
    edge: LiveEdge
    kamailio: subprocess.Popen[bytes] | None = None

    @property
    def repo(self) -> Path:
        return self.servers.repo

    def move(self, tenant: str, server: str) -> None:
        """The one-line YAML change, committed."""
        path = self.repo / "tenants" / f"{tenant}.yaml"
        text = path.read_text(encoding="utf-8")
        moved = re.sub(r"^server: .*$", f"server: {server}", text, count=1, flags=re.MULTILINE)
        assert moved != text
        path.write_text(moved, encoding="utf-8")
        self.servers.commit(f"{tenant}: move to {server}")

    def live_files(self) -> dict[str, str]:
        return {
            p.relative_to(self.edge.live).as_posix(): p.read_text()
            for p in sorted(self.edge.live.rglob("*"))
            if p.is_file()
        }

    def rendered(self) -> dict[str, str]:
        loaded, _ = load_valid_repository(self.repo)
        return render_edges(loaded)[EDGE]

    def dids(self, tenant: str) -> list[str]:
        loaded, _ = load_valid_repository(self.repo)
        return sorted(n.number for n in loaded.numbers.values() if n.owner == tenant)


def _kamcmd(deployed: Deployed, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kamcmd", "-s", deployed.edge.ctl, *args], capture_output=True, text=True, timeout=10, check=False
    )


def _set_marker(deployed: Deployed) -> None:
    edge_support.kamcmd(deployed.edge, "htable.sets", "tenant", MARKER, "x")
    assert _has_marker(deployed)


def _has_marker(deployed: Deployed) -> bool:
    answer = _kamcmd(deployed, "htable.get", "tenant", MARKER)
    found = re.search(r"^\s*value: (\S+)\s*$", answer.stdout, re.MULTILINE)
    assert found or "doesn't exist" in answer.stdout + answer.stderr, answer
    return bool(found and found.group(1) == "x")


def _write_inventory(
    repo: Path, servers: dict[str, Path], live: Path, ssh_vars: Callable[[str], dict[str, object]]
) -> None:
    """The servers and the edge of edge_support's fleet, each reached over the test's sshd."""
    hosts_file = repo / "inventory" / "hosts.yml"
    data = yaml.safe_load(hosts_file.read_text())
    children = data["all"]["children"]
    for name, root in servers.items():
        children["asterisk"]["hosts"][name].update(
            {**ssh_vars(name), "pabx_asterisk_etc": str(root), "pabx_asterisk_cli": str(STANDIN)}
        )
    children["edge"]["hosts"][EDGE].update({**ssh_vars(EDGE), "pabx_kamailio_etc": str(live)})
    header = "# yaml-language-server: $schema=../schemas/inventory.schema.json\n"
    hosts_file.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    reason = sshd_unavailable_reason()
    need(reason is None, reason or "sshd")
    need(edge_support.have_tools(), "kamailio, kamcmd and sipp (Debian packages kamailio and sip-tester)")
    base = tmp_path_factory.mktemp("edge-fleet")
    ssh = start_sshd(base / "sshd")
    run = edge_support.short_run_dir()  # the ctl socket's path must stay under 108 bytes
    edge: LiveEdge | None = None
    try:
        repo = base / "repo"
        repo.mkdir()
        for folder in ("inventory", "tenants", "numbers", "routes", "plans", "schemas", "templates"):
            shutil.copytree(ROOT / folder, repo / folder)
        made = edge_support.make_fleet(repo, run)  # servers on 127.0.0.2/.3, edge-01 on 127.0.0.1
        live = base / "edge-01" / "etc" / "kamailio" / "pabx"
        edge = LiveEdge(**{f.name: getattr(made, f.name) for f in fields(made)}, live=live)
        roots = {name: base / "servers" / name / "etc" / "asterisk" for name in SERVER_ADDRESSES}
        for root in roots.values():
            root.mkdir(parents=True)
            (root / "pjsip.conf").write_text(ORIGINAL_PJSIP)
        _write_inventory(repo, roots, live, ssh.host_vars)
        repository = git.Repo.init(repo)
        with repository.config_writer() as config:
            config.set_value("user", "name", "Deploy Test")
            config.set_value("user", "email", "deploy-test@example.com")
        repository.git.add("-A")
        repository.git.commit("-q", "-m", "platform data with an edge")
        for server in SERVER_ADDRESSES:
            edge_support.start_server(edge, server)
        yield Deployed(Servers(repo, roots, ssh, base / "state"), edge)
    finally:
        if edge is not None:
            edge_support.stop(edge)
        ssh.stop()
        shutil.rmtree(run, ignore_errors=True)


@pytest.fixture(autouse=True)
def _env(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PABX_STATE_DIR", str(deployed.servers.state))
    for name, value in TRUNK_PASSWORDS.items():
        monkeypatch.setenv(name, value)


def _apply(deployed: Deployed, **options: object) -> tuple[ApplyResult, list[str]]:
    lines: list[str] = []
    result = apply_repository(deployed.repo, ApplyOptions(**options), progress=lines.append)  # type: ignore[arg-type]
    return result, lines


def _call_lands_on(deployed: Deployed, did: str) -> str:
    """Place one call to `did` through the edge; the server whose SIPp UAS got the INVITE."""
    before = {s: edge_support.invited(deployed.edge, s).count(did) for s in SERVER_ADDRESSES}
    done = edge_support.place_calls(deployed.edge, [(did, CALLER)])
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    got = [s for s in SERVER_ADDRESSES if edge_support.invited(deployed.edge, s).count(did) > before[s]]
    assert len(got) == 1, got
    return got[0]


def _first(lines: list[str], pattern: str) -> int:
    found = [i for i, line in enumerate(lines) if re.search(pattern, line)]
    assert found, f"no progress line matches {pattern!r}:\n" + "\n".join(lines)
    return found[0]


# --- the scenario -----------------------------------------------------------------------------------


def test_first_apply_ships_the_servers_and_the_edge_files(deployed: Deployed) -> None:
    result, lines = _apply(deployed)
    assert {n: s.outcome for n, s in result.servers.items()} == {
        "edge-01": "ok",
        "pbx-rj-01": "ok",
        "pbx-sp-01": "ok",
    }, result.servers
    edge = result.servers[EDGE]
    # a new kamailio.cfg: nothing to reload into (Kamailio loads it, and the tables, when it starts)
    assert edge.reloads == [] and edge.restart_required
    assert any("SKIPPED" in line and "restart Kamailio" in line for line in lines)
    assert _first(lines, r"^fase: edge \(edge-01\)") > _first(lines, r"^pbx-sp-01\s+Switch the symlink")
    live = deployed.live_files()
    assert live == deployed.rendered()  # every file rendered, nothing else (no manifest, no marker)
    assert str(deployed.edge.live) in live[CONFIG]  # the tables are read from where they were shipped
    # deploy records are for Asterisk releases: the edge has none
    assert sorted(r.server for r in read_records(deployed.repo)) == sorted(SERVER_ADDRESSES)

    deployed.kamailio = edge_support.start_edge(deployed.edge)  # the operator's (re)start
    assert _call_lands_on(deployed, deployed.dids("acme")[0]) == "pbx-sp-01"


def test_moving_a_tenant_goes_new_server_edge_old_server_without_restarting_kamailio(
    deployed: Deployed,
) -> None:
    assert deployed.kamailio is not None and deployed.kamailio.poll() is None
    before = deployed.live_files()
    _set_marker(deployed)
    deployed.move("acme", "pbx-rj-01")
    deployed.servers.clear_commands()
    result, lines = _apply(deployed, base="HEAD~1")
    assert {n: s.outcome for n, s in result.servers.items()} == dict.fromkeys(
        ("edge-01", "pbx-rj-01", "pbx-sp-01"), "ok"
    ), result.servers
    # the phases in order, and each host's work inside its phase
    new = _first(lines, r"^fase: servidores novos \(pbx-rj-01\)")
    edge_phase = _first(lines, r"^fase: edge \(edge-01\)")
    cleanup = _first(lines, r"^fase: limpeza dos servidores antigos \(pbx-sp-01\)")
    assert new < _first(lines, r"^pbx-rj-01\s+Switch the symlink") < edge_phase
    assert edge_phase < _first(lines, r"^edge-01\s+Reload: htable.reload did: ok") < cleanup
    assert cleanup < _first(lines, r"^pbx-sp-01\s+Switch the symlink")
    edge = result.servers[EDGE]
    assert edge.reloads == list(RELOAD_COMMANDS) and not edge.restart_required and not edge.error
    # the tables changed on the host, kamailio.cfg did not
    after = deployed.live_files()
    assert after == deployed.rendered()
    assert after["db/did"] != before["db/did"] and after["db/tenant"] != before["db/tenant"]
    assert after[CONFIG] == before[CONFIG]
    assert not (deployed.edge.live / "pabx-reload-pending").exists()
    # the same Kamailio process reloaded its tables: the marker set in memory is gone
    assert deployed.kamailio.poll() is None
    assert not _has_marker(deployed)
    assert "pbx-rj-01" in edge_support.kamcmd(deployed.edge, "htable.get", "tenant", "acme")
    for did in deployed.dids("acme")[:2]:
        assert _call_lands_on(deployed, did) == "pbx-rj-01"
    assert "dialplan show t_acme_phones" in deployed.servers.commands("pbx-rj-01")


def test_an_apply_with_no_change_leaves_the_edge_alone(deployed: Deployed) -> None:
    _set_marker(deployed)
    result, lines = _apply(deployed)
    assert {n: s.outcome for n, s in result.servers.items()} == dict.fromkeys(
        ("edge-01", "pbx-rj-01", "pbx-sp-01"), "unchanged"
    ), result.servers
    assert result.servers[EDGE].reloads == [] and not result.servers[EDGE].restart_required
    assert not [line for line in lines if line.startswith(EDGE) and "Reload:" in line]
    assert _has_marker(deployed)  # no reload happened
    assert deployed.kamailio is not None and deployed.kamailio.poll() is None


def test_a_reload_that_cannot_reach_kamailio_fails_the_edge_and_holds_the_cleanup(
    deployed: Deployed, runner: CliRunner
) -> None:
    ctl = Path(deployed.edge.ctl.removeprefix("unix:"))
    away = ctl.with_name("ctl.away")
    did = deployed.dids("ana-ferreira")[0]
    sp01_live = os.readlink(deployed.servers.live("pbx-sp-01"))
    deployed.move("ana-ferreira", "pbx-rj-01")
    ctl.rename(away)  # Kamailio runs on, its ctl socket cannot be reached at the configured path
    try:
        cli = runner.invoke(main, ["apply", "--repo", str(deployed.repo), "--base", "HEAD~1"])
    finally:
        away.rename(ctl)
    assert cli.exit_code == 1, cli.output
    assert "Traceback" not in cli.output
    assert re.search(r"edge-01\s+failed", cli.output), cli.output
    error = next(line for line in cli.output.splitlines() if "error:" in line and "kamcmd" in line)
    assert f"Reload: kamcmd -s {deployed.edge.ctl} htable.reload did failed: " in error, error
    assert "connect" in error and "(kamcmd exit 255)" in error, error
    assert "the old servers' cleanup is not applied" in cli.output
    assert re.search(r"pbx-sp-01\s+not-run", cli.output), cli.output
    assert os.readlink(deployed.servers.live("pbx-sp-01")) == sp01_live  # ana-ferreira is still there
    assert (deployed.edge.live / "pabx-reload-pending").is_file()
    assert _call_lands_on(deployed, did) == "pbx-sp-01"  # Kamailio still routes by its old tables

    # the same apply again: the tables are in place already, the pending reload is done now
    result, _ = _apply(deployed, base="HEAD~1")
    assert {n: s.outcome for n, s in result.servers.items()} == {
        "edge-01": "ok",
        "pbx-rj-01": "unchanged",
        "pbx-sp-01": "ok",
    }, result.servers
    assert result.servers[EDGE].reloads == list(RELOAD_COMMANDS)
    assert not (deployed.edge.live / "pabx-reload-pending").exists()
    assert _call_lands_on(deployed, did) == "pbx-rj-01"
    assert deployed.kamailio is not None and deployed.kamailio.poll() is None


def test_the_local_target_ships_the_edge_into_its_folder_and_skips_the_reloads(
    deployed: Deployed, runner: CliRunner
) -> None:
    live = deployed.live_files()
    folder = deployed.servers.state / "local-target" / EDGE / "etc" / "kamailio" / "pabx"
    check = runner.invoke(main, ["apply", "--repo", str(deployed.repo), "--target", "local", "--check"])
    assert check.exit_code == 0, check.output
    assert re.search(r"edge-01\s+check-changed", check.output), check.output
    assert not [p for p in folder.rglob("*") if p.is_file()]  # check mode writes nothing
    cli = runner.invoke(main, ["apply", "--repo", str(deployed.repo), "--target", "local"])
    assert cli.exit_code == 0, cli.output
    shipped = {
        p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()
    }
    assert shipped == deployed.rendered()
    for command in RELOAD_COMMANDS:
        assert f"SKIPPED: {command} (no kamcmd configured for edge-01)" in cli.output
    assert re.search(r"edge-01\s+ok", cli.output), cli.output
    assert "reloads: htable" not in cli.output and "RESTART REQUIRED" not in cli.output
    inventory = yaml.safe_load((deployed.servers.state / "local-target" / "hosts.yml").read_text())
    assert inventory["all"]["children"]["edge"]["hosts"][EDGE]["pabx_kamailio_etc"] == str(folder)
    again = runner.invoke(main, ["apply", "--repo", str(deployed.repo), "--target", "local"])
    assert again.exit_code == 0, again.output
    assert re.search(r"edge-01\s+unchanged", again.output) and "SKIPPED" not in again.output
    assert deployed.live_files() == live  # the SSH edge host was not touched by the local target
