"""A server's release as the apply ships it: rendered with secrets, checked on the controller
(the project's own parser and asterisklint: Asterisk has no dry-run), packed as one tarball.

The release directory holds the rendered files and `manifest.json` (revision and the checksum of
every file), which the server checks the unpacked release against before switching to it.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import tarfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pabx.errors import InternalError, Severity, require_known
from pabx.loader.repo import Repository
from pabx.render import naming, render_servers, write_release
from pabx.render.check import check_release, parse_release
from pabx.render.lint import asterisklint, asterisklint_binary
from pabx.render.output import manifest
from pabx.render.secrets import Secrets
from pabx.render.view import server_views

PHONES_CONTEXT = "_phones"


def content_checksum(files: dict[str, str]) -> str:
    """Identity of a release's content (not of its revision): same files, same checksum."""
    digest = hashlib.sha256()
    for path, text in sorted(files.items()):
        digest.update(f"{path}\0{hashlib.sha256(text.encode('utf-8')).hexdigest()}\n".encode())
    return digest.hexdigest()


def release_name(revision: str, checksum: str) -> str:
    """`<revision12>-<checksum8>`: sortable by eye, unique per content and commit."""
    commit = revision.removesuffix("-dirty")[:12] if revision != "unversioned" else "unversioned"
    dirty = "d" if revision.endswith("-dirty") else ""
    return f"{commit}{dirty}-{checksum[:8]}"


@dataclass
class StagedRelease:
    """One server's release on the controller, ready to upload."""

    server: str
    name: str
    checksum: str
    files: dict[str, str]
    directory: Path
    tarball: Path
    contexts: list[str]  # t_<slug>_phones of every tenant rendered here
    endpoints: list[str]  # every PJSIP endpoint rendered here (extensions and trunks)
    problems: list[str] = field(default_factory=list)  # controller-side verification failures

    @property
    def sums(self) -> dict[str, str]:
        return {rel: hashlib.sha256(text.encode("utf-8")).hexdigest() for rel, text in self.files.items()}

    @property
    def entry_files(self) -> list[str]:
        return [entry for entry in naming.ENTRY_FILES if entry in self.files]

    @property
    def verified(self) -> bool:
        return not self.problems


def stage_releases(
    repo: Repository,
    secrets: Secrets,
    revision: str,
    dest: Path,
    *,
    only: list[str] | None = None,
    verify: bool = True,
    verified_cache: Path | None = None,
) -> dict[str, StagedRelease]:
    """Render every (or `only` these) server's release into `dest/<server>/`, check and pack it.

    Each server's release is rendered, checked and packed in a process of its own (one per core;
    a single server is done here): the repository and the secrets reach the workers by fork, the
    releases come back through a pipe; nothing is written outside `dest` (0700). The checks depend
    on the files alone, so a release whose content was checked before (its checksum in
    `verified_cache`) is not checked again; asterisklint runs in a thread beside the parser checks
    (it is a child process: the cores work at once).
    """
    dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o700)  # the releases hold secrets
    servers = list(_servers(repo, only))
    cached = _read_cache(verified_cache) if verify else {}
    job = _Job(repo, secrets, revision, dest, verify, cached)
    workers = min(len(servers), os.cpu_count() or 1)
    if workers <= 1:
        releases = [job.stage(server) for server in servers]
    else:
        context = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        )
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_adopt, initargs=(job,)) as pool:
            releases = list(pool.map(_stage_one, servers))
    staged = {release.server: release for release in releases}
    if verify and verified_cache is not None:
        # only a clean release is remembered: a problem (asterisklint missing…) is looked at again
        fresh: dict[str, list[str]] = {
            r.checksum: [] for r in releases if r.checksum not in cached and not r.problems
        }
        _write_cache(verified_cache, {**cached, **fresh})
    return staged


def _servers(repo: Repository, only: list[str] | None) -> list[str]:
    """The servers to stage, in render order (an unknown one is refused as render_servers does)."""
    views = server_views(repo)
    if only:
        require_known(only, views)
        return list(only)
    return list(views)


@dataclass
class _Job:
    """What every worker needs to stage a server (inherited by fork, never written to disk)."""

    repo: Repository
    secrets: Secrets
    revision: str
    dest: Path
    verify: bool
    cached: dict[str, list[str]]

    def stage(self, server: str) -> StagedRelease:
        files = render_servers(self.repo, self.secrets, only=[server])[server]
        checksum = content_checksum(files)
        directory = self.dest / server
        extra = {naming.MANIFEST: manifest(server, files, self.revision, self.secrets.masked)}
        write_release(directory, files, extra)
        release = StagedRelease(
            server=server,
            name=release_name(self.revision, checksum),
            checksum=checksum,
            files=files,
            directory=directory,
            tarball=self.dest / f"{server}.tar.gz",
            contexts=_phone_contexts(files),
            endpoints=_endpoints(files),
        )
        if self.verify:
            if checksum in self.cached:
                release.problems = list(self.cached[checksum])
            else:
                with ThreadPoolExecutor(max_workers=1) as lint_pool:
                    linted = lint_pool.submit(_lint, release)
                    release.problems = _parser_problems(release)
                    release.problems += linted.result()
        _pack(release.directory, release.tarball)
        return release


_JOB: _Job | None = None


def _adopt(job: _Job) -> None:
    global _JOB
    _JOB = job


def _stage_one(server: str) -> StagedRelease:
    if _JOB is None:
        raise InternalError("release worker started without its job")
    return _JOB.stage(server)


def verify_release(release: StagedRelease, *, lint: bool = True) -> list[str]:
    """Problems that stop this release before upload: parser references, then asterisklint."""
    return _parser_problems(release) + (_lint(release) if lint else [])


def _parser_problems(release: StagedRelease) -> list[str]:
    return [
        f"{p.path}:{p.line}: {p.message} [{p.rule}]"
        for p in check_release(release.files)
        if p.severity is Severity.ERROR
    ]


def _lint(release: StagedRelease) -> list[str]:
    if asterisklint_binary() is None:
        return ["asterisklint is not installed (pip install asterisklint): release not checked"]
    return [
        f"{f.file}:{f.line}: {f.code}: {f.message} [asterisklint]" for f in asterisklint(release.directory)
    ]


def _read_cache(path: Path | None) -> dict[str, list[str]]:
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): [str(p) for p in v] for k, v in data.items()} if isinstance(data, dict) else {}


def _write_cache(path: Path, data: dict[str, list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    recent = dict(list(data.items())[-2000:])  # bounded: the releases of the last applies
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(recent), encoding="utf-8")
    os.replace(tmp, path)


def _phone_contexts(files: dict[str, str]) -> list[str]:
    if "extensions.conf" not in files:
        return []
    config = parse_release(files, "extensions.conf")
    names = {s.name for s in config.concrete_sections()}
    return sorted(n for n in names if n.startswith("t_") and n.endswith(PHONES_CONTEXT))


def _endpoints(files: dict[str, str]) -> list[str]:
    if "pjsip.conf" not in files:
        return []
    config = parse_release(files, "pjsip.conf")
    return sorted({s.name for s in config.concrete_sections() if s.get("type") == "endpoint"})


def _pack(directory: Path, tarball: Path) -> None:
    """A gzip tarball of the release without owners; modes kept (secrets 0600)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for path in sorted(directory.rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(directory).as_posix()
            info = tarfile.TarInfo(rel)
            data = path.read_bytes()
            info.size = len(data)
            info.mode = path.stat().st_mode & 0o777
            info.mtime = int(path.stat().st_mtime)
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    fd = os.open(tarball, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(buffer.getvalue())
