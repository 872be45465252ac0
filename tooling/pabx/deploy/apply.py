"""`apply`: the reviewed plan, rendered with secrets, shipped to each server by one playbook.

Order of refusals: the plan's checksum must be the reviewed one, its gates allowed, the secret
key present. Then every server's release is rendered and checked on the controller; a release
that fails its checks is not uploaded (that server fails, the others go on). The playbook does
the rest per server (tooling/ansible/apply.yml); the results become deploy records.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pabx import gitinfo
from pabx.deploy.edge import ship_edges, stage_edges
from pabx.deploy.records import Record, actor, append_records, utc_now
from pabx.deploy.release import StagedRelease, stage_releases
from pabx.deploy.runner import HostResult, Progress, run_playbook
from pabx.deploy.targets import Target, TargetKind, resolve_target
from pabx.edge.model import edge_hosts
from pabx.edge.plan import apply_phases
from pabx.errors import UserError, require_known
from pabx.loader import load_valid_repository
from pabx.loader.layout import state_dir
from pabx.plan import Plan, compute_plan
from pabx.plan.files import RELOADS
from pabx.render.secrets import KEY_VARIABLE, Secrets

PLAYBOOK = "apply.yml"
DEFAULT_MAX_FAIL_PERCENTAGE = 30
DEFAULT_LOCK_STALE_S = 1800
RECORDED = {"ok": "ok", "failed": "failed", "unreachable": "failed", "rolled-back": "rolled-back"}


@dataclass
class ApplyOptions:
    servers: list[str] = field(default_factory=list)  # empty: every server
    checksum: str | None = None
    check: bool = False
    allow_destructive: bool = False
    target: TargetKind = TargetKind.SSH
    base: str = "HEAD"
    max_fail_percentage: int = DEFAULT_MAX_FAIL_PERCENTAGE
    batch_size: int = 0  # servers per batch after the canary; 0: all the rest at once
    lock_stale_s: int = DEFAULT_LOCK_STALE_S
    record: bool = True  # write deploy records (git notes) for a clean revision


@dataclass
class ServerOutcome:
    server: str
    outcome: str
    release: str = ""  # the release deployed (or attempted)
    reloads: list[str] = field(default_factory=list)
    error: str = ""
    restart_required: bool = False
    live: str = ""  # the release live now, when it is not `release` (unchanged, rolled back)

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "rolled-back", "unreachable", "not-run")


@dataclass
class ApplyResult:
    plan: Plan
    target: Target
    revision: str
    servers: dict[str, ServerOutcome]
    recorded: int = 0
    not_recorded_reason: str = ""
    mails: list[str] = field(default_factory=list)  # the tenant e-mails queued (pabx.mail.events)

    @property
    def ok(self) -> bool:
        return not any(s.failed for s in self.servers.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, s in self.servers.items() if s.failed]


def check_plan(plan: Plan, checksum: str | None) -> None:
    """Refuse a plan that is not the reviewed one, or that has gates nobody allowed."""
    if checksum and checksum != plan.checksum:
        raise UserError(
            f"the plan computed now (checksum {plan.checksum}) is not the one reviewed ({checksum}): "
            "the repository or its base changed since; plan again and review"
        )
    if plan.blocked:
        reasons = "\n".join(f"  - {g.reason}" for g in plan.gates)
        raise UserError(
            f"the plan has {len(plan.gates)} gate(s) that need --allow-destructive "
            f"(in CI: the pull-request label allow-destructive):\n{reasons}"
        )


def apply_repository(repo_root: Path, options: ApplyOptions, progress: Progress | None = None) -> ApplyResult:
    """Plan, refuse or render and ship; returns what happened on each server."""
    root = repo_root.resolve()
    say = progress or (lambda _line: None)
    plan = compute_plan(root, options.base, allow_destructive=options.allow_destructive)
    check_plan(plan, options.checksum)
    secrets = Secrets.from_environment()
    if secrets.masked:
        raise UserError(f"{KEY_VARIABLE} is not set: apply ships the real passwords (plan needs no key)")
    repo, _ = load_valid_repository(root)
    target = resolve_target(root, repo, options.target)
    require_known(options.servers, repo.servers)
    selected = options.servers or sorted(repo.servers)
    revision = gitinfo.revision(root)
    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    workdir = state_dir(root) / "deploy" / "runs" / run_id
    outcomes: dict[str, ServerOutcome] = {}
    try:
        say(f"rendering and checking {len(selected)} release(s) (revision {revision[:12]})")
        staged = stage_releases(
            repo,
            secrets,
            revision,
            workdir / "releases",
            only=selected,
            verified_cache=state_dir(root) / "deploy" / "verified.json",
        )
        for server, release in staged.items():
            if not release.verified:
                say(f"{server:<16} release check: FAILED ({len(release.problems)} problem(s))")
                for problem in release.problems[:10]:
                    say(f"{server:<16}   {problem}")
                outcomes[server] = ServerOutcome(server, "failed", error="; ".join(release.problems[:3]))
        ready = [s for s in selected if s in staged and staged[s].verified]
        # with an edge map change: the servers gaining tenants, the edge, then the old servers' cleanup
        whole = not options.servers  # `--server X` ships servers only
        phases = apply_phases(ready, plan.edge if whole else None, sorted(edge_hosts(repo)) if whole else [])
        stopped = ""
        for index, (label, members) in enumerate(phases):
            if label == "edge":
                shipped = _apply_edge(repo, target, members, workdir, options, say)
                outcomes.update(shipped)
                if any(o.failed for o in shipped.values()) and index < len(phases) - 1:
                    stopped = "not run: the edge map failed, calls still go to this server (apply again)"
                    say("the edge map failed: the old servers' cleanup is not applied (calls still go there)")
                    break
                continue
            if label != "servidores":
                say(f"fase: {label} ({', '.join(members)})")
            extravars = _extravars(
                plan, staged, members, revision, run_id, options, repo.platform, actor(root)
            )
            result = run_playbook(
                PLAYBOOK,
                target.inventory,
                extravars,
                workdir,
                limit=members,
                check=options.check,
                forks=min(max(len(members), 1), 20),
                progress=progress,
            )
            for server in members:
                outcomes[server] = _outcome(server, result.hosts.get(server), plan)
            if any(outcomes[s].failed for s in members) and label == "servidores novos":
                stopped = "not run: a new server failed (the edge and the cleanup wait for it)"
                say("a new server failed: the edge map and the old servers' cleanup are not applied")
                break
        for _label, members in phases:
            for name in members if stopped else []:
                outcomes.setdefault(name, ServerOutcome(name, "not-run", error=stopped))
    finally:
        shutil.rmtree(workdir / "releases", ignore_errors=True)  # they hold secrets
    outcomes = dict(sorted(outcomes.items()))
    applied = ApplyResult(plan, target, revision, outcomes)
    if options.check:
        applied.not_recorded_reason = "check mode"
    elif target.is_local:
        applied.not_recorded_reason = "local target (not a deploy to the fleet)"
    elif not options.record:
        applied.not_recorded_reason = "records turned off"
    elif revision.endswith("-dirty") or revision == "unversioned":
        applied.not_recorded_reason = (
            "the working tree has uncommitted changes (deploy a commit to record it)"
        )
    else:
        when = utc_now()
        who = actor(root)
        records = [
            Record(name, revision, staged[name].checksum, when, RECORDED[o.outcome], who, o.release)
            for name, o in outcomes.items()
            if o.outcome in RECORDED and name in staged  # edge hosts have no Asterisk release
        ]
        applied.recorded = append_records(root, revision, records)
    if not options.check and not target.is_local:
        # issue 6: welcome / new-access e-mails for the tenants now live; `pabx mail send` sends them
        from pabx.mail.events import queue_apply_mails

        live = [name for name, o in outcomes.items() if not o.failed]
        applied.mails = [q.line() for q in queue_apply_mails(repo, plan, live, revision)]
        for line in applied.mails:
            say(line)
    return applied


def _apply_edge(
    repo: Any,
    target: Target,
    hosts: list[str],
    workdir: Path,
    options: ApplyOptions,
    say: Progress,
) -> dict[str, ServerOutcome]:
    """The edge phase (pabx.deploy.edge): the edge map to every edge host, its tables reloaded
    (no restart; a changed kamailio.cfg is reported as needing one). The local target writes the
    files into its folder for each edge and says the reloads are SKIPPED."""
    say(f"fase: edge ({', '.join(hosts)})")
    staged = stage_edges(repo, hosts, workdir / "edges")
    result = ship_edges(staged, target, workdir, check=options.check, progress=say)
    out: dict[str, ServerOutcome] = {}
    for name in staged:
        host = result.hosts.get(name)
        if host is None:
            out[name] = ServerOutcome(name, "not-run", error="not run")
            continue
        reloads = [str(r) for r in host.data.get("reloads") or []]
        restart = str(host.data.get("restart_required")).strip() == "True"
        if restart:
            say(f"{name:<16} kamailio.cfg changed: restart Kamailio to load it (apply never restarts it)")
        out[name] = ServerOutcome(name, host.outcome, "", reloads, host.error, restart)
    return out


def _extravars(
    plan: Plan,
    staged: dict[str, StagedRelease],
    ready: list[str],
    revision: str,
    run_id: str,
    options: ApplyOptions,
    platform: Any,
    who: str,
) -> dict[str, Any]:
    kept = int(getattr(platform, "releases_kept", 5) or 5)
    rest = options.batch_size if options.batch_size > 0 else max(len(ready) - 1, 1)
    servers = {}
    for name in ready:
        release = staged[name]
        server_plan = plan.servers.get(name)
        servers[name] = {
            "name": release.name,
            "checksum": release.checksum,
            "tarball": str(release.tarball),
            "files": release.sums,
            "entry_files": release.entry_files,
            "plan_reloads": list(server_plan.reloads) if server_plan else [],
            "contexts": release.contexts,
            "endpoints": release.endpoints,
        }
    return {
        "pabx_servers": servers,
        "pabx_run": {
            "id": run_id,
            "revision": revision,
            "actor": who,
            "serial": [1, rest],  # the canary alone, then batches
            "max_fail_percentage": options.max_fail_percentage,
            "lock_stale_s": options.lock_stale_s,
            "lock": {
                "owner": who,
                "controller": socket.gethostname(),
                "pid": os.getpid(),
                "run": run_id,
                "time": utc_now(),
            },
            "releases_kept": max(kept, 2),
            "reload_by_file": dict(RELOADS),
        },
    }


def _outcome(server: str, host: HostResult | None, plan: Plan) -> ServerOutcome:
    server_plan = plan.servers.get(server)
    restart = bool(server_plan and server_plan.restart_required)
    if host is None:
        return ServerOutcome(server, "not-run", error="not run: the apply stopped before this server's batch")
    data = host.data
    outcome = host.outcome
    release = str(data.get("release") or "") if outcome != "unchanged" else ""
    live = (
        str(data.get("previous") or "") if outcome in ("unchanged", "check-unchanged", "rolled-back") else ""
    )
    reloads = [str(r) for r in data.get("reloads") or []] if outcome in ("ok", "check-changed") else []
    return ServerOutcome(server, outcome, release, reloads, host.error, restart and outcome == "ok", live)
