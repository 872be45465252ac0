"""`pabx status`: phones registered on each server, into state/status/registrations.json."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.cli.apply import target_option
from pabx.cli.options import repo_option
from pabx.deploy.status import collect_status


@click.command("status")
@repo_option
@click.option("--server", "servers", multiple=True, help="Ask only this server (repeatable).")
@target_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the JSON [STATE/status/registrations.json].",
)
def command(repo: Path, servers: tuple[str, ...], target: str, out: Path | None) -> None:
    """Collect the phones' registrations (`pjsip show contacts`) from the servers through Ansible
    into the JSON file the report site reads for the Ramais screen (Terminal = server,
    Endereço = the phone's IP): {"collected_at", "servers", "endpoints": {endpoint: {server,
    address, user_agent, status}}}.

    Example: pabx status && pabx report
    """
    result = collect_status(repo, list(servers), target, out)
    for name, info in result.data["servers"].items():
        state = f"{info['contacts']} registered" if info["ok"] else f"not collected: {info['error']}"
        click.echo(f"{name:<16} {state}")
    click.echo(f"{len(result.data['endpoints'])} endpoint(s) registered; written to {result.path}")
