"""compute_plan: the working tree against a git revision (or what is deployed), masked.

The head is the working tree, loaded and validated. A base revision is read from git objects:
only the files that differ from the working tree are loaded from it, the rest is shared with the
head (same bytes, same models), so a one-file change on a big platform loads one file twice.
Each server is compared by the fingerprint of its render inputs; only servers whose inputs differ
are rendered (masked, both sides, cached by fingerprint) and diffed.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pabx import gitinfo
from pabx.errors import Report, UserError
from pabx.gitsource import materialized, tree_blobs, worktree_blobs
from pabx.loader import load_repository, load_valid_repository
from pabx.loader.layout import HOSTS_FILE, PLATFORM_FILE, USERS_FILE
from pabx.loader.repo import Repository
from pabx.plan.cache import Placement, RenderCache, fingerprints, render_server
from pabx.plan.files import file_changes, reloads_for, restart_reasons
from pabx.plan.gates import compute_gates
from pabx.plan.model import Change, Gate, Plan, ServerPlan
from pabx.plan.records import live_revisions
from pabx.plan.semantic import semantic_changes

DEPLOYED = "deployed"
_T = TypeVar("_T", Change, Gate)
_M = TypeVar("_M")


@dataclass
class Side:
    """One side of the comparison: a complete repository, its files' blob ids, its revision."""

    repo: Repository
    blobs: dict[str, str]
    revision: str | None
    placement: Placement
    fingerprints: dict[str, str]

    @classmethod
    def of(cls, repo: Repository, blobs: dict[str, str], revision: str | None) -> Side:
        placement = Placement.of(repo)
        return cls(repo, blobs, revision, placement, fingerprints(repo, blobs, placement))


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
    with timer("load head"):
        head_repo, _ = load_valid_repository(root)
    with timer("hash head"):
        head_blobs = worktree_blobs(root)
    head = Side.of(head_repo, head_blobs, None)
    with ExitStack() as stack:
        with timer("base"):
            if base == DEPLOYED:
                known = sorted(head_repo.servers)
                per_server = live_revisions(root, known)
            else:
                per_server = {}
            revisions = sorted(
                {r for r in per_server.values() if r} | ({base} if base != DEPLOYED else set())
            )
            sides: dict[str, Side] = {
                rev: stack.enter_context(_base_side(root, rev, head, timer)) for rev in revisions
            }
            if base != DEPLOYED:
                only = sides[base]
                per_server = dict.fromkeys(sorted(set(only.repo.servers) | set(head_repo.servers)), base)
        groups: dict[str | None, list[str]] = defaultdict(list)
        for server, rev in sorted(per_server.items()):
            groups[rev].append(server)
        changes: list[Change] = []
        gates: list[Gate] = []
        empty = _empty_side(root)
        with timer("semantic"):
            for rev, members in groups.items():
                side = sides[rev] if rev else empty
                changed = _changed_paths(side.blobs, head_blobs) if rev else None
                found = semantic_changes(side.repo, head_repo, changed)
                if len(groups) > 1:
                    found = [c for c in found if not c.servers or set(c.servers) & set(members)]
                changes += found
                gates += compute_gates(
                    side.repo, head_repo, found, threshold, set(members) if len(groups) > 1 else None
                )
            changes = _unique(changes)
            gates = _unique(gates)
            gates.sort(key=lambda g: (g.kind, g.id))
        servers: dict[str, ServerPlan] = {}
        with timer("render and diff"):
            for server, rev in sorted(per_server.items()):
                side = sides[rev] if rev else empty
                servers[server] = _server_plan(server, side, head, cache)
        resolved = {server: (sides[rev].revision if rev else None) for server, rev in per_server.items()}
    return Plan(
        base=base,
        head_revision=gitinfo.revision(root),
        base_revisions=dict(sorted(resolved.items())),
        changes=changes,
        gates=gates,
        servers=servers,
        allow_destructive=allow_destructive,
        threshold=threshold,
        timings=timer.timings,
    )


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


def _empty_side(root: Path) -> Side:
    return Side(Repository(root=root), {}, None, Placement(), {})


@contextmanager
def _base_side(root: Path, rev: str, head: Side, timer: _Timer) -> Iterator[Side]:
    """The base revision as a complete repository: changed files from git, the rest from the head."""
    with timer("base tree"):
        commit, blobs = tree_blobs(root, rev)
    changed = _changed_paths(blobs, head.blobs)
    wanted = [p for p in blobs if p in changed or p.startswith("templates/")]
    with materialized(root, commit, wanted) as (_, tmp):
        with timer("base load"):
            report = Report()
            partial = load_repository(tmp, report, use_cache=False)  # a few files; keep the head's cache
            if not report.ok:
                raise UserError(
                    f"the base revision {rev} ({commit[:12]}) does not load: plan against another revision",
                    report.sorted(),
                )
            merged = _merge(tmp, head.repo, partial, changed)
        with timer("base fingerprints"):
            side = Side.of(merged, blobs, commit)
        yield side


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


def _server_plan(server: str, base: Side, head: Side, cache: RenderCache) -> ServerPlan:
    plan = ServerPlan(server, base.revision)
    old_fp, new_fp = base.fingerprints.get(server), head.fingerprints.get(server)
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
