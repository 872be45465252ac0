"""`pabx queue add|set|remove`: a tenant's queues (Grupos)."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.cli.editing import edit_options, finish
from pabx.edit.members import CLEARABLE, MemberFields, add_member, remove_member, set_member
from pabx.edit.workspace import Workspace
from pabx.model.tenant import QueueStrategy

STRATEGIES = [s.value for s in QueueStrategy]


@click.group("queue")
def command() -> None:
    """Add, change and remove a tenant's queues (Grupos) in tenants/<slug>.yaml.

    Example: pabx queue add acme 602 --name Suporte --member 2004,2005 --overflow voicemail:2002
    """


@command.command("add")
@click.argument("tenant")
@click.argument("number")
@click.option("--name", required=True, help="Nome.")
@click.option("--strategy", type=click.Choice(STRATEGIES), help="Estratégia (default ringall).")
@click.option("--member", "members", multiple=True, help="Member extensions, comma-separated or repeated.")
@click.option("--timeout", type=click.IntRange(1, 3600), help="Seconds before the overflow (default 30).")
@click.option("--overflow", help="Transbordo: ext:N, queue:N, ivr:N, voicemail:N or hangup.")
@edit_options
def add(
    repo: Path,
    dry_run: bool,
    tenant: str,
    number: str,
    name: str,
    strategy: str | None,
    members: tuple[str, ...],
    timeout: int | None,
    overflow: str | None,
) -> None:
    """Add queue NUMBER to TENANT.

    Example: pabx queue add acme 602 --name Suporte --member 2004,2005 --timeout 40 --overflow voicemail:2002
    """
    ws = Workspace(repo)
    fields = MemberFields(name=name, strategy=strategy, members=members, timeout=timeout, overflow=overflow)
    add_member(ws, "queue", tenant, number, fields)
    finish(ws, dry_run)


@command.command("set")
@click.argument("tenant")
@click.argument("number")
@click.option("--name", help="Nome.")
@click.option("--strategy", type=click.Choice(STRATEGIES), help="Estratégia.")
@click.option(
    "--members", "members", multiple=True, help="Replace the members (comma-separated or repeated)."
)
@click.option("--add-member", multiple=True, help="Add member extensions.")
@click.option("--remove-member", multiple=True, help="Remove member extensions.")
@click.option("--timeout", type=click.IntRange(1, 3600), help="Seconds before the overflow.")
@click.option("--overflow", help="Transbordo: ext:N, queue:N, ivr:N, voicemail:N or hangup.")
@click.option(
    "--clear", multiple=True, type=click.Choice(CLEARABLE["queue"]), help="Remove an optional field."
)
@edit_options
def set_(
    repo: Path,
    dry_run: bool,
    tenant: str,
    number: str,
    name: str | None,
    strategy: str | None,
    members: tuple[str, ...],
    add_member: tuple[str, ...],
    remove_member: tuple[str, ...],
    timeout: int | None,
    overflow: str | None,
    clear: tuple[str, ...],
) -> None:
    """Change a queue in place.

    Example: pabx queue set acme 600 --add-member 2009 --strategy leastrecent
    """
    ws = Workspace(repo)
    fields = MemberFields(
        name=name,
        strategy=strategy,
        members=members or None,
        add_members=add_member,
        remove_members=remove_member,
        timeout=timeout,
        overflow=overflow,
    )
    set_member(ws, "queue", tenant, number, fields, clear=clear)
    finish(ws, dry_run)


@command.command("remove")
@click.argument("tenant")
@click.argument("number")
@edit_options
def remove(repo: Path, dry_run: bool, tenant: str, number: str) -> None:
    """Remove a queue; refused (with where) while an IVR, queue or number still sends calls to it.

    Example: pabx queue remove acme 601
    """
    ws = Workspace(repo)
    remove_member(ws, "queue", tenant, number)
    finish(ws, dry_run)
