"""What every editing command shares: --repo and --dry-run, the commit, and how it is reported."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from pabx.cli.options import repo_option
from pabx.edit.workspace import Outcome, Workspace

F = TypeVar("F", bound=Callable[..., Any])


def edit_options(func: F) -> F:
    """--repo and --dry-run, for every command that edits the repository."""
    func = click.option(
        "--dry-run",
        is_flag=True,
        help="Validate and show the diff the change would make, without writing anything.",
    )(func)
    return repo_option(func)


def finish(ws: Workspace, dry_run: bool) -> Outcome:
    """Validate and write the change, then say what changed (or, with --dry-run, would)."""
    outcome = ws.commit(dry_run=dry_run)
    for line in outcome.summary:
        click.echo(line)
    for problem in outcome.warnings:
        click.echo(problem.format_text(), err=True)
    if not outcome.changed:
        click.echo("nothing changed")
        return outcome
    if dry_run:
        click.echo(outcome.diff, nl=False)
        click.echo(f"dry run: {len(outcome.changed)} file(s) would change; nothing was written")
    else:
        for rel, text in outcome.changed.items():
            click.echo(f"{'deleted' if text is None else 'wrote'} {rel}")
        click.echo("valid: review with `git diff`, then commit and open a pull request")
    return outcome


def ask(value: Any, label: str, interactive: bool, **prompt: Any) -> Any:
    """A missing value, asked for by its Portuguese label when a person is at the terminal."""
    if value is None and interactive:
        return click.prompt(label, **prompt)
    return value


def is_interactive(flag: bool | None) -> bool:
    return sys.stdin.isatty() if flag is None else flag
