"""`pabx schema`: write (or check) the JSON Schemas editors use to validate the YAML files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pabx.cli.options import repo_option
from pabx.schema import stale_schemas, write_schemas


@click.command("schema")
@repo_option
@click.option(
    "--check", is_flag=True, help="Only check that the committed schemas are current (exit 1 if not)."
)
def command(repo: Path, check: bool) -> None:
    """Generate schemas/<kind>.schema.json from the models.

    Each data file points at its schema on its first line
    (`# yaml-language-server: $schema=../schemas/tenant.schema.json`), so editors with the YAML
    language server show titles in Portuguese and flag mistakes as you type.

    Example: pabx schema --check
    """
    if check:
        stale = stale_schemas(repo)
        for rel in stale:
            click.echo(f"stale: {rel} (run `pabx schema`)", err=True)
        sys.exit(1 if stale else 0)
    for rel in write_schemas(repo):
        click.echo(f"wrote {rel}")
