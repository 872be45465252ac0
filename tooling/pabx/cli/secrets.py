"""`pabx secrets show TENANT/EXT`: the credentials to provision one phone."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.cli.options import repo_option
from pabx.errors import UserError
from pabx.loader import load_valid_repository
from pabx.model import Status
from pabx.render import naming
from pabx.render.secrets import Secrets


@click.group("secrets")
def command() -> None:
    """Secrets derived from PABX_SECRET_KEY (never stored in git).

    Example: pabx secrets show acme/2001
    """


@command.command("show")
@repo_option
@click.argument("target", metavar="TENANT/EXT")
def show(repo: Path, target: str) -> None:
    """Print the SIP account of one extension (user, password, server) for provisioning a phone.

    Needs PABX_SECRET_KEY. Bump the extension's `sip_rotation` in its tenant file to change it.

    Example: PABX_SECRET_KEY=... pabx secrets show acme/2001
    """
    slug, _, number = target.partition("/")
    if not slug or not number:
        raise UserError(f"{target!r}: write TENANT/EXT, e.g. acme/2001")
    loaded, _ = load_valid_repository(repo)
    tenant = loaded.tenants.get(slug)
    if tenant is None:
        raise UserError(f"tenant {slug!r} does not exist")
    if tenant.status is Status.REMOVIDO:
        raise UserError(f"tenant {slug!r} is removido: nothing is rendered for it")
    ext = tenant.extension(number)
    if ext is None:
        raise UserError(f"tenant {slug!r} has no extension {number}")
    secrets = Secrets.from_environment()
    secrets.require_key("show a phone's password")
    endpoint = naming.endpoint(slug, number)
    host = loaded.servers[tenant.server]
    domain = host.pabx_sip_address or (loaded.platform.domain if loaded.platform else tenant.server)
    click.echo(f"Ramal:    {slug}/{number} ({ext.name})")
    click.echo(f"Servidor: {tenant.server} ({domain}:{host.pabx_sip_port})")
    click.echo(f"Usuário:  {endpoint}")
    click.echo(f"Senha:    {secrets.sip_password(endpoint, ext.sip_rotation)}")
    if ext.voicemail:
        click.echo(f"PIN do correio de voz: {secrets.voicemail_pin(endpoint, ext.sip_rotation)}")
