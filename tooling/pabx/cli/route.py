"""`pabx route add|set|remove`: outbound routes (Rotas) in routes/<slug>.yaml."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.cli.editing import edit_options, finish
from pabx.edit.routes import add_route, remove_route, set_route
from pabx.edit.workspace import Workspace

TRUNK_HELP = "CLASS=TRUNK, repeated (local_fixo, local_movel, ldn_fixo, ldn_movel, 0300, 0800, servicos, ldi); CLASS=- blocks it."


@click.group("route")
def command() -> None:
    """Add, change and remove outbound routes (Rotas): a trunk for each call class.

    Example: pabx route set sp-principal --trunk ldi=claro-rj
    """


@command.command("add")
@click.argument("name")
@click.option("--slug", help="File name (default: from the name).")
@click.option("--default-trunk", help="Trunk for every class not given with --trunk.")
@click.option("--trunk", "trunks", multiple=True, help=TRUNK_HELP)
@edit_options
def add(
    repo: Path, dry_run: bool, name: str, slug: str | None, default_trunk: str | None, trunks: tuple[str, ...]
) -> None:
    """Create a route NAME with a trunk for each of the eight call classes.

    Example: pabx route add "MG Principal" --default-trunk claro-rj --trunk ldn_fixo=embratel --trunk ldn_movel=embratel --trunk ldi=-
    """
    ws = Workspace(repo)
    add_route(ws, name, slug=slug, default=default_trunk, trunks=trunks)
    finish(ws, dry_run)


@command.command("set")
@click.argument("route")
@click.option("--name", help="Nome.")
@click.option("--trunk", "trunks", multiple=True, help=TRUNK_HELP)
@edit_options
def set_(repo: Path, dry_run: bool, route: str, name: str | None, trunks: tuple[str, ...]) -> None:
    """Change a route's name or the trunk of some classes.

    Example: pabx route set sp-principal --trunk ldi=claro-rj
    """
    ws = Workspace(repo)
    set_route(ws, route, name=name, trunks=trunks)
    finish(ws, dry_run)


@command.command("remove")
@click.argument("route")
@edit_options
def remove(repo: Path, dry_run: bool, route: str) -> None:
    """Delete a route; refused while a number uses it (and says which).

    Example: pabx route remove mg-principal
    """
    ws = Workspace(repo)
    remove_route(ws, route)
    finish(ws, dry_run)
