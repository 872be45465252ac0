"""Running the generators for each server and writing build/<server>/ with its manifest."""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pabx.errors import InternalError, require_known
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
        require_known(only, views)
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


def manifest(
    server: str,
    files: dict[str, str],
    revision: str,
    masked: bool,
    fingerprint: str = "",
    *,
    checksums: bool = False,
) -> str:
    """Revision and checksums of one server's release; never inside the config files themselves.

    `files` maps paths to texts, or (checksums=True) to their sha256 already computed.
    """
    body: dict[str, Any] = {
        "server": server,
        "revision": revision,
        "masked": masked,
        "files": {
            rel: (value if checksums else hashlib.sha256(value.encode("utf-8")).hexdigest())
            for rel, value in sorted(files.items())
        },
    }
    if fingerprint:
        body["fingerprint"] = fingerprint
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
    jobs: int | None = None,
    force: bool = False,
) -> RenderResult:
    """Render and write every server (or `only` these), skipping servers whose inputs did not change.

    Each server's manifest records a fingerprint of every input of its render (its tenants' and
    numbers' file contents, the global files, the render code and templates, and which secrets
    were used). A server whose fingerprint matches its manifest is not rendered again: a change
    to one tenant re-renders one server and rewrites that tenant's files only. Servers to render
    are spread over `jobs` processes (default: the CPUs) when there are many. `force` renders
    and compares every file anyway (to repair a build directory edited by hand).
    """
    from pabx.edge.model import edge_hosts
    from pabx.plan.cache import Placement, fingerprints  # the plan shares this cache key

    edges = edge_hosts(repo)
    if only:
        require_known(only, [*repo.servers, *edges])
    servers = sorted(s for s in only if s in repo.servers) if only else sorted(repo.servers)
    placement = Placement.of(repo)
    blobs = {path: doc.text_sha for path, doc in repo.docs.items()}
    blobs.update(_template_blobs(repo.root))
    identity = _secrets_identity(repo, secrets)
    keys = {
        name: hashlib.sha256(f"{fp}\0{identity}".encode()).hexdigest()
        for name, fp in fingerprints(repo, blobs, placement, servers=servers).items()
    }
    results: dict[str, ServerResult] = {}
    todo: list[str] = []
    for server in servers:
        stored = _stored_manifest(out / server)
        unchanged = stored is not None and stored.get("fingerprint") == keys[server]
        if unchanged and not force and stored is not None and _intact(out / server, stored):
            files = dict.fromkeys(stored["files"], "")
            text = manifest(server, stored["files"], revision, secrets.masked, keys[server], checksums=True)
            write_release_manifest(out / server, text)
            results[server] = ServerResult(server, files, [], [])
        else:
            todo.append(server)
    global _JOB
    _JOB = (repo, placement, out, secrets, revision, keys)
    workers = min(jobs or os.cpu_count() or 1, len(todo))
    if workers > 1 and len(todo) >= 4:
        context = multiprocessing.get_context("fork")
        with context.Pool(workers) as pool:
            done = pool.map(_render_one, todo, chunksize=max(1, len(todo) // (workers * 4)))
    else:
        done = [_render_one(server) for server in todo]
    _JOB = None
    for result in done:
        results[result.server] = result
    if edges:  # the Kamailio edge in front of the servers (pabx.edge)
        from pabx.edge.render import write_edges

        results.update(write_edges(repo, out, revision, secrets.masked, only=only))
    return RenderResult(dict(sorted(results.items())), secrets.masked, revision)


_JOB: tuple[Repository, object, Path, Secrets, str, dict[str, str]] | None = None


def _render_one(server: str) -> ServerResult:
    """Render one server from its own slice of the repository and write it (runs in a worker)."""
    from pabx.plan.cache import server_repository

    assert _JOB is not None
    repo, placement, out, secrets, revision, keys = _JOB
    files = render_servers(server_repository(repo, server, placement), secrets)[server]  # type: ignore[arg-type]
    extra = {naming.MANIFEST: manifest(server, files, revision, secrets.masked, keys[server])}
    written, removed = write_release(out / server, files, extra)
    # A worker sends back names only: the texts stay on disk.
    return ServerResult(server, dict.fromkeys(files, ""), written, removed)


def _template_blobs(root: Path) -> dict[str, str]:
    """A repository's own templates override the tool's: their content is an input too."""
    folder = root / "templates"
    if not folder.is_dir():
        return {}
    return {
        f"templates/{p.relative_to(folder).as_posix()}": hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _secrets_identity(repo: Repository, secrets: Secrets) -> str:
    """Which secrets a render used, as a digest that reveals none of them."""
    if secrets.key is None:
        return "masked"
    mac = hmac.new(secrets.key, b"render-identity", hashlib.sha256)
    for name in sorted({t.password_env for t in repo.trunks.values() if t.password_env}):
        mac.update(f"{name}\0{secrets.environ.get(name, '')}\n".encode())
    return mac.hexdigest()


def _stored_manifest(target: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((target / naming.MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), dict) else None


def _intact(target: Path, stored: dict[str, Any]) -> bool:
    """The files a manifest lists are all there (their content is checked by the apply)."""
    return all((target / rel).is_file() for rel in stored["files"])


def write_release_manifest(target: Path, text: str) -> None:
    path = target / naming.MANIFEST
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
