"""`pabx number add|assign|release|remove`: the seed's Números screen as edits of numbers/<DDD>.yaml."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.cli.editing import edit_options, finish
from pabx.edit.numbers import add_numbers, assign_number, release_number, remove_number
from pabx.edit.workspace import Workspace


@click.group("number")
def command() -> None:
    """Add, assign, release and remove numbers (DIDs) in numbers/<DDD>.yaml.

    Example: pabx number assign 1130010030 acme --to ext:2001
    """


@command.command("add")
@click.argument("numbers")
@click.option("--route", required=True, help="Rota used by the numbers for outbound calls.")
@click.option("--reverse-billing", is_flag=True, help="Tarifação reversa: accept collect calls.")
@click.option("--description", help="Descrição.")
@edit_options
def add(
    repo: Path, dry_run: bool, numbers: str, route: str, reverse_billing: bool, description: str | None
) -> None:
    """Add a number, or a range FIRST-LAST, as Disponível (no owner), kept sorted in its DDD file.

    Example: pabx number add 1130001000-1130001099 --route sp-principal --reverse-billing
    """
    ws = Workspace(repo)
    add_numbers(ws, numbers, route, reverse_billing=reverse_billing, description=description)
    finish(ws, dry_run)


@command.command("assign")
@click.argument("number")
@click.argument("tenant")
@click.option(
    "--to",
    "to",
    required=True,
    help="Inbound destination inside the tenant: ext:N, queue:N, ivr:N, voicemail:N or hangup.",
)
@edit_options
def assign(repo: Path, dry_run: bool, number: str, tenant: str, to: str) -> None:
    """Give NUMBER to TENANT with its inbound destination (also changes the destination of an owned one).

    Example: pabx number assign 1130010030 acme --to queue:600
    """
    ws = Workspace(repo)
    assign_number(ws, number, tenant, to)
    finish(ws, dry_run)


@command.command("release")
@click.argument("number")
@edit_options
def release(repo: Path, dry_run: bool, number: str) -> None:
    """Make NUMBER Disponível again (no owner, no destination).

    Refused while its owner presents it as caller ID: change that first.

    Example: pabx number release 1130010021
    """
    ws = Workspace(repo)
    release_number(ws, number)
    finish(ws, dry_run)


@command.command("remove")
@click.argument("number")
@edit_options
def remove(repo: Path, dry_run: bool, number: str) -> None:
    """Delete NUMBER from its file; refused while a tenant owns it.

    Example: pabx number remove 1130010040
    """
    ws = Workspace(repo)
    remove_number(ws, number)
    finish(ws, dry_run)
