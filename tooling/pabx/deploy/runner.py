"""Running one of pabx's playbooks through ansible-runner: events become progress lines, and the
`pabx result` task of each host becomes a `HostResult`.

The playbooks live in tooling/ansible/ (package data `pabx/ansible`). Extra variables go to
ansible-runner's env/extravars file, never on the command line (a big platform's would not fit),
and never hold a secret: secrets travel only inside the release tarballs.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pabx.errors import InternalError, UserError

RESULT_TASK = "Pabx result"
PLAYBOOKS = Path(__file__).resolve().parent.parent / "ansible"

Progress = Callable[[str], None]


def playbook(name: str) -> Path:
    path = PLAYBOOKS / name
    if not path.is_file():
        raise InternalError(f"playbook {name} is missing from {PLAYBOOKS}")
    return path


@dataclass
class HostResult:
    """What one server reported (or why it could not)."""

    server: str
    outcome: str  # ok, unchanged, failed, rolled-back, unreachable, check-changed, check-unchanged
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass
class RunResult:
    status: str
    rc: int
    hosts: dict[str, HostResult]
    diffs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # host -> check-mode diffs


class _Events:
    """ansible-runner event handler: concise progress lines, results and diffs collected."""

    def __init__(self, progress: Progress | None, secret_tasks: frozenset[str]) -> None:
        self.progress = progress
        self.secret_tasks = secret_tasks
        self.results: dict[str, dict[str, Any]] = {}
        self.failures: dict[str, str] = {}
        self.unreachable: dict[str, str] = {}
        self.diffs: dict[str, list[dict[str, Any]]] = {}

    def __call__(self, event: Mapping[str, Any]) -> bool:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        host = str(data.get("host") or "")
        task = str(data.get("task") or "")
        res = data.get("res") or {}
        if kind == "runner_on_ok" and task == RESULT_TASK:
            msg = res.get("msg") or {}
            if isinstance(msg, dict) and isinstance(msg.get("pabx_result"), dict):
                self.results[host] = msg["pabx_result"]
            return False  # keep the raw result out of the artifacts' stdout
        if (
            kind in ("runner_on_ok", "runner_item_on_ok")
            and res.get("diff")
            and task not in self.secret_tasks
        ):
            diff = res["diff"]
            self.diffs.setdefault(host, []).extend(diff if isinstance(diff, list) else [diff])
        if kind == "runner_on_unreachable":
            self.unreachable[host] = str(res.get("msg") or "unreachable")
        if kind == "runner_on_failed" and not data.get("ignore_errors"):
            self.failures[host] = str(res.get("msg") or res.get("stderr") or "failed")
        self._progress(kind, host, task, res)
        return True

    def _progress(self, kind: str, host: str, task: str, res: Mapping[str, Any]) -> None:
        if self.progress is None or not host:
            return
        skipped_step = task.startswith(("Reload SKIPPED", "Verification SKIPPED"))
        if skipped_step and kind in ("runner_on_ok", "runner_item_on_ok"):
            if kind == "runner_on_ok" and res.get("results"):
                return  # a loop: each item said it
            self.progress(f"{host:<16} {res.get('msg')}")
            return
        if kind == "runner_on_ok":
            state = "changed" if res.get("changed") else "ok"
        elif kind == "runner_on_failed":
            state = "FAILED" + ("" if res.get("_ansible_ignore_errors") else f": {_first_line(res)}")
        elif kind == "runner_on_unreachable":
            state = f"UNREACHABLE: {_first_line(res)}"
        elif kind == "runner_item_on_ok" and task in ("Reload", "Reload the previous release"):
            state = f"{res.get('item')}: ok"
        elif kind == "runner_item_on_failed":
            state = f"{res.get('item')}: FAILED: {_first_line(res)}"
        else:
            return
        if task in ("Decide", "Remember the lock is ours", "Done", "Keep the error", "Rolled back"):
            return
        self.progress(f"{host:<16} {task}: {state}")


def _first_line(res: Mapping[str, Any]) -> str:
    text = str(res.get("msg") or res.get("stderr") or res.get("stdout") or "").strip()
    return text.splitlines()[0][:200] if text else ""


def ansible_environment(workdir: Path, control: Path) -> dict[str, str]:
    """Settings every pabx run uses: fast SSH (pipelining, shared connections), no retry files.
    `control` holds the SSH control sockets: a short path (a socket path has ~100 bytes at most)."""
    return {
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control),
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=10s",
        "ANSIBLE_SSH_USETTY": "False",  # raw steps need no terminal: output arrives whole, without \r
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ANSIBLE_SYSTEM_WARNINGS": "False",
        "ANSIBLE_GATHERING": "explicit",
        "ANSIBLE_TIMEOUT": "20",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def run_playbook(
    name: str,
    inventory: Path,
    extravars: Mapping[str, Any],
    workdir: Path,
    *,
    limit: list[str] | None = None,
    check: bool = False,
    diff: bool = False,
    forks: int = 10,
    progress: Progress | None = None,
    secret_tasks: frozenset[str] = frozenset(),
) -> RunResult:
    """Run `tooling/ansible/<name>` against `inventory` (always a file) and collect results."""
    import ansible_runner  # imported here: it is slow to import and only apply/drift/status need it

    if not inventory.is_file():
        raise UserError(f"inventory {inventory} does not exist")
    private = workdir / "runner"
    if private.exists():
        shutil.rmtree(private)
    (private / "env").mkdir(parents=True)
    (private / "env" / "extravars").write_text(json.dumps(extravars), encoding="utf-8")
    args = [a for a, on in (("--check", check), ("--diff", diff)) if on]
    events = _Events(progress, secret_tasks)
    control = Path(tempfile.mkdtemp(prefix="pabx-cp-"))
    try:
        run = ansible_runner.run(
            private_data_dir=str(private),
            playbook=str(playbook(name)),
            inventory=str(inventory.resolve()),
            limit=",".join(limit) if limit else None,
            forks=max(1, forks),
            cmdline=" ".join(args) if args else None,
            envvars=ansible_environment(workdir, control),
            event_handler=events,
            quiet=True,
            rotate_artifacts=1,
            json_mode=False,
        )
    finally:
        shutil.rmtree(control, ignore_errors=True)
    hosts: dict[str, HostResult] = {}
    for host, data in events.results.items():
        hosts[host] = HostResult(
            host, str(data.get("outcome") or "failed"), data, str(data.get("error") or "")
        )
    for host, why in events.unreachable.items():
        hosts.setdefault(host, HostResult(host, "unreachable", {}, why))
    for host, why in events.failures.items():
        hosts.setdefault(host, HostResult(host, "failed", {}, why))
    if run.rc != 0 and not hosts:
        tail = (run.stdout.read() if run.stdout else "").strip().splitlines()[-15:]
        raise UserError(f"ansible-playbook {name} failed (rc {run.rc}):\n" + "\n".join(tail))
    return RunResult(str(run.status), int(run.rc or 0), hosts, events.diffs)
