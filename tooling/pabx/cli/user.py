"""`pabx user add|grant|revoke|remove`: platform users and their profiles (inventory/users.yaml)."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.cli.editing import edit_options, finish
from pabx.edit.users import add_user, grant, remove_user, revoke
from pabx.edit.workspace import Workspace
from pabx.model.user import Role


@click.group("user")
def command() -> None:
    """Platform users, their roles and the tenants each manages (inventory/users.yaml).

    Every change also rewrites .github/CODEOWNERS, the review rules it implies.

    Example: pabx user grant jucastro padaria-pao-quente
    """


@command.command("add")
@click.argument("handle")
@click.option("--name", required=True, help="Nome.")
@click.option("--email", required=True, help="E-mail of the user's git commits.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="Perfil.")
@click.option("--tenant", "tenants", multiple=True, help="A tenant this user manages (repeated).")
@edit_options
def add(
    repo: Path, dry_run: bool, handle: str, name: str, email: str, role: str, tenants: tuple[str, ...]
) -> None:
    """Add a user by GitHub HANDLE.

    Example: pabx user add anapaula-acme --name "Ana Paula Lima" --email ana.lima@acmecomercio.com.br --role tenant_admin --tenant acme
    """
    ws = Workspace(repo)
    add_user(ws, handle, name=name, email=email, role=role, tenants=tenants)
    finish(ws, dry_run)


@command.command("grant")
@click.argument("handle")
@click.argument("tenants", nargs=-1, required=True)
@edit_options
def grant_(repo: Path, dry_run: bool, handle: str, tenants: tuple[str, ...]) -> None:
    """Add TENANTS to the profile of the user HANDLE: they become its reviewers.

    Example: pabx user grant mtavares acme studio-luz
    """
    ws = Workspace(repo)
    grant(ws, handle, tenants)
    finish(ws, dry_run)


@command.command("revoke")
@click.argument("handle")
@click.argument("tenants", nargs=-1, required=True)
@edit_options
def revoke_(repo: Path, dry_run: bool, handle: str, tenants: tuple[str, ...]) -> None:
    """Take TENANTS out of a user's profile; refused when a tenant would have no manager left.

    Example: pabx user revoke jucastro studio-luz
    """
    ws = Workspace(repo)
    revoke(ws, handle, tenants)
    finish(ws, dry_run)


@command.command("remove")
@click.argument("handle")
@edit_options
def remove(repo: Path, dry_run: bool, handle: str) -> None:
    """Remove a user; refused when a tenant would have no manager left, or no admin would remain.

    Example: pabx user remove claudia-menezes
    """
    ws = Workspace(repo)
    remove_user(ws, handle)
    finish(ws, dry_run)
