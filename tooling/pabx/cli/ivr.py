"""`pabx ivr add|set|remove`: a tenant's IVRs (Pré-atendimentos)."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.cli.editing import edit_options, finish
from pabx.edit.members import CLEARABLE, MemberFields, add_member, parse_option, remove_member, set_member
from pabx.edit.workspace import Workspace


@click.group("ivr")
def command() -> None:
    """Add, change and remove a tenant's IVRs (Pré-atendimentos) in tenants/<slug>.yaml.

    Example: pabx ivr set acme 500 --option 4=ext:2009 --remove-option 3
    """


@command.command("add")
@click.argument("tenant")
@click.argument("number")
@click.option("--name", required=True, help="Nome.")
@click.option(
    "--greeting", required=True, help="Saudação: sound played, without extension (acme/boas-vindas)."
)
@click.option("--option", "options", multiple=True, help="DIGIT=DESTINATION, repeated: 1=queue:600.")
@click.option("--wait", "wait_s", type=click.IntRange(1, 60), help="Seconds to wait for a key (default 5).")
@click.option("--timeout", help="Destination when no key is pressed.")
@click.option("--invalid", help="Destination for a key with no option.")
@edit_options
def add(
    repo: Path,
    dry_run: bool,
    tenant: str,
    number: str,
    name: str,
    greeting: str,
    options: tuple[str, ...],
    wait_s: int | None,
    timeout: str | None,
    invalid: str | None,
) -> None:
    """Add IVR NUMBER to TENANT.

    Example: pabx ivr add acme 501 --name Noturno --greeting acme/noturno --option 1=voicemail:2002 --timeout hangup
    """
    ws = Workspace(repo)
    fields = MemberFields(
        name=name,
        greeting=greeting,
        options=dict(parse_option(o) for o in options),
        wait_s=wait_s,
        timeout=timeout,
        invalid=invalid,
    )
    add_member(ws, "ivr", tenant, number, fields)
    finish(ws, dry_run)


@command.command("set")
@click.argument("tenant")
@click.argument("number")
@click.option("--name", help="Nome.")
@click.option("--greeting", help="Saudação.")
@click.option("--option", "options", multiple=True, help="Set DIGIT=DESTINATION (repeated).")
@click.option("--remove-option", multiple=True, help="Remove the option of a DIGIT (repeated).")
@click.option("--wait", "wait_s", type=click.IntRange(1, 60), help="Seconds to wait for a key.")
@click.option("--timeout", help="Destination when no key is pressed.")
@click.option("--invalid", help="Destination for a key with no option.")
@click.option("--clear", multiple=True, type=click.Choice(CLEARABLE["ivr"]), help="Remove an optional field.")
@edit_options
def set_(
    repo: Path,
    dry_run: bool,
    tenant: str,
    number: str,
    name: str | None,
    greeting: str | None,
    options: tuple[str, ...],
    remove_option: tuple[str, ...],
    wait_s: int | None,
    timeout: str | None,
    invalid: str | None,
    clear: tuple[str, ...],
) -> None:
    """Change an IVR in place.

    Example: pabx ivr set acme 500 --option 4=ext:2009 --remove-option 3
    """
    ws = Workspace(repo)
    fields = MemberFields(
        name=name,
        greeting=greeting,
        options=dict(parse_option(o) for o in options),
        remove_options=remove_option,
        wait_s=wait_s,
        timeout=timeout,
        invalid=invalid,
    )
    set_member(ws, "ivr", tenant, number, fields, clear=clear)
    finish(ws, dry_run)


@command.command("remove")
@click.argument("tenant")
@click.argument("number")
@edit_options
def remove(repo: Path, dry_run: bool, tenant: str, number: str) -> None:
    """Remove an IVR; refused (with where) while a number or another IVR still sends calls to it.

    Example: pabx ivr remove construtora-horizonte 501
    """
    ws = Workspace(repo)
    remove_member(ws, "ivr", tenant, number)
    finish(ws, dry_run)
