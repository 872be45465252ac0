"""Benchmark: `pabx apply` to 10 loopback SSH servers against 1, same load per server.

Each server is a real SSH login (one test sshd on 127.0.0.1, tests/sshd.py) with its own config
directory and the Asterisk CLI stand-in; every server gets 50 generated tenants (500 extensions).
Three applies for each fleet: the first deploy into fresh directories (upload, verify, switch,
include lines, every reload, verification), a change that touches every server (a trunk's port:
one pjsip reload each), and an apply that must change nothing. Prints the times and the ratios
10 servers / 1 server. Target: under 4x on the 2-core machine, where the servers share the
cores with Ansible.
"""

from __future__ import annotations

import os
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import git
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.sshd import SshServer, sshd_unavailable_reason, start_sshd  # noqa: E402

from pabx.deploy import ApplyOptions, apply_repository  # noqa: E402

TENANTS_PER_SERVER = 50
TARGET_RATIO = 4.0
STANDIN = ROOT / "tests" / "standin" / "asterisk"


def platform(base: Path, servers: int, ssh: SshServer) -> Path:
    """A generated platform with `servers` servers, TENANTS_PER_SERVER tenants on each."""
    repo = base / "repo"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("pabx")),
            "generate",
            "--tenants",
            str(TENANTS_PER_SERVER * servers),
            "--out",
            str(repo),
        ],
        check=True,
        capture_output=True,
    )
    names = [f"pbx-b-{i:02d}" for i in range(1, servers + 1)]
    cli = standin_cli(base, str(ssh.host_vars()["ansible_python_interpreter"]))
    hosts = {
        name: {
            **ssh.host_vars(name),
            "pabx_capacity": {"concurrent_calls": 1000, "tenants": 200},
            "pabx_asterisk_etc": str(base / "servers" / name / "etc" / "asterisk"),
            "pabx_asterisk_cli": str(cli),
        }
        for name in names
    }
    inventory = {"all": {"children": {"asterisk": {"hosts": hosts}}}}
    header = "# yaml-language-server: $schema=../schemas/inventory.schema.json\n"
    (repo / "inventory" / "hosts.yml").write_text(header + yaml.safe_dump(inventory, sort_keys=False))
    for trunk in (repo / "inventory" / "trunks").glob("*.yaml"):
        text = re.sub(r"servers: \[[^\]]*\]", f"servers: [{', '.join(names)}]", trunk.read_text())
        trunk.write_text(text)
    for index, tenant in enumerate(sorted((repo / "tenants").glob("*.yaml"))):
        text = re.sub(r"^server: .*$", f"server: {names[index % servers]}", tenant.read_text(), flags=re.M)
        tenant.write_text(text)
    for name in names:
        (base / "servers" / name / "etc" / "asterisk").mkdir(parents=True)
    repository = git.Repo.init(repo)
    repository.git.add("-A")
    repository.git.commit("-q", "-m", "bench platform", env={**os.environ, **IDENTITY})
    return repo


def standin_cli(base: Path, python: str) -> Path:
    """The Asterisk CLI stand-in started by the servers' own Python, not by whatever `python3` the
    stand-in's `#!/usr/bin/env python3` finds on PATH (on a pyenv machine a bash shim costing
    80 ms a call: the apply asks `asterisk -rx` about 55 times per server, real Asterisk's CLI
    answers in milliseconds)."""
    cli = base / "asterisk"
    cli.write_text(f'#!/bin/sh\nexec {shlex.quote(python)} {shlex.quote(str(STANDIN))} "$@"\n')
    cli.chmod(0o755)
    return cli


IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def change_every_server(repo: Path) -> None:
    """A trunk every server carries gets a new port: every pjsip.conf changes (one reload each)."""
    trunk = sorted((repo / "inventory" / "trunks").glob("*.yaml"))[0]
    trunk.write_text(re.sub(r"^port: \d+", "port: 5099", trunk.read_text(), count=1, flags=re.M))
    repository = git.Repo(repo)
    repository.git.commit("-q", "-am", "a new trunk port", env={**os.environ, **IDENTITY})


def controller_cpu() -> float:
    """CPU seconds of this process and its finished children: pabx, Ansible, the SSH clients,
    asterisklint. The servers' processes are the sshd's children: not counted."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_apply(repo: Path, expect: str) -> tuple[float, float]:
    """(wall seconds, controller CPU seconds) of one apply."""
    start, cpu = time.perf_counter(), controller_cpu()
    result = apply_repository(repo, ApplyOptions(record=False))
    elapsed, cpu = time.perf_counter() - start, controller_cpu() - cpu
    outcomes = {s.outcome for s in result.servers.values()}
    if outcomes != {expect}:
        raise SystemExit(f"apply gave {sorted(outcomes)}, expected {expect}: {result.servers}")
    return elapsed, cpu


def main() -> int:
    reason = sshd_unavailable_reason()
    if reason is not None:
        print(f"skipped: needs {reason}")
        return 0
    os.environ.setdefault("PABX_SECRET_KEY", "bench-throwaway-key")
    results: dict[int, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="pabx-bench-apply-") as tmp:
        ssh = start_sshd(Path(tmp) / "sshd")
        try:
            for servers in (1, 10):
                base = Path(tmp) / f"fleet-{servers}"
                repo = platform(base, servers, ssh)
                os.environ["PABX_STATE_DIR"] = str(base / "state")
                for trunk in (repo / "inventory" / "trunks").glob("*.yaml"):
                    found = re.search(r"password_env: (\S+)", trunk.read_text())
                    if found:
                        os.environ.setdefault(found.group(1), "bench-trunk-password")
                first = timed_apply(repo, "ok")
                change_every_server(repo)
                change = timed_apply(repo, "ok")
                again = timed_apply(repo, "unchanged")
                results[servers] = [first, change, again]
                print(
                    f"{servers:>2} server(s), {TENANTS_PER_SERVER} tenants each (wall / controller CPU): "
                    f"first deploy {first[0]:5.1f} s / {first[1]:5.1f} s, "
                    f"a change on every server {change[0]:5.1f} s / {change[1]:5.1f} s, "
                    f"no change {again[0]:5.1f} s / {again[1]:5.1f} s",
                    flush=True,
                )
        finally:
            ssh.stop()
    for index, what in enumerate(("first deploy", "a change on every server", "no change")):
        ratio = results[10][index][0] / results[1][index][0]
        cpu = results[10][index][1] / results[1][index][1]
        verdict = "met" if ratio < TARGET_RATIO else "NOT met"
        print(
            f"ratio 10/1, {what}: {ratio:.2f}x (target < {TARGET_RATIO:.0f}x: {verdict}); "
            f"controller CPU {cpu:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
