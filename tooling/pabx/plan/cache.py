"""Content-keyed render of one server: its fingerprint, its own small repository, a disk cache.

A server's masked render depends only on the global files (inventory, plans, routes, trunks,
templates), the tenants placed on it and the number entries they own or present. The fingerprint
hashes exactly those (plus the render code), so two sides with the same fingerprint for a server
render it byte-identically, and a rendered server is cached under `state/cache/plan-render/`.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pabx.loader.layout import state_dir
from pabx.loader.repo import NumberSite, Repository
from pabx.model import Tenant
from pabx.plan.semantic import placed
from pabx.render import render_servers
from pabx.render.env import TOOL_TEMPLATES
from pabx.render.secrets import Secrets

_PACKAGE = Path(__file__).resolve().parent.parent
_PER_SERVER_PREFIXES = ("tenants/", "numbers/")
MAX_ENTRIES = 400


def _code_version() -> str:
    """The render code and the tool's own templates: a change to either is a new fingerprint."""
    digest = hashlib.sha256()
    for folder in ("render", "model", "loader", "brazil", "edge"):
        for source in sorted((_PACKAGE / folder).glob("*.py")):
            digest.update(source.name.encode() + b"\0" + source.read_bytes())
    if TOOL_TEMPLATES.is_dir():
        for tpl in sorted(TOOL_TEMPLATES.rglob("*")):
            if tpl.is_file():
                digest.update(tpl.relative_to(TOOL_TEMPLATES).as_posix().encode() + b"\0" + tpl.read_bytes())
    return digest.hexdigest()


CODE_VERSION = _code_version()


@dataclass
class Placement:
    """One side's tenants grouped by server and number entries grouped by tenant, computed once."""

    tenants: dict[str, list[tuple[str, Tenant]]] = field(default_factory=dict)
    sites: dict[str, list[NumberSite]] = field(default_factory=dict)  # owner -> sites
    by_number: dict[str, NumberSite] = field(default_factory=dict)

    @classmethod
    def of(cls, repo: Repository) -> Placement:
        tenants: dict[str, list[tuple[str, Tenant]]] = defaultdict(list)
        for slug, tenant in sorted(repo.tenants.items()):
            server = placed(tenant)
            if server:
                tenants[server].append((slug, tenant))
        sites: dict[str, list[NumberSite]] = defaultdict(list)
        by_number: dict[str, NumberSite] = {}
        for site in repo.number_sites:
            by_number.setdefault(site.entry.number, site)
            if site.entry.owner:
                sites[site.entry.owner].append(site)
        return cls(dict(tenants), dict(sites), by_number)

    def server_sites(self, server: str) -> list[NumberSite]:
        """Number entries a server's render can read: owned by its tenants, or presented by them.

        In a deterministic order (tenants by slug, their entries in file order), without sorting.
        """
        chosen: list[NumberSite] = []
        seen: set[int] = set()
        for slug, tenant in self.tenants.get(server, []):
            owned = self.sites.get(slug, ())
            for site in owned:
                if id(site) not in seen:
                    seen.add(id(site))
                    chosen.append(site)
            presented = {tenant.caller_id, *(e.caller_id for e in tenant.extensions)}
            presented.discard(None)
            for number in sorted(n for n in presented if n):
                found = self.by_number.get(number)
                if found is not None and id(found) not in seen:
                    seen.add(id(found))
                    chosen.append(found)
        return chosen


def global_digest(blobs: dict[str, str]) -> str:
    digest = hashlib.sha256(CODE_VERSION.encode())
    for path, sha in blobs.items():
        if not path.startswith(_PER_SERVER_PREFIXES):
            digest.update(f"{path}\0{sha}\n".encode())
    return digest.hexdigest()


def fingerprints(
    repo: Repository,
    blobs: dict[str, str],
    placement: Placement,
    volatile: frozenset[str] = frozenset(),
    servers: list[str] | None = None,
    common: str | None = None,
) -> dict[str, str]:
    """server -> fingerprint of every input of its render (`servers`, default all of this side's).

    A number entry is identified by (file, file's blob id, index) - cheap - unless its file is
    `volatile` (it differs between the sides being compared): then by its own content, so that
    assigning one number changes the fingerprint of its owner's server only. Both identify the
    entry's content, so the fingerprint stays a sound cache key. `common` is global_digest(blobs).
    """
    base = common or global_digest(blobs)
    out: dict[str, str] = {}
    for server in sorted(repo.servers) if servers is None else servers:
        parts = [base, server]
        for slug, _ in placement.tenants.get(server, []):
            parts.append(f"T{slug}\0{blobs.get(f'tenants/{slug}.yaml', '')}")
        for site in placement.server_sites(server):
            path = site.doc.path
            if path in volatile:
                parts.append("E" + repr(tuple(site.entry.__dict__.items())))
            else:
                parts.append(f"F{path}\0{blobs.get(path, '')}\0{site.index}")
        out[server] = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()
    return out


def server_repository(repo: Repository, server: str, placement: Placement) -> Repository:
    """The part of `repo` one server's render reads: same render, a fraction of the work."""
    return Repository(
        root=repo.root,
        platform=repo.platform,
        inventory=repo.inventory,
        servers={server: repo.servers[server]},
        trunks=repo.trunks,
        plans=repo.plans,
        routes=repo.routes,
        tenants=dict(placement.tenants.get(server, [])),
        number_sites=placement.server_sites(server),
        users=repo.users,
    )


class RenderCache:
    """Masked renders of single servers by fingerprint, in the state directory."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.folder = state_dir(root) / "cache" / "plan-render"
        self.enabled = enabled and os.environ.get("PABX_NO_CACHE") != "1"

    def _path(self, fingerprint: str) -> Path:
        return self.folder / f"{fingerprint}.pickle"

    def get(self, fingerprint: str) -> dict[str, str] | None:
        if not self.enabled:
            return None
        try:
            with self._path(fingerprint).open("rb") as fh:
                files = pickle.load(fh)
        except Exception:  # missing or unreadable: render again
            return None
        return files if isinstance(files, dict) else None

    def put(self, fingerprint: str, files: dict[str, str]) -> None:
        if not self.enabled:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(fingerprint)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(files, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        self._prune()

    def _prune(self) -> None:
        entries = sorted(self.folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in entries[: max(0, len(entries) - MAX_ENTRIES)]:
            old.unlink(missing_ok=True)


def render_server(
    repo: Repository, server: str, placement: Placement, fingerprint: str, cache: RenderCache
) -> dict[str, str]:
    """One server's masked render, from the cache when its fingerprint was rendered before."""
    cached = cache.get(fingerprint)
    if cached is not None:
        return cached
    files = render_servers(server_repository(repo, server, placement), Secrets(None))[server]
    cache.put(fingerprint, files)
    return files
