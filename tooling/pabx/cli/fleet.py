"""`pabx fleet`: the fleet's fill, server by server, and the edge in front of it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pabx.cli.options import format_option, repo_option
from pabx.edge.fill import ServerFill, fleet_fill
from pabx.loader import load_valid_repository


@click.command("fleet")
@repo_option
@format_option("text", "json")
def command(repo: Path, fmt: str) -> None:
    """Show each Asterisk server's fill: tenants, DIDs, and the concurrent calls of its tenants'
    plans against its capacity (pabx_capacity), with the SIP edge hosts in front of the fleet.

    Example: pabx fleet --format json
    """
    loaded, _ = load_valid_repository(repo)
    edges, rows = fleet_fill(loaded)
    if fmt == "json":
        click.echo(json.dumps({"edges": edges, "servers": [r.to_json() for r in rows]}, indent=2))
        return
    for line in fleet_lines(edges, rows):
        click.echo(line)


def fleet_lines(edges: list[str], rows: list[ServerFill]) -> list[str]:
    """The text table of `pabx fleet` (also printed by `pabx demo`)."""
    out = [f"Edge SIP: {', '.join(edges) if edges else 'nenhum (os servidores recebem direto)'}"]
    out.append(
        f"{'Servidor':<16} {'Endereço SIP':<36} {'Clientes':>9} {'Números':>8} {'Chamadas':>9} {'Capacidade':>10} {'Uso':>6}"
    )
    for r in rows:
        tenants = f"{r.tenants}/{r.tenant_limit}" if r.tenant_limit else str(r.tenants)
        cap = str(r.capacity) if r.capacity else "-"
        used = f"{r.used_pct:.0f}%" if r.used_pct is not None else "-"
        flag = "  ACIMA DA CAPACIDADE" if r.used_pct is not None and r.used_pct > 100 else ""
        out.append(
            f"{r.server:<16} {r.address or '-':<36} {tenants:>9} {r.dids:>8} {r.calls:>9} {cap:>10} {used:>6}{flag}"
        )
    total_calls = sum(r.calls for r in rows)
    total_cap = sum(r.capacity or 0 for r in rows)
    pct = f" ({100 * total_calls / total_cap:.0f}%)" if total_cap else ""
    out.append(
        f"{'Total':<16} {'':<36} {sum(r.tenants for r in rows):>9} {sum(r.dids for r in rows):>8} "
        f"{total_calls:>9} {total_cap or '-':>10}{pct}"
    )
    return out
