"""`pabx apply`: ship the reviewed plan to the servers, one release per server, verified."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from pabx.cli.options import repo_option
from pabx.deploy import ApplyOptions, ApplyResult, TargetKind, apply_repository
from pabx.deploy.apply import DEFAULT_LOCK_STALE_S, DEFAULT_MAX_FAIL_PERCENTAGE
from pabx.deploy.records import NOTES_REF
from pabx.plan import DEPLOYED

FAILED_EXIT_CODE = 1
F = TypeVar("F", bound=Callable[..., Any])


def target_option(func: F) -> F:
    return click.option(
        "--target",
        type=click.Choice([k.value for k in TargetKind]),
        default=TargetKind.SSH.value,
        show_default=True,
        help="ssh: the servers of inventory/hosts.yml; local: each server a folder under "
        "state/local-target/ (no Asterisk: reloads SKIPPED).",
    )(func)


@click.command("apply")
@repo_option
@click.option("--server", "servers", multiple=True, help="Apply only to this server (repeatable).")
@click.option("--checksum", default=None, help="The reviewed plan's checksum: refuse when the plan differs.")
@click.option(
    "--check", is_flag=True, help="Ansible check mode: say what each server would get, change nothing."
)
@click.option(
    "--allow-destructive",
    is_flag=True,
    help="Allow the plan's gates (in CI: the PR label allow-destructive).",
)
@target_option
@click.option(
    "--base",
    default="HEAD",
    show_default=True,
    metavar=f"REV|{DEPLOYED}",
    help="What the plan compares with (use the same base as the reviewed plan).",
)
@click.option(
    "--max-fail-percentage",
    type=click.IntRange(0, 100),
    default=DEFAULT_MAX_FAIL_PERCENTAGE,
    show_default=True,
    help="Stop the rolling apply when more than this share of a batch failed (the canary is a batch of one).",
)
@click.option(
    "--batch-size", type=click.IntRange(0), default=0, help="Servers per batch after the canary (0: all)."
)
@click.option(
    "--lock-timeout",
    type=click.IntRange(1),
    default=DEFAULT_LOCK_STALE_S,
    show_default=True,
    help="Seconds after which a server's apply lock is stale and broken.",
)
def command(
    repo: Path,
    servers: tuple[str, ...],
    checksum: str | None,
    check: bool,
    allow_destructive: bool,
    target: str,
    base: str,
    max_fail_percentage: int,
    batch_size: int,
    lock_timeout: int,
) -> None:
    """Apply the plan to the servers through Ansible (tooling/ansible/apply.yml).

    Computes the plan (masked) and refuses when --checksum is not its checksum or when its gates
    are not allowed; then renders every server's release with PABX_SECRET_KEY and the trunks'
    password variables, checks it (the project's own parser, asterisklint) and ships it: a
    canary server first, then batches. Per server: lock, upload to a new release directory,
    verify against manifest.json, switch the /etc/asterisk/pabx symlink atomically, only the
    reloads needed, verify with `asterisk -rx`; on any failure switch back and reload. A server
    already running this release is left alone. Each deployed server gets a record in the
    git notes (refs/notes/pabx-deploy) of the commit. Exits 1 when a server failed.

    Example: PABX_SECRET_KEY=... pabx apply --checksum 3f2a... --server pbx-sp-01
    """
    options = ApplyOptions(
        servers=list(servers),
        checksum=checksum,
        check=check,
        allow_destructive=allow_destructive,
        target=TargetKind(target),
        base=base,
        max_fail_percentage=max_fail_percentage,
        batch_size=batch_size,
        lock_stale_s=lock_timeout,
    )
    result = apply_repository(repo, options, progress=click.echo)
    click.echo("\n".join(summary_lines(result)))
    if not result.ok:
        sys.exit(FAILED_EXIT_CODE)


def summary_lines(result: ApplyResult) -> list[str]:
    plan = result.plan
    lines = [
        "",
        f"== apply {'(check mode) ' if result.not_recorded_reason == 'check mode' else ''}"
        f"of plan {plan.checksum[:12]} (revision {result.revision[:12]}, base {plan.base})",
    ]
    edges = set(plan.edge.hosts) if plan.edge is not None else set()
    reloads = "reloads SKIPPED (local target)" if result.target.is_local else "reloads"
    for name, server in result.servers.items():
        where = server.release or server.live
        line = f"{name:<16} {server.outcome:<16}"
        if where:
            line += f" {where}"
        lines.append(line)
        if server.reloads:
            lines.append(f"{'':<16} {reloads}: {', '.join(server.reloads)}")
        if server.live and server.outcome == "rolled-back":
            lines.append(f"{'':<16} live again: {server.live}")
        if server.restart_required:
            why = "kamailio.cfg changed" if name in edges else "a transport changed"
            lines.append(f"{'':<16} RESTART REQUIRED ({why}): not done by apply, schedule it")
        if server.error:
            lines.append(f"{'':<16} error: {server.error}")
    if result.recorded:
        lines.append(
            f"deploy records: {result.recorded} line(s) in {NOTES_REF} on {result.revision[:12]} "
            f"(CI pushes it: git push origin {NOTES_REF})"
        )
    elif result.not_recorded_reason:
        lines.append(f"deploy records: none ({result.not_recorded_reason})")
    failed = result.failed
    lines.append(
        f"{len(result.servers) - len(failed)} host(s) ok, {len(failed)} failed"
        + (f": {', '.join(failed)}" if failed else "")
    )
    return lines


def demo_step(repo: Path) -> None:
    """`pabx demo`'s deploy part: render, plan, apply to the local target, say where it went."""
    from pabx.gitinfo import revision
    from pabx.loader import load_valid_repository
    from pabx.plan import compute_plan
    from pabx.plan.output import render_plan
    from pabx.render import render_repository
    from pabx.render.secrets import Secrets

    loaded, _ = load_valid_repository(repo)
    wanted = sorted({t.password_env for t in loaded.trunks.values() if t.password_env})

    @contextmanager
    def throwaway_trunk_passwords() -> Iterator[list[str]]:
        missing = [name for name in wanted if not os.environ.get(name)]
        for name in missing:
            os.environ[name] = f"demo-throwaway-{name.lower()}"
        try:
            yield missing
        finally:
            for name in missing:
                os.environ.pop(name, None)

    with throwaway_trunk_passwords() as missing:
        if missing:
            click.echo(f"\n(demo: throwaway trunk passwords for {', '.join(missing)})")
        click.echo("\n== pabx render")
        result = render_repository(
            loaded, repo / "build", Secrets.from_environment(), revision=revision(repo)
        )
        for name, server in result.servers.items():
            click.echo(f"{name}: {len(server.files)} files in {repo / 'build' / name}")
        click.echo("\n== pabx plan (the working tree against HEAD)")
        click.echo(render_plan(compute_plan(repo), "text"), nl=False)
        click.echo("\n== pabx apply --target local (each server a folder here; no Asterisk: reloads SKIPPED)")
        applied = apply_repository(repo, ApplyOptions(target=TargetKind.LOCAL), progress=click.echo)
    click.echo("\n".join(summary_lines(applied)))
    click.echo("\nreleases (the symlink Asterisk includes, and the versions kept for rollback):")
    for root in applied.target.roots.values():
        link = root / "pabx"
        where = os.readlink(link) if link.is_symlink() else "(nothing live)"
        click.echo(f"  {link} -> {where}")
    for edge, folder in applied.target.edge_roots.items():
        click.echo(f"edge map of {edge} (kamailio.cfg, db/ tables, dispatcher.list): {folder}")
