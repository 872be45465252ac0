"""`pabx codeowners [--check]`: .github/CODEOWNERS from inventory/users.yaml."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pabx.cli.options import repo_option
from pabx.edit.codeowners import CODEOWNERS_FILE, expected_codeowners


@click.command("codeowners")
@repo_option
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the file is stale (CI).")
def command(repo: Path, check: bool) -> None:
    """Write .github/CODEOWNERS from the users and the tenants each manages.

    A tenant's file needs a review from one of its managers; inventory/, numbers/, plans/,
    routes/ and everything else need an admin.

    Example: pabx codeowners --check
    """
    expected = expected_codeowners(repo)
    path = repo / CODEOWNERS_FILE
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if check:
        if current != expected:
            click.echo(
                f"{CODEOWNERS_FILE} is stale: it does not match inventory/users.yaml; run `pabx codeowners`",
                err=True,
            )
            sys.exit(1)
        click.echo(f"{CODEOWNERS_FILE} is up to date")
        return
    if current == expected:
        click.echo(f"{CODEOWNERS_FILE} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(expected, encoding="utf-8")
    click.echo(f"wrote {CODEOWNERS_FILE}")
