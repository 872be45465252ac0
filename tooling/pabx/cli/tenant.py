"""`pabx tenant add|set|remove|reset-access`: the seed's Clientes screen as reviewable edits."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.cli.editing import ask, edit_options, finish, is_interactive
from pabx.edit.tenants import (
    CLEARABLE,
    TenantFields,
    add_tenant,
    remove_tenant,
    reset_access,
    set_tenant,
)
from pabx.edit.workspace import Workspace

STATUSES = ("ativo", "inativo", "pendente", "removido")


def _field_options(func: click.decorators.FC) -> click.decorators.FC:
    """The seed's fields, shared by add and set (click applies them bottom-up)."""
    options = [
        click.option("--zip", help="CEP."),
        click.option("--state", help="UF (two letters)."),
        click.option("--city", help="Cidade."),
        click.option("--address", help="Endereço."),
        click.option("--mobile", help="Celular."),
        click.option("--phone", help="Telefone."),
        click.option("--caller-id", help="Default caller ID: a number the tenant owns (DDD+number)."),
        click.option("--server", help="Asterisk server (default for add: the one with the most room)."),
        click.option("--due-date", help="Data de vencimento: 2026-12-10 or 10/12/2026."),
        click.option("--plan", help="Plano (slug of plans/<slug>.yaml)."),
        click.option("--service-code", help="Código de serviço (default for add: from the name and ID)."),
        click.option("--permission", type=click.Choice(["cliente", "revenda"]), help="Permissão."),
        click.option("--status", type=click.Choice(STATUSES, case_sensitive=False), help="Status."),
        click.option("--email", help="E-mail."),
        click.option("--document", help="Documento: CNPJ (jurídica) or CPF (física), masked or digits."),
        click.option("--person-type", help="Tipo pessoa: juridica or fisica (default: from the document)."),
        click.option("--contact", help="Contato (responsible person)."),
        click.option("--name", help="Cliente (legal or trade name)."),
    ]
    for option in options:
        func = option(func)
    return func


def _fields(values: dict[str, str | None]) -> TenantFields:
    return TenantFields(**{k: v for k, v in values.items() if k in TenantFields.__dataclass_fields__})


@click.group("tenant")
def command() -> None:
    """Add, change and remove tenants (Clientes) as edits of tenants/<slug>.yaml.

    Each command validates the whole repository after the change and writes nothing when it
    would be invalid; review the result with `git diff`.

    Example: pabx tenant set acme --status inativo
    """


@command.command("add")
@_field_options
@click.option("--slug", help="File name and name on the wire (default: from the name).")
@click.option("--id", "tenant_id", type=int, help="ID (default: the next never used).")
@click.option(
    "--manager",
    "managers",
    multiple=True,
    help="GitHub handle of a user who manages it (added to inventory/users.yaml in the same change).",
)
@click.option(
    "--interactive/--no-interactive",
    default=None,
    help="Ask for missing fields (default: when run from a terminal).",
)
@edit_options
def add(
    repo: Path,
    dry_run: bool,
    slug: str | None,
    tenant_id: int | None,
    managers: tuple[str, ...],
    interactive: bool | None,
    **values: str | None,
) -> None:
    """Create a tenant with every seed field, the next free ID and a service code.

    The ID is one more than the highest ever used (removido tenants and files deleted in git
    history count too); the service code comes from the name; the server is the one with the
    most room unless --server says otherwise. The status starts as pendente.

    Example: pabx tenant add --name "Padaria Pão Quente Ltda" --contact "João Lima" --document 11.444.777/0001-61 --email ti@paoquente.com.br --plan basico --manager jucastro
    """
    live = is_interactive(interactive)
    values["name"] = ask(values["name"], "Cliente", live)
    values["contact"] = ask(values["contact"], "Contato", live)
    values["document"] = ask(values["document"], "Documento (CNPJ ou CPF)", live)
    values["email"] = ask(values["email"], "E-mail", live)
    values["plan"] = ask(values["plan"], "Plano", live)
    if live and not managers:
        handle = click.prompt(
            "Gerente (usuário do GitHub, vazio para nenhum)", default="", show_default=False
        )
        managers = (handle,) if handle else ()
    ws = Workspace(repo)
    add_tenant(ws, _fields(values), slug=slug, tenant_id=tenant_id, managers=managers)
    finish(ws, dry_run)


@command.command("set")
@click.argument("tenant")
@_field_options
@click.option(
    "--clear",
    "clear",
    multiple=True,
    type=click.Choice(CLEARABLE),
    help="Remove an optional field.",
)
@edit_options
def set_(repo: Path, dry_run: bool, tenant: str, clear: tuple[str, ...], **values: str | None) -> None:
    """Change fields of a tenant in place (TENANT: slug, ID or service code).

    Setting the status to removido is refused while the tenant owns numbers (see remove).

    Example: pabx tenant set acme --plan corporativo --due-date 10/01/2027
    """
    ws = Workspace(repo)
    set_tenant(ws, tenant, _fields(values), clear)
    finish(ws, dry_run)


@command.command("remove")
@click.argument("tenant")
@click.option(
    "--release-numbers",
    is_flag=True,
    help="Release the numbers it owns (and the caller IDs using them) in the same change.",
)
@edit_options
def remove(repo: Path, dry_run: bool, tenant: str, release_numbers: bool) -> None:
    """Remove a tenant: status removido; its file and ID stay for audit.

    Refused while it owns numbers, naming them, unless --release-numbers releases them.
    Nothing of a removido tenant is rendered on any server.

    Example: pabx tenant remove studio-luz --release-numbers
    """
    ws = Workspace(repo)
    remove_tenant(ws, tenant, release_numbers=release_numbers)
    finish(ws, dry_run)


@command.command("reset-access")
@click.argument("tenant")
@edit_options
def reset_access_(repo: Path, dry_run: bool, tenant: str) -> None:
    """Define a new password: a new Painel do usuário address (bumps access_rotation).

    The old address stops working and the new one is mailed to the tenant once the change is
    applied. The address is never printed.

    Example: pabx tenant reset-access acme
    """
    ws = Workspace(repo)
    slug, email, _ = reset_access(ws, tenant)
    outcome = finish(ws, dry_run)
    if outcome.changed:
        click.echo(
            f"once applied, the new Painel do usuário address of {slug} is mailed to {email}; "
            "the old address stops working then"
        )
