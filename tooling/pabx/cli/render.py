"""`pabx render`: the Asterisk configuration of every server, from the validated repository."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.cli.options import repo_option
from pabx.gitinfo import revision
from pabx.loader import load_valid_repository
from pabx.render import render_repository
from pabx.render.secrets import KEY_VARIABLE, Secrets


@click.command("render")
@repo_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output directory [REPO/build].",
)
@click.option("--server", "servers", multiple=True, help="Render only this server (repeatable).")
@click.option("--masked", is_flag=True, help=f"Write masked placeholders even when {KEY_VARIABLE} is set.")
@click.option("--force", is_flag=True, help="Render every server even when its inputs did not change.")
def command(repo: Path, out: Path | None, servers: tuple[str, ...], masked: bool, force: bool) -> None:
    """Write build/<server>/ for each Asterisk server: pjsip.conf, extensions.conf, queues.conf,
    voicemail.conf (when used), cdr.conf, one include file per tenant and kind, and manifest.json.

    A server whose inputs did not change since its last render (fingerprint in its manifest) is
    skipped; otherwise only files whose content changed are rewritten. Without PABX_SECRET_KEY (or with --masked)
    passwords render as "(masked)", as in a pull-request job.

    Example: PABX_SECRET_KEY=... pabx render --server pbx-sp-01
    """
    loaded, _ = load_valid_repository(repo)
    secrets = Secrets.from_environment(masked=masked)
    target = out if out is not None else repo / "build"
    result = render_repository(
        loaded, target, secrets, revision=revision(repo), only=list(servers) or None, force=force
    )
    for name, server in result.servers.items():
        click.echo(
            f"{name}: {len(server.files)} files in {target / name} "
            f"({len(server.written)} written, {server.unchanged} unchanged, {len(server.removed)} removed)"
        )
    if result.masked:
        click.echo(f"secrets masked ({KEY_VARIABLE} not set or --masked)")
