"""`pabx drift`: servers whose live files differ from what git renders."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pabx.cli.apply import target_option
from pabx.cli.options import repo_option
from pabx.deploy.drift import drift

DRIFT_EXIT_CODE = 3


@click.command("drift")
@repo_option
@click.option("--server", "servers", multiple=True, help="Check only this server (repeatable).")
@target_option
@click.option(
    "--diff/--no-diff",
    "show_diff",
    default=True,
    show_default=True,
    help="Print the diffs (never of files with secrets).",
)
def command(repo: Path, servers: tuple[str, ...], target: str, show_diff: bool) -> None:
    """List the servers whose live files differ from what git renders (Ansible check mode with
    diff: nothing changes). Needs PABX_SECRET_KEY (and the trunks' password variables) to render
    the files as applied; files holding secrets are compared by checksum, their diff never shown.
    Exits 3 when a server drifted, 0 when every server matches git.

    Example: PABX_SECRET_KEY=... pabx drift --server pbx-sp-01
    """
    report = drift(repo, list(servers), target)
    for name, server in report.servers.items():
        click.echo(
            f"{name:<16} {server.outcome}" + (f" ({server.live})" if server.live else " (nothing live)")
        )
        for label, items in (
            ("differs", server.differs),
            ("missing", server.missing),
            ("extra", server.extra),
            ("include line missing in", server.includes_missing),
        ):
            for item in items:
                click.echo(f"{'':<16} {label}: {item}")
        if server.error:
            click.echo(f"{'':<16} error: {server.error}")
        if show_diff:
            for diff in server.diffs:
                click.echo(diff, nl=False)
    drifted = report.drifted
    click.echo(
        f"{len(drifted)} of {len(report.servers)} server(s) drifted"
        + (f": {', '.join(drifted)}" if drifted else "")
    )
    if drifted:
        sys.exit(DRIFT_EXIT_CODE)
