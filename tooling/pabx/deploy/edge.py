"""The edge's part of an apply: each edge host's files rendered, packed once and shipped by
tooling/ansible/edge.yml (compare, write what differs, kamcmd reloads; never a restart)."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

from pabx.deploy.runner import Progress, RunResult, run_playbook
from pabx.deploy.targets import Target
from pabx.loader.repo import Repository

EDGE_PLAYBOOK = "edge.yml"


def stage_edges(repo: Repository, hosts: list[str], dest: Path) -> dict[str, dict[str, object]]:
    """edge -> {"tarball": path, "files": {relative path: sha256}} of its rendered files (the edge
    map holds no secret; the manifest stays on the controller: it changes with every commit)."""
    from pabx.edge.render import render_edges  # Jinja: imported by who renders

    dest.mkdir(parents=True, exist_ok=True)
    staged: dict[str, dict[str, object]] = {}
    for name, files in sorted(render_edges(repo).items()):
        if name not in hosts:
            continue
        tarball = dest / f"{name}.tar.gz"
        _pack(files, tarball)
        staged[name] = {
            "tarball": str(tarball.resolve()),
            "files": {rel: hashlib.sha256(text.encode("utf-8")).hexdigest() for rel, text in files.items()},
        }
    return staged


def ship_edges(
    staged: dict[str, dict[str, object]],
    target: Target,
    workdir: Path,
    *,
    check: bool,
    progress: Progress | None,
) -> RunResult:
    """Run edge.yml on the staged edge hosts; each reports outcome, reloads, restart_required."""
    from pabx.edge.render import RELOAD_COMMANDS

    return run_playbook(
        EDGE_PLAYBOOK,
        target.inventory,
        {"pabx_edges": staged, "pabx_edge_reloads": list(RELOAD_COMMANDS)},
        workdir,
        limit=sorted(staged),
        check=check,
        forks=min(max(len(staged), 1), 20),
        progress=progress,
    )


def _pack(files: dict[str, str], tarball: Path) -> None:
    """A gzip tarball of the files (mode 0644, no owners)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for rel, text in sorted(files.items()):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            info.mode = 0o644
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    fd = os.open(tarball, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(buffer.getvalue())
