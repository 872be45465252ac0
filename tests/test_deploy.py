"""pabx apply over real SSH: an sshd of the test's own on 127.0.0.1, three servers with their own
config directories, Ansible through ansible-runner, and the Asterisk CLI stand-in
(tests/standin/asterisk) on each.

The tests share one fleet (module scope) and run in order, each leaving it converged: first
apply, idempotent second apply, a tenant change, a failed verification rolled back on one server,
lock contention, checksum and gate refusals, drift, registrations, rollback to a revision.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import git
import pytest
import yaml
from click.testing import CliRunner

from pabx.cli import main
from pabx.deploy import ApplyOptions, ApplyResult, apply_repository
from pabx.deploy.records import live_at
from pabx.plan import compute_plan
from pabx.plan.records import read_records
from tests.conftest import ROOT, need
from tests.sshd import SshServer, sshd_unavailable_reason, start_sshd

pytestmark = pytest.mark.integration

STANDIN = ROOT / "tests" / "standin" / "asterisk"
SERVERS = ("pbx-sp-01", "pbx-sp-02", "pbx-rj-01")  # inventory order: pbx-sp-01 is the canary
TRUNK_PASSWORDS = {
    "PABX_TRUNK_VIVO_SP_PASSWORD": "vivo-test-password",
    "PABX_TRUNK_CLARO_RJ_PASSWORD": "claro-test-password",
    "PABX_TRUNK_EMBRATEL_PASSWORD": "embratel-test-password",
}
ORIGINAL_PJSIP = "[global]\ntype=global\nuser_agent=Asterisk PBX\n"


@dataclass
class Fleet:
    repo: Path
    servers: dict[str, Path]  # server -> its config directory (pabx_asterisk_etc)
    ssh: SshServer
    state: Path

    def standin(self, server: str) -> Path:
        return self.servers[server].parent / "asterisk-standin"

    def commands(self, server: str) -> list[str]:
        log = self.standin(server) / "commands.log"
        return log.read_text().splitlines() if log.is_file() else []

    def clear_commands(self) -> None:
        for server in self.servers:
            (self.standin(server) / "commands.log").unlink(missing_ok=True)

    def live(self, server: str) -> Path:
        return self.servers[server] / "pabx"

    def commit(self, message: str) -> str:
        repo = git.Repo(self.repo)
        repo.git.add("-A")
        repo.git.commit("-q", "-m", message)
        return repo.head.commit.hexsha


def _reloads(commands: list[str]) -> list[str]:
    return [c for c in commands if c.startswith(("module reload", "dialplan reload"))]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    reason = sshd_unavailable_reason()
    need(reason is None, reason or "sshd")
    base = tmp_path_factory.mktemp("fleet")
    ssh = start_sshd(base / "sshd")
    try:
        repo = base / "repo"
        repo.mkdir()
        for folder in ("inventory", "tenants", "numbers", "routes", "plans", "schemas", "templates"):
            shutil.copytree(ROOT / folder, repo / folder)
        roots = {name: base / "servers" / name / "etc" / "asterisk" for name in SERVERS}
        _write_inventory(repo, roots, ssh)
        for root in roots.values():
            root.mkdir(parents=True)
            (root / "pjsip.conf").write_text(ORIGINAL_PJSIP)  # Asterisk's own file, kept as it was
        repository = git.Repo.init(repo)
        with repository.config_writer() as config:
            config.set_value("user", "name", "Deploy Test")
            config.set_value("user", "email", "deploy-test@example.com")
        repository.git.add("-A")
        repository.git.commit("-q", "-m", "platform data")
        yield Fleet(repo, roots, ssh, base / "state")
    finally:
        ssh.stop()


@pytest.fixture(autouse=True)
def _fleet_env(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PABX_STATE_DIR", str(fleet.state))
    for name, value in TRUNK_PASSWORDS.items():
        monkeypatch.setenv(name, value)


def _write_inventory(repo: Path, roots: dict[str, Path], ssh: SshServer) -> None:
    """Three servers on the one test sshd, each with its own root and the CLI stand-in; a third
    server pbx-sp-02 takes tenant ana-ferreira and carries the SP trunks."""
    hosts_file = repo / "inventory" / "hosts.yml"
    data = yaml.safe_load(hosts_file.read_text())
    data["all"]["children"].pop("edge", None)  # the servers' deploy; tests/test_deploy_edge.py has the edge
    hosts = data["all"]["children"]["asterisk"]["hosts"]
    hosts["pbx-sp-02"] = {**hosts["pbx-sp-01"], "pabx_site": "São Paulo/SP (2)"}
    ordered = {}
    for name in SERVERS:
        ordered[name] = {
            **hosts[name],
            **ssh.host_vars(name),
            "pabx_asterisk_etc": str(roots[name]),
            "pabx_asterisk_cli": str(STANDIN),
        }
    data["all"]["children"]["asterisk"]["hosts"] = ordered
    header = "# yaml-language-server: $schema=../schemas/inventory.schema.json\n"
    hosts_file.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    for trunk in ("vivo-sp", "embratel"):
        path = repo / "inventory" / "trunks" / f"{trunk}.yaml"
        text = path.read_text()
        text = re.sub(
            r"servers: \[([^\]]*)\]", lambda m: f"servers: [{m.group(1)}, pbx-sp-02]", text, count=1
        )
        path.write_text(text)
    tenant = repo / "tenants" / "ana-ferreira.yaml"
    tenant.write_text(tenant.read_text().replace("server: pbx-sp-01", "server: pbx-sp-02"))


def _apply(fleet: Fleet, **options: object) -> ApplyResult:
    lines: list[str] = []
    result = apply_repository(fleet.repo, ApplyOptions(**options), progress=lines.append)  # type: ignore[arg-type]
    result.progress = lines  # type: ignore[attr-defined]
    return result


def _outcomes(result: ApplyResult) -> dict[str, str]:
    return {name: s.outcome for name, s in result.servers.items()}


# --- the scenario -----------------------------------------------------------------------------------


def test_first_apply_converges_every_server(fleet: Fleet) -> None:
    result = _apply(fleet)
    assert _outcomes(result) == dict.fromkeys(SERVERS, "ok"), result.servers
    head = git.Repo(fleet.repo).head.commit.hexsha
    for server, root in fleet.servers.items():
        link = fleet.live(server)
        assert link.is_symlink()
        release = Path(os.readlink(link))
        assert release.parent == root / "pabx-releases"
        assert release.name.startswith(head[:12] + "-")
        manifest = json.loads((release / "manifest.json").read_text())
        assert manifest["server"] == server and manifest["revision"] == head
        for rel in manifest["files"]:
            mode = (release / rel).stat().st_mode & 0o777
            assert mode == (0o600 if rel.rsplit("/", 1)[-1] in ("pjsip.conf", "voicemail.conf") else 0o644), (
                rel
            )
        # the secrets are real on the server (never masked), and the include lines are managed
        assert "(masked)" not in (release / "pjsip.conf").read_text()
        assert TRUNK_PASSWORDS["PABX_TRUNK_VIVO_SP_PASSWORD"] in (release / "pjsip.conf").read_text()
        own = (root / "pjsip.conf").read_text()
        assert own.startswith(ORIGINAL_PJSIP)
        assert '#include "pabx/pjsip.conf"' in own
        assert '#include "pabx/extensions.conf"' in (root / "extensions.conf").read_text()
        live = json.loads((root / "pabx-live.json").read_text())
        assert live["revision"] == head and live["release"] == str(release) and live["server"] == server
        assert not (root / "pabx-apply.lock").exists()
        commands = fleet.commands(server)
        assert "module reload res_pjsip.so" in commands and "dialplan reload" in commands
        assert "core reload" not in commands
        assert "pjsip show endpoints" in commands
    # every tenant's phones context was checked on its server
    assert "dialplan show t_acme_phones" in fleet.commands("pbx-sp-01")
    assert "dialplan show t_ana-ferreira_phones" in fleet.commands("pbx-sp-02")
    assert "dialplan show t_clinica-sorriso_phones" in fleet.commands("pbx-rj-01")
    # progress per server and step while it ran
    assert any(
        line.startswith("pbx-sp-02") and "Switch the symlink atomically: changed" in line
        for line in result.progress
    )  # type: ignore[attr-defined]
    # deploy records in git notes, read back the way plan --base deployed reads them
    records = read_records(fleet.repo)
    assert sorted(r.server for r in records) == sorted(SERVERS)
    assert {r.result for r in records} == {"ok"} and {r.revision for r in records} == {head}
    assert {r.actor for r in records} == {"Deploy Test"}
    assert compute_plan(fleet.repo, "deployed").is_empty


def test_second_apply_changes_nothing_and_a_held_lock_stops_its_server(fleet: Fleet) -> None:
    before = {s: os.readlink(fleet.live(s)) for s in SERVERS}
    lock = fleet.servers["pbx-sp-02"] / "pabx-apply.lock"
    lock.write_text(json.dumps({"owner": "someone else", "time": "now"}) + "\n")
    fleet.clear_commands()
    result = _apply(fleet)
    assert _outcomes(result) == {"pbx-sp-01": "unchanged", "pbx-sp-02": "failed", "pbx-rj-01": "unchanged"}
    assert (
        "locked" in result.servers["pbx-sp-02"].error and "someone else" in result.servers["pbx-sp-02"].error
    )
    assert lock.is_file()  # the loser never removes the winner's lock
    assert {s: os.readlink(fleet.live(s)) for s in SERVERS} == before
    for server in SERVERS:
        assert fleet.commands(server) == []  # no reload, nothing asked of Asterisk at all
    head = git.Repo(fleet.repo).head.commit.hexsha
    assert [(r.server, r.result) for r in read_records(fleet.repo) if r.result != "ok"] == [
        ("pbx-sp-02", "failed")
    ]
    assert all(r.revision == head for r in read_records(fleet.repo))


def test_tenant_change_reloads_only_what_the_plan_named(fleet: Fleet, runner: CliRunner) -> None:
    tenant = fleet.repo / "tenants" / "acme.yaml"
    text = tenant.read_text()
    assert "name: Recepção" in text
    tenant.write_text(text.replace("name: Recepção", "name: Recepção Principal", 1))
    fleet.commit("acme: rename the reception extension")
    plan = compute_plan(fleet.repo, "HEAD~1")
    assert plan.changed_servers == ["pbx-sp-01"]
    named = plan.servers["pbx-sp-01"].reloads
    assert named == ["module reload res_pjsip.so"]
    previous = os.readlink(fleet.live("pbx-sp-01"))
    lock = fleet.servers["pbx-sp-02"] / "pabx-apply.lock"
    old = time.time() - 3600
    os.utime(lock, (old, old))  # the lock left by the last test is now stale: it is broken
    fleet.clear_commands()
    cli = runner.invoke(
        main, ["apply", "--repo", str(fleet.repo), "--base", "HEAD~1", "--checksum", plan.checksum]
    )
    assert cli.exit_code == 0, cli.output
    assert re.search(r"pbx-sp-01\s+ok", cli.output) and re.search(r"pbx-rj-01\s+unchanged", cli.output)
    assert "reloads: module reload res_pjsip.so" in cli.output
    assert _reloads(fleet.commands("pbx-sp-01")) == named
    assert fleet.commands("pbx-sp-02") == [] and fleet.commands("pbx-rj-01") == []
    now = os.readlink(fleet.live("pbx-sp-01"))
    assert now != previous and Path(previous).is_dir()  # the previous release is kept for rollback
    assert not lock.exists()
    assert (
        "Recepção Principal" in (Path(now) / "tenants" / "acme" / "pjsip.conf").read_text()
        or "Recep" in (Path(now) / "tenants" / "acme" / "pjsip.conf").read_text()
    )


def test_failed_verification_rolls_back_that_server_only(fleet: Fleet) -> None:
    trunk = fleet.repo / "inventory" / "trunks" / "vivo-sp.yaml"
    trunk.write_text(re.sub(r"^port: \d+", "port: 5062", trunk.read_text(), flags=re.M))
    fleet.commit("vivo-sp: new port")
    before = {s: os.readlink(fleet.live(s)) for s in SERVERS}
    (fleet.standin("pbx-rj-01") / "fail").write_text("dialplan show\n")  # verification fails there
    fleet.clear_commands()
    try:
        result = _apply(fleet, base="HEAD~1")
    finally:
        (fleet.standin("pbx-rj-01") / "fail").unlink()
    outcomes = _outcomes(result)
    assert outcomes == {"pbx-sp-01": "ok", "pbx-sp-02": "ok", "pbx-rj-01": "rolled-back"}, result.servers
    assert not result.ok and result.failed == ["pbx-rj-01"]
    assert "contexts not loaded" in result.servers["pbx-rj-01"].error
    assert os.readlink(fleet.live("pbx-rj-01")) == before["pbx-rj-01"]  # switched back
    for server in ("pbx-sp-01", "pbx-sp-02"):
        assert os.readlink(fleet.live(server)) != before[server]
    # the new release was loaded, then the previous one again
    assert _reloads(fleet.commands("pbx-rj-01")) == ["module reload res_pjsip.so"] * 2
    live = json.loads((fleet.servers["pbx-rj-01"] / "pabx-live.json").read_text())
    assert live["release"] == before["pbx-rj-01"]
    head = git.Repo(fleet.repo).head.commit.hexsha
    mine = {r.server: r.result for r in read_records(fleet.repo) if r.revision == head}
    assert mine == {"pbx-sp-01": "ok", "pbx-sp-02": "ok", "pbx-rj-01": "rolled-back"}


def test_refuses_a_plan_that_is_not_the_reviewed_one_or_has_gates(fleet: Fleet, runner: CliRunner) -> None:
    fleet.clear_commands()
    before = {s: os.readlink(fleet.live(s)) for s in SERVERS}
    cli = runner.invoke(main, ["apply", "--repo", str(fleet.repo), "--checksum", "0" * 64])
    assert cli.exit_code == 2, cli.output
    assert "is not the one reviewed" in cli.output and "Traceback" not in cli.output
    numbers = fleet.repo / "numbers" / "11.yaml"
    original = numbers.read_text()
    numbers.write_text(
        "".join(line for line in original.splitlines(keepends=True) if "1130010030" not in line)
    )
    try:
        cli = runner.invoke(main, ["apply", "--repo", str(fleet.repo)])
        assert cli.exit_code == 2, cli.output
        assert "--allow-destructive" in cli.output and "1130010030" in cli.output
    finally:
        numbers.write_text(original)
    for server in SERVERS:
        assert fleet.commands(server) == []
    assert {s: os.readlink(fleet.live(s)) for s in SERVERS} == before


def test_drift_lists_servers_whose_live_files_differ(fleet: Fleet, runner: CliRunner) -> None:
    cli = runner.invoke(
        main, ["drift", "--repo", str(fleet.repo), "--server", "pbx-sp-01", "--server", "pbx-rj-01"]
    )
    assert cli.exit_code == 3, cli.output  # pbx-rj-01 still runs the release before the trunk change
    assert re.search(r"pbx-rj-01\s+drift", cli.output) and re.search(r"pbx-sp-01\s+in-sync", cli.output)
    assert "differs: pjsip.conf" in cli.output
    live = fleet.live("pbx-sp-01")
    edited_release = os.readlink(live)
    edited = live / "tenants" / "acme" / "extensions.conf"
    edited.write_text(edited.read_text() + "; edited by hand on the server\n")
    secret = live / "pjsip.conf"
    secret.write_text(secret.read_text().replace("vivo-test-password", "changed-by-hand"))
    cli = runner.invoke(main, ["drift", "--repo", str(fleet.repo)])
    assert cli.exit_code == 3, cli.output
    assert re.search(r"pbx-sp-01\s+drift", cli.output) and re.search(r"pbx-sp-02\s+in-sync", cli.output)
    assert "differs: tenants/acme/extensions.conf" in cli.output
    assert "-; edited by hand on the server" in cli.output  # the diff of a file without secrets
    assert "changed-by-hand" not in cli.output and "vivo-test-password" not in cli.output
    # the apply repairs it (a new release: the edited directory is never reused)
    repaired = _apply(fleet)
    assert _outcomes(repaired) == {"pbx-sp-01": "ok", "pbx-sp-02": "unchanged", "pbx-rj-01": "ok"}
    assert os.readlink(fleet.live("pbx-sp-01")) != edited_release
    cli = runner.invoke(main, ["drift", "--repo", str(fleet.repo)])
    assert cli.exit_code == 0, cli.output


def test_status_writes_the_registrations_json(fleet: Fleet, runner: CliRunner) -> None:
    phones = [
        {
            "aor": "acme_2001",
            "uri": "sip:acme_2001@203.0.113.7:5060;ob",
            "user_agent": "Yealink SIP-T46U 108.86.0.20",
            "status": "Avail",
            "rtt": 12.5,
        },
        {"aor": "nobody_2001", "uri": "sip:x@198.51.100.9", "user_agent": "x", "status": "Avail", "rtt": 1},
    ]
    (fleet.standin("pbx-sp-01") / "contacts.json").write_text(json.dumps(phones))
    cli = runner.invoke(main, ["status", "--repo", str(fleet.repo)])
    assert cli.exit_code == 0, cli.output
    data = json.loads((fleet.state / "status" / "registrations.json").read_text())
    assert data["endpoints"] == {
        "acme_2001": {
            "server": "pbx-sp-01",
            "address": "203.0.113.7",
            "user_agent": "Yealink SIP-T46U 108.86.0.20",
            "status": "Avail",
        }
    }
    assert set(data["servers"]) == set(SERVERS) and all(s["ok"] for s in data["servers"].values())
    assert dt.datetime.fromisoformat(data["collected_at"]).tzinfo is not None


def test_rollback_commits_the_old_data_and_applies_it(fleet: Fleet, runner: CliRunner) -> None:
    repo = git.Repo(fleet.repo)
    target = repo.commit("HEAD~1")  # before the trunk port change
    assert target.summary == "acme: rename the reception extension"
    cli = runner.invoke(main, ["rollback", "--repo", str(fleet.repo), "--to", target.hexsha])
    assert cli.exit_code == 0, cli.output
    head = repo.head.commit
    assert head.hexsha != target.hexsha and target.hexsha[:12] in head.message
    assert head.tree["inventory"].hexsha == target.tree["inventory"].hexsha
    assert head.tree["tenants"].hexsha == target.tree["tenants"].hexsha
    assert re.search(r"pbx-sp-01\s+ok", cli.output)
    live = Path(os.readlink(fleet.live("pbx-sp-01")))
    assert (
        "port=5062" not in (live / "pjsip.conf").read_text()
        and ":5062" not in (live / "pjsip.conf").read_text()
    )
    now = live_at(fleet.repo)
    assert {name: r.revision for name, r in now.items()} == dict.fromkeys(SERVERS, head.hexsha)
    cli = runner.invoke(main, ["deploys", "--repo", str(fleet.repo), "--server", "pbx-rj-01", "--history"])
    assert cli.exit_code == 0 and "rolled-back" in cli.output
