"""`pabx extension add|set|remove`: a tenant's extensions (Ramais)."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.cli.editing import edit_options, finish
from pabx.edit.members import CLEARABLE, MemberFields, add_member, remove_member, set_member
from pabx.edit.workspace import Workspace


def _options(func: click.decorators.FC) -> click.decorators.FC:
    for option in (
        click.option("--voicemail/--no-voicemail", default=None, help="Correio de voz."),
        click.option("--caller-id", help="Caller ID (Bina): a number the tenant owns."),
        click.option(
            "--outbound",
            multiple=True,
            help="Outbound classes allowed, comma-separated or repeated (local_fixo, ldn_movel, 0800…).",
        ),
        click.option("--email", help="E-mail for missed-call notices."),
        click.option("--name", help="Nome."),
    ):
        func = option(func)
    return func


def _fields(
    name: str | None,
    email: str | None,
    outbound: tuple[str, ...],
    caller_id: str | None,
    voicemail: bool | None,
) -> MemberFields:
    return MemberFields(
        name=name, email=email, outbound=outbound or None, caller_id=caller_id, voicemail=voicemail
    )


@click.group("extension")
def command() -> None:
    """Add, change and remove a tenant's extensions (Ramais) in tenants/<slug>.yaml.

    Example: pabx extension add acme 2010 --name "Vendas - Ana" --email ana@acme.com.br
    """


@command.command("add")
@click.argument("tenant")
@click.argument("number")
@_options
@edit_options
def add(
    repo: Path,
    dry_run: bool,
    tenant: str,
    number: str,
    name: str | None,
    email: str | None,
    outbound: tuple[str, ...],
    caller_id: str | None,
    voicemail: bool | None,
) -> None:
    """Add extension NUMBER to TENANT (slug, ID or service code).

    Example: pabx extension add acme 2010 --name "Vendas - Ana" --outbound local_fixo,local_movel --voicemail
    """
    ws = Workspace(repo)
    add_member(ws, "extension", tenant, number, _fields(name, email, outbound, caller_id, voicemail))
    finish(ws, dry_run)


@command.command("set")
@click.argument("tenant")
@click.argument("number")
@_options
@click.option("--rotate-password", is_flag=True, help="New SIP password for the phone (bumps sip_rotation).")
@click.option(
    "--clear", multiple=True, type=click.Choice(CLEARABLE["extension"]), help="Remove an optional field."
)
@edit_options
def set_(
    repo: Path,
    dry_run: bool,
    tenant: str,
    number: str,
    name: str | None,
    email: str | None,
    outbound: tuple[str, ...],
    caller_id: str | None,
    voicemail: bool | None,
    rotate_password: bool,
    clear: tuple[str, ...],
) -> None:
    """Change an extension in place; --rotate-password gives its phone a new SIP password.

    The password derives from PABX_SECRET_KEY and sip_rotation: it is never written anywhere;
    `pabx secrets show` prints it for provisioning once the change is applied.

    Example: pabx extension set acme 2002 --rotate-password
    """
    ws = Workspace(repo)
    set_member(
        ws,
        "extension",
        tenant,
        number,
        _fields(name, email, outbound, caller_id, voicemail),
        clear=clear,
        rotate_password=rotate_password,
    )
    finish(ws, dry_run)


@command.command("remove")
@click.argument("tenant")
@click.argument("number")
@edit_options
def remove(repo: Path, dry_run: bool, tenant: str, number: str) -> None:
    """Remove an extension; refused (with where) while a queue, IVR or number still uses it.

    Example: pabx extension remove acme 2009
    """
    ws = Workspace(repo)
    remove_member(ws, "extension", tenant, number)
    finish(ws, dry_run)
