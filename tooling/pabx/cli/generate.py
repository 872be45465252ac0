"""`pabx generate`: a valid synthetic platform of any size, for tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.generate import GeneratorSpec, generate_platform


@click.command("generate")
@click.option("--tenants", type=click.IntRange(1), required=True, help="Number of tenants.")
@click.option("--extensions-per-tenant", type=click.IntRange(1, 50), default=10, show_default=True)
@click.option("--numbers-per-tenant", type=click.IntRange(1, 20), default=5, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed (same seed, same files).")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Directory to write."
)
def command(tenants: int, extensions_per_tenant: int, numbers_per_tenant: int, seed: int, out: Path) -> None:
    """Write a valid synthetic repository (inventory, plans, routes, tenants, numbers).

    Example: pabx generate --tenants 10000 --out /tmp/big  (100,000 extensions, 50,000 numbers)
    """
    stats = generate_platform(
        GeneratorSpec(
            tenants=tenants,
            extensions_per_tenant=extensions_per_tenant,
            numbers_per_tenant=numbers_per_tenant,
            seed=seed,
        ),
        out,
    )
    click.echo(
        f"wrote {out}: {stats.servers} servers, {stats.tenants} tenants, {stats.extensions} extensions, "
        f"{stats.numbers} numbers"
    )
