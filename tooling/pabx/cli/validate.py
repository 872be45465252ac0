"""`pabx validate`: schema and cross-file rules, every problem at once."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pabx.cli.options import format_option, repo_option
from pabx.validate import all_rule_docs, validate_repository


@click.command("validate")
@repo_option
@format_option("text", "json", "github")
@click.option("--no-cache", is_flag=True, help="Ignore the parse cache in the state directory.")
@click.option("--list-rules", is_flag=True, help="List every rule id with what it checks, and exit.")
def command(repo: Path, fmt: str, no_cache: bool, list_rules: bool) -> None:
    """Check every data file and the rules between them.

    Prints each problem as `path:line:col: field: message [rule-id]`; exits 0 when the
    repository is valid (warnings allowed) and 2 when it is not.

    Example: pabx validate --repo . --format github
    """
    if list_rules:
        for rule_id, summary in all_rule_docs().items():
            click.echo(f"{rule_id:32} {summary}")
        return
    if not repo.is_dir():
        raise click.BadParameter(f"{repo} is not a directory", param_hint="--repo")
    _, report = validate_repository(repo, use_cache=not no_cache)
    out = report.render(fmt)
    if out:
        click.echo(out)
    if fmt == "text":
        verdict = "valid" if report.ok else "invalid"
        click.echo(
            f"{verdict}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)",
            err=not report.ok,
        )
    sys.exit(0 if report.ok else 2)
