"""`pabx summary`: what the repository describes, in numbers (used by `make demo`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from pabx.cli.options import repo_option
from pabx.errors import Report, UserError
from pabx.loader import Repository, load_valid_repository


@click.command("summary")
@repo_option
def command(repo: Path) -> None:
    """Summarize the validated platform: servers, tenants by status, extensions, numbers.

    Example: pabx summary --repo .
    """
    loaded, report = load_valid_repository(repo)
    if not loaded.tenants:
        raise UserError(f"no tenants under {repo / 'tenants'}")
    click.echo("\n".join(summary_lines(loaded, report)))


def summary_lines(loaded: Repository, report: Report) -> list[str]:
    tenants = loaded.tenants.values()
    by_status = Counter(t.status.value for t in tenants)
    numbers = loaded.numbers
    owned = sum(1 for n in numbers.values() if n.owner)
    lines = [
        "Plataforma " + (loaded.platform.name if loaded.platform else "(sem inventory/platform.yaml)"),
        f"  Servidores:        {len(loaded.servers)} ({', '.join(loaded.servers)})",
        f"  Troncos:           {len(loaded.trunks)}",
        f"  Rotas:             {len(loaded.routes)}",
        f"  Planos:            {len(loaded.plans)}",
        f"  Clientes:          {len(loaded.tenants)} ("
        + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items()))
        + ")",
        f"  Ramais:            {sum(len(t.extensions) for t in tenants)}",
        f"  Grupos:            {sum(len(t.queues) for t in tenants)}",
        f"  Pré-atendimentos:  {sum(len(t.ivrs) for t in tenants)}",
        f"  Números:           {len(numbers)} ({owned} em uso, {len(numbers) - owned} disponíveis, "
        f"{sum(1 for n in numbers.values() if n.reverse_billing)} com tarifação reversa)",
        f"  Avisos:            {len(report.warnings)}",
    ]
    return lines
