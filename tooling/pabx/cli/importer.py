"""`pabx import --from CSV`: migrate tenants, extensions and numbers from another platform's exports."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.cli.editing import edit_options, finish
from pabx.edit.importer import import_csv
from pabx.edit.workspace import Workspace


@click.command("import")
@click.option(
    "--from",
    "sources",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A CSV export: Clientes, Ramais or Números (recognized by its header); repeated.",
)
@click.option("--route", help="Rota for numbers whose row names none.")
@click.option("--server", help="Asterisk server for every imported tenant (default: balanced by room).")
@click.option("--manager", "managers", multiple=True, help="GitHub handle managing every imported tenant.")
@edit_options
def command(
    repo: Path,
    dry_run: bool,
    sources: tuple[Path, ...],
    route: str | None,
    server: str | None,
    managers: tuple[str, ...],
) -> None:
    """Import tenants (Clientes), extensions (Ramais) and numbers (Números) as one change.

    Each CSV is one list screen of the old platform, with Portuguese or English headers
    (accents and case ignored; `,` `;` or tab; UTF-8 or Windows-1252). Rows that cannot be
    imported are listed with their reason and skipped; the rest is validated as a whole and
    written only when valid. Start with --dry-run. The columns are in the README, "Day-to-day".

    Example: pabx import --from clientes.csv --from ramais.csv --from numeros.csv --manager jucastro --dry-run
    """
    ws = Workspace(repo)
    result = import_csv(ws, sources, route=route, managers=managers, server=server)
    for line in result.lines():
        click.echo(line)
    ws.summary.clear()  # the lines above say it all, one per row
    finish(ws, dry_run)
