"""Running the generators for each server and writing build/<server>/ with its manifest."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from pabx.errors import InternalError, UserError
from pabx.loader.repo import Repository
from pabx.render import naming
from pabx.render.env import make_environment
from pabx.render.generators import GENERATORS, RenderContext
from pabx.render.secrets import Secrets
from pabx.render.view import server_views


@dataclass
class ServerResult:
    server: str
    files: dict[str, str]
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> int:
        return len(self.files) - len(self.written)


@dataclass
class RenderResult:
    servers: dict[str, ServerResult]
    masked: bool
    revision: str


def render_servers(
    repo: Repository, secrets: Secrets, *, only: list[str] | None = None
) -> dict[str, dict[str, str]]:
    """server -> {relative path: text} for every entry and tenant file (manifest excluded)."""
    views = server_views(repo)
    if only:
        unknown = sorted(set(only) - set(views))
        if unknown:
            raise UserError(f"unknown server(s): {', '.join(unknown)} (known: {', '.join(views)})")
        views = {name: views[name] for name in only}
    rc = RenderContext(repo.root, make_environment(repo.root), secrets)
    out: dict[str, dict[str, str]] = {}
    for name, view in views.items():
        files: dict[str, str] = {}
        for entry, gen in GENERATORS.items():
            produced = gen(view, rc)
            clash = set(produced) & set(files)
            if clash:
                raise InternalError(f"generator {entry} rewrote {sorted(clash)}")
            files.update({rel: text.rstrip("\n") + "\n" for rel, text in produced.items()})
        out[name] = dict(sorted(files.items()))
    return out


def manifest(server: str, files: dict[str, str], revision: str, masked: bool) -> str:
    """Revision and checksums of one server's release; never inside the config files themselves."""
    body = {
        "server": server,
        "revision": revision,
        "masked": masked,
        "files": {
            rel: hashlib.sha256(text.encode("utf-8")).hexdigest() for rel, text in sorted(files.items())
        },
    }
    return json.dumps(body, indent=2, sort_keys=True) + "\n"


def write_release(target: Path, files: dict[str, str], extra: dict[str, str]) -> tuple[list[str], list[str]]:
    """Make `target` hold exactly `files` + `extra`; return (written, removed). Secrets get 0600."""
    wanted = {**files, **extra}
    written: list[str] = []
    for rel, text in wanted.items():
        path = target / rel
        data = text.encode("utf-8")
        mode = 0o600 if naming.is_secret_file(rel) else 0o644
        if path.is_file() and path.read_bytes() == data:
            if (path.stat().st_mode & 0o777) != mode:
                path.chmod(mode)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        tmp.replace(path)
        if rel in files:
            written.append(rel)
    removed: list[str] = []
    if target.is_dir():
        for path in sorted(target.rglob("*"), reverse=True):
            rel = path.relative_to(target).as_posix()
            if path.is_file() and rel not in wanted:
                path.unlink()
                removed.append(rel)
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return written, sorted(removed)


def render_repository(
    repo: Repository,
    out: Path,
    secrets: Secrets,
    *,
    revision: str,
    only: list[str] | None = None,
) -> RenderResult:
    rendered = render_servers(repo, secrets, only=only)
    results: dict[str, ServerResult] = {}
    for server, files in rendered.items():
        extra = {naming.MANIFEST: manifest(server, files, revision, secrets.masked)}
        written, removed = write_release(out / server, files, extra)
        results[server] = ServerResult(server, files, written, removed)
    return RenderResult(results, secrets.masked, revision)
