"""`drift`: which servers' live files differ from what git renders (Ansible check mode, diff).

The releases are rendered with secrets, as the apply would ship them, so the comparison is
exact; files holding secrets are compared by checksum and their diff is never shown.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pabx import gitinfo
from pabx.deploy.release import stage_releases
from pabx.deploy.runner import Progress, run_playbook
from pabx.deploy.targets import TargetKind, resolve_target
from pabx.errors import UserError, require_known
from pabx.loader import load_valid_repository
from pabx.loader.layout import state_dir
from pabx.render import naming
from pabx.render.secrets import KEY_VARIABLE, Secrets

PLAYBOOK = "drift.yml"


@dataclass
class ServerDrift:
    server: str
    outcome: str  # in-sync, drift, failed, unreachable
    live: str = ""
    live_revision: str = ""
    differs: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    includes_missing: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)  # unified diffs of files without secrets
    error: str = ""

    @property
    def drifted(self) -> bool:
        return self.outcome != "in-sync"


@dataclass
class DriftReport:
    revision: str
    servers: dict[str, ServerDrift]

    @property
    def drifted(self) -> list[str]:
        return [name for name, s in self.servers.items() if s.drifted]


def drift(
    repo_root: Path,
    servers: list[str] | None = None,
    target: TargetKind | str = TargetKind.SSH,
    progress: Progress | None = None,
) -> DriftReport:
    root = repo_root.resolve()
    secrets = Secrets.from_environment()
    if secrets.masked:
        raise UserError(f"{KEY_VARIABLE} is not set: drift compares with the files as applied (with secrets)")
    repo, _ = load_valid_repository(root)
    where = resolve_target(root, repo, target)
    selected = list(servers or []) or sorted(repo.servers)
    require_known(selected, repo.servers)
    revision = gitinfo.revision(root)
    workdir = state_dir(root) / "deploy" / "drift" / uuid.uuid4().hex[:8]
    try:
        staged = stage_releases(repo, secrets, revision, workdir / "releases", only=selected, verify=False)
        extravars: dict[str, Any] = {
            "pabx_servers": {
                name: {
                    "stage": str(release.directory),
                    "files": release.sums,
                    "entry_files": release.entry_files,
                    "secret_files": sorted(p for p in release.files if naming.is_secret_file(p)),
                }
                for name, release in staged.items()
            }
        }
        result = run_playbook(
            PLAYBOOK,
            where.inventory,
            extravars,
            workdir,
            limit=selected,
            check=True,
            diff=True,
            forks=min(len(selected), 20),
            progress=progress,
            secret_tasks=frozenset({"Live file with secrets differs (diff hidden)"}),
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report: dict[str, ServerDrift] = {}
    for name in selected:
        host = result.hosts.get(name)
        if host is None:
            report[name] = ServerDrift(name, "failed", error="no answer")
            continue
        data = host.data
        if host.outcome not in ("drift", "in-sync"):
            report[name] = ServerDrift(name, host.outcome, error=host.error)
            continue
        report[name] = ServerDrift(
            name,
            host.outcome,
            live=str(data.get("live") or ""),
            live_revision=str(data.get("live_revision") or ""),
            differs=list(data.get("differs") or []),
            missing=list(data.get("missing") or []),
            extra=list(data.get("extra") or []),
            includes_missing=list(data.get("includes_missing") or []),
            diffs=[_unified(d) for d in result.diffs.get(name, []) if isinstance(d, dict)],
        )
    return DriftReport(revision, dict(sorted(report.items())))


def _unified(diff: dict[str, Any]) -> str:
    """Ansible's before/after diff as a unified diff (live -> git)."""
    import difflib

    before = str(diff.get("before") or "")
    after = str(diff.get("after") or "")
    before_name = str(diff.get("before_header") or "live")
    after_name = str(diff.get("after_header") or "git")
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"live: {before_name}",
        tofile=f"git: {after_name}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def utc_stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
