"""compute_plan: the working tree against a git revision (or what is deployed), masked.

The head is the working tree, loaded and validated. A base revision is read from git objects:
only the files that differ from the working tree are loaded from it, the rest is shared with the
head (same bytes, same models), so a one-file change on a big platform loads one file twice.
Each server is compared by the fingerprint of its render inputs; only servers whose inputs differ
are rendered (masked, both sides, cached by fingerprint) and diffed.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pabx import gitinfo
from pabx.errors import Report, UserError
from pabx.gitsource import temporary_tree, tree_blobs, worktree_blobs
from pabx.loader import load_repository, load_valid_repository
from pabx.loader.layout import HOSTS_FILE, PLATFORM_FILE, USERS_FILE, state_dir
from pabx.loader.repo import Repository
from pabx.plan.cache import Placement, RenderCache, fingerprints, global_digest, render_server
from pabx.plan.files import file_changes, reloads_for, restart_reasons
from pabx.plan.gates import compute_gates, mass_change_gates
from pabx.plan.model import Change, Gate, Plan, ServerPlan
from pabx.plan.records import live_revisions
from pabx.plan.semantic import change_order, placed, semantic_changes

DEPLOYED = "deployed"
_T = TypeVar("_T", Change, Gate)
_M = TypeVar("_M")


@dataclass
class Side:
    """One side of the comparison: a complete repository, its files' blob ids, its revision.

    Placement and fingerprints are computed on demand: only for servers a change can touch.
    """

    repo: Repository
    blobs: dict[str, str]
    revision: str | None
    volatile: frozenset[str] = frozenset()
    _placement: Placement | None = None
    _common: str | None = None
    _fingerprints: dict[str, str] = field(default_factory=dict)

    @property
    def placement(self) -> Placement:
        if self._placement is None:
            self._placement = Placement.of(self.repo)
        return self._placement

    def fingerprint(self, server: str) -> str | None:
        """The fingerprint of `server`'s render inputs; None when this side has no such server."""
        if server not in self.repo.servers:
            return None
        if server not in self._fingerprints:
            if self._common is None:
                self._common = global_digest(self.blobs)
            self._fingerprints.update(
                fingerprints(self.repo, self.blobs, self.placement, self.volatile, [server], self._common)
            )
        return self._fingerprints[server]


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - start


def compute_plan(
    repo_root: Path, base: str = "HEAD", *, allow_destructive: bool = False, threshold: float = 0.2
) -> Plan:
    """Plan the working tree at `repo_root` against `base` (a git revision, or "deployed")."""
    if not 0 <= threshold <= 1:
        raise UserError(
            f"the threshold is a fraction of a server's tenants, between 0 and 1 (got {threshold})"
        )
    root = repo_root.resolve()
    timer = _Timer()
    cache = RenderCache(root)
    with timer("hash head"):
        head_blobs = worktree_blobs(root)
    with timer("load and validate head"):
        head_repo = _load_head(root, head_blobs)
    with timer("base trees"):
        if base == DEPLOYED:
            per_server = live_revisions(root, sorted(head_repo.servers))
            trees = {rev: tree_blobs(root, rev) for rev in sorted({r for r in per_server.values() if r})}
        else:
            trees = {base: tree_blobs(root, base)}
    changed = {rev: _changed_paths(blobs, head_blobs) for rev, (_, blobs) in trees.items()}
    volatile = frozenset(p for paths in changed.values() for p in paths if p.startswith("numbers/"))
    head = Side(head_repo, head_blobs, None, volatile)
    with ExitStack() as stack:
        with timer("base sides"):
            sides = {
                rev: stack.enter_context(_base_side(root, rev, commit, blobs, changed[rev], head, volatile))
                for rev, (commit, blobs) in trees.items()
            }
        if base != DEPLOYED:
            per_server = dict.fromkeys(sorted(set(sides[base].repo.servers) | set(head_repo.servers)), base)
        groups: dict[str | None, list[str]] = defaultdict(list)
        for server, rev in sorted(per_server.items()):
            groups[rev].append(server)
        changes: list[Change] = []
        gates: list[Gate] = []
        empty = Side(Repository(root=root), {}, None)
        found_by_group: dict[str | None, list[Change]] = {}
        with timer("semantic changes"):
            for rev, members in groups.items():
                side = sides[rev] if rev else empty
                found = semantic_changes(side.repo, head_repo, changed[rev] if rev else None)
                if len(groups) > 1:  # each group of servers sees the changes that concern it
                    found = [c for c in found if not c.servers or set(c.servers) & set(members)]
                found_by_group[rev] = found
                changes += found
                gates += compute_gates(side.repo, head_repo, found)
        servers: dict[str, ServerPlan] = {}
        with timer("render and diff"):
            touched = {rev: _touched_servers(sides[rev], head, changed[rev]) for rev in sides}
            for server, rev in sorted(per_server.items()):
                side = sides[rev] if rev else empty
                scope = touched.get(rev) if rev else None
                if scope is None or server in scope:
                    servers[server] = _server_plan(server, side, head, cache)
                else:  # no input of its render differs: unchanged, nothing to render
                    servers[server] = ServerPlan(server, side.revision)
        for rev, members in groups.items():
            files = {name: list(servers[name].files) for name in members}
            side = sides[rev] if rev else empty
            gates += mass_change_gates(side.repo, found_by_group[rev], files, threshold, set(members))
        changes = sorted(_unique(changes), key=change_order)
        gates = sorted(_unique(gates), key=lambda g: (g.kind, g.id))
        resolved = {server: (sides[rev].revision if rev else None) for server, rev in per_server.items()}
    with timer("edge map"):
        from pabx.edge.plan import plan_edge

        edge_base = sides[base].repo if base in sides else next(iter(sides.values()), empty).repo
        edge = plan_edge(edge_base, head_repo)
    with timer("head revision"):
        head_revision = gitinfo.revision(root)
    return Plan(
        base=base,
        head_revision=head_revision,
        base_revisions=dict(sorted(resolved.items())),
        changes=changes,
        gates=gates,
        servers=servers,
        allow_destructive=allow_destructive,
        threshold=threshold,
        timings=timer.timings,
        edge=edge,
    )


def _package_version() -> str:
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


_PACKAGE_VERSION = _package_version()


def _load_head(root: Path, blobs: dict[str, str]) -> Repository:
    """The working tree, validated; a content-keyed verdict spares the cross-file rules a re-run.

    Validation is a function of the data files and of pabx's code: when this exact content was
    found valid by this exact code before (a re-run of the same pull request, or `apply` after
    `plan`), loading is enough. Any other content is validated in full.
    """
    digest = hashlib.sha256(_PACKAGE_VERSION.encode())
    for path, sha in blobs.items():
        digest.update(f"{path}\0{sha}\n".encode())
    stamp = state_dir(root) / "cache" / "plan-valid" / digest.hexdigest()
    enabled = os.environ.get("PABX_NO_CACHE") != "1"
    if enabled and stamp.is_file():
        report = Report()
        repo = load_repository(root, report)
        if report.ok:
            return repo
    repo, _ = load_valid_repository(root)
    if enabled:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        for old in sorted(stamp.parent.iterdir(), key=lambda p: p.stat().st_mtime)[:-63]:
            old.unlink(missing_ok=True)  # keep the last 64 verdicts
        stamp.touch()
    return repo


def _unique(items: list[_T]) -> list[_T]:
    seen: set[str] = set()
    out = []
    for item in items:
        key = repr(item.to_json())
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _changed_paths(base: dict[str, str], head: dict[str, str]) -> set[str]:
    return {p for p in set(base) | set(head) if base.get(p) != head.get(p)}


@contextmanager
def _base_side(
    root: Path,
    rev: str,
    commit: str,
    blobs: dict[str, str],
    changed: set[str],
    head: Side,
    volatile: frozenset[str],
) -> Iterator[Side]:
    """The base revision as a complete repository: changed files from git, the rest from the head."""
    wanted = {p: sha for p, sha in blobs.items() if p in changed or p.startswith("templates/")}
    with temporary_tree(root, wanted) as tmp:
        report = Report()
        partial = load_repository(tmp, report, use_cache=False)  # a few files; keep the head's cache
        if not report.ok:
            raise UserError(
                f"the base revision {rev} ({commit[:12]}) does not load: plan against another revision",
                report.sorted(),
            )
        yield Side(_merge(tmp, head.repo, partial, changed), blobs, commit, volatile)


def _merge(root: Path, head: Repository, partial: Repository, changed: set[str]) -> Repository:
    """head's models for the files that did not change, `partial`'s (the base's) for those that did."""

    def keep(folder: str, models: dict[str, _M]) -> dict[str, _M]:
        return {slug: m for slug, m in models.items() if f"{folder}/{slug}.yaml" not in changed}

    merged = Repository(root=root)
    merged.docs = {p: d for p, d in head.docs.items() if p not in changed} | partial.docs
    merged.platform = partial.platform if PLATFORM_FILE in changed else head.platform
    merged.inventory = partial.inventory if HOSTS_FILE in changed else head.inventory
    merged.servers = merged.inventory.servers() if merged.inventory is not None else {}
    merged.users = partial.users if USERS_FILE in changed else head.users
    merged.trunks = dict(sorted((keep("inventory/trunks", head.trunks) | partial.trunks).items()))
    merged.plans = dict(sorted((keep("plans", head.plans) | partial.plans).items()))
    merged.routes = dict(sorted((keep("routes", head.routes) | partial.routes).items()))
    merged.tenants = dict(sorted((keep("tenants", head.tenants) | partial.tenants).items()))
    sites = [s for s in head.number_sites if s.doc.path not in changed] + partial.number_sites
    merged.number_sites = sorted(sites, key=lambda s: (s.doc.path, s.index))
    return merged


def _digest(files: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for path, text in sorted(files.items()):
        digest.update(f"{path}\0{hashlib.sha256(text.encode('utf-8')).hexdigest()}\n".encode())
    return digest.hexdigest()


_TENANT_FILE = re.compile(r"tenants/([^/]+)\.yaml")
_NUMBERS_FILE = re.compile(r"numbers/[^/]+\.yaml")


def _touched_servers(base: Side, head: Side, changed: set[str]) -> set[str] | None:
    """Servers whose render inputs may differ between the sides (None: possibly all of them).

    A changed file other than a tenant or numbers file (inventory, plans, routes, trunks,
    templates) may touch every server. A tenant file touches the servers it is placed on, on
    either side; a numbers file, the servers of the owners (either side) of the entries that
    differ, and of the tenants presenting those numbers as caller ID. Everything else renders
    from identical inputs on both sides, which the fingerprints would only confirm.
    """
    slugs: set[str] = set()
    numbers_files: set[str] = set()
    for path in changed:
        if match := _TENANT_FILE.fullmatch(path):
            slugs.add(match.group(1))
        elif _NUMBERS_FILE.fullmatch(path):
            numbers_files.add(path)
        else:
            return None
    if numbers_files:
        before = {s.entry.number: s.entry for s in base.repo.number_sites if s.doc.path in numbers_files}
        after = {s.entry.number: s.entry for s in head.repo.number_sites if s.doc.path in numbers_files}
        differing = {n for n in set(before) | set(after) if before.get(n) != after.get(n)}
        for entries in (before, after):
            slugs |= {e.owner for n, e in entries.items() if n in differing and e.owner}
        for repo in (base.repo, head.repo):
            for slug, tenant in repo.tenants.items():
                presented = {tenant.caller_id, *(e.caller_id for e in tenant.extensions)}
                if presented & differing:
                    slugs.add(slug)
    return {s for slug in slugs for repo in (base.repo, head.repo) if (s := placed(repo.tenants.get(slug)))}


def _server_plan(server: str, base: Side, head: Side, cache: RenderCache) -> ServerPlan:
    plan = ServerPlan(server, base.revision)
    old_fp, new_fp = base.fingerprint(server), head.fingerprint(server)
    if old_fp is not None and old_fp == new_fp:
        return plan  # same inputs, same render: nothing to diff
    old = render_server(base.repo, server, base.placement, old_fp, cache) if old_fp else {}
    new = render_server(head.repo, server, head.placement, new_fp, cache) if new_fp else {}
    plan.files = file_changes(old, new)
    if not plan.files:
        return plan
    plan.base_digest = _digest(old) if old else None
    plan.head_digest = _digest(new) if new else None
    changed = sorted(plan.files)
    plan.reloads, _ = reloads_for(changed) if new else ([], [])
    plan.restart_reasons = restart_reasons(old, new, changed) if new else []
    plan.restart_required = bool(plan.restart_reasons)
    return plan
