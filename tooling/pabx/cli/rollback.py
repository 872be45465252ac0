"""`pabx rollback --to REV`: a commit that brings back REV's data, then the apply of it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pabx.cli.apply import FAILED_EXIT_CODE, summary_lines, target_option
from pabx.cli.options import repo_option
from pabx.deploy import ApplyOptions, TargetKind, apply_repository
from pabx.deploy.rollback import rollback_commit


@click.command("rollback")
@repo_option
@click.option("--to", "rev", required=True, metavar="REV", help="The revision whose data to bring back.")
@click.option("--allow-destructive", is_flag=True, help="Allow the gates of the rollback's plan.")
@target_option
@click.option("--no-apply", is_flag=True, help="Only create the commit (push it and let CI apply it).")
def command(repo: Path, rev: str, allow_destructive: bool, target: str, no_apply: bool) -> None:
    """Roll the platform back to REV the GitOps way: commit the data folders (tenants, numbers,
    routes, plans, inventory, templates) as they were at REV, with a message naming REV, then
    apply that commit (planned against the commit before it). Git stays the source of truth;
    nothing is reset or rewritten. Refuses over uncommitted changes in the data folders.

    Example: pabx rollback --to HEAD~2
    """
    made = rollback_commit(repo, rev)
    if not made.commit:
        click.echo(f"the data already is as at {made.target[:12]}: nothing to commit")
    else:
        click.echo(
            f"committed {made.commit[:12]}: {made.message.splitlines()[0]} ({len(made.changed)} file(s))"
        )
    if no_apply:
        return
    base = "HEAD~1" if made.commit else "HEAD"
    result = apply_repository(
        repo,
        ApplyOptions(allow_destructive=allow_destructive, target=TargetKind(target), base=base),
        progress=click.echo,
    )
    click.echo("\n".join(summary_lines(result)))
    if not result.ok:
        sys.exit(FAILED_EXIT_CODE)
