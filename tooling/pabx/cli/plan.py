"""`pabx plan`: what the working tree changes, against a git revision or what is deployed."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pabx.cli.options import format_option, repo_option
from pabx.plan import DEPLOYED, compute_plan
from pabx.plan.output import render_plan

CHANGES_EXIT_CODE = 3


@click.command("plan")
@repo_option
@click.option(
    "--base",
    default="HEAD",
    show_default=True,
    metavar="REV|deployed",
    help="Git revision to compare with, or 'deployed' for what each server runs (deploy records).",
)
@format_option("text", "markdown", "json")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the plan to this file instead of printing it.",
)
@click.option(
    "--allow-destructive",
    is_flag=True,
    help="Mark the gates as allowed (in CI: the pull-request label allow-destructive).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=0.2,
    show_default=True,
    help="Fraction of a server's tenants above which a change is gated (mass-change).",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help=f"Exit {CHANGES_EXIT_CODE} when the plan has changes, 0 when it has none (2 stays an error).",
)
def command(
    repo: Path,
    base: str,
    fmt: str,
    out: Path | None,
    allow_destructive: bool,
    threshold: float,
    detailed_exitcode: bool,
) -> None:
    """Plan the working tree against BASE: gates, changes by meaning, and per server the
    masked diffs and the targeted reloads it needs; ends with the plan's checksum.

    The base is read from git objects (no checkout). With --base deployed each server is
    compared with the revision its latest successful deploy record names (refs/notes/pabx-deploy),
    or with nothing when it never was deployed. Secrets are always masked. Exits 0 even when
    gates exist: `pabx apply` is what refuses them.

    Example: pabx plan --base origin/main --format markdown --out plan.md
    """
    plan = compute_plan(repo, base, allow_destructive=allow_destructive, threshold=threshold)
    text = render_plan(plan, fmt)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        state = "no changes" if plan.is_empty else f"{len(plan.changes)} change(s), {len(plan.gates)} gate(s)"
        click.echo(f"plan written to {out}: {state}")
        click.echo(f"checksum: {plan.checksum}")
    else:
        click.echo(text, nl=False)
    if detailed_exitcode and not plan.is_empty:
        sys.exit(CHANGES_EXIT_CODE)


__all__ = ["DEPLOYED", "command"]
