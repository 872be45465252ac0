"""`pabx demo`: the main job on the repository's own data, end to end, and where to look."""

from __future__ import annotations

from pathlib import Path

import click

from pabx.cli.options import repo_option
from pabx.cli.summary import summary_lines
from pabx.errors import UserError
from pabx.validate import validate_repository


@click.command("demo")
@repo_option
def command(repo: Path) -> None:
    """Run the whole flow on this repository's data (what `make demo` runs).

    Validates the repository and prints a summary of the platform it describes; then the
    report site from simulated CDRs; then renders, plans and applies to the local target
    (each server a folder under state/local-target/), and says where the releases are.

    Example: PABX_SECRET_KEY=throwaway pabx demo
    """
    loaded, report = validate_repository(repo)
    click.echo("== pabx validate")
    for problem in report.sorted():
        click.echo(problem.format_text())
    if not report.ok:
        raise UserError("the repository's own data is not valid; fix the errors above")
    click.echo(f"valid: {len(report.errors)} error(s), {len(report.warnings)} warning(s)\n")
    click.echo("== pabx summary")
    click.echo("\n".join(summary_lines(loaded, report)))
    from pabx.cli.fleet import fleet_lines
    from pabx.edge.fill import fleet_fill

    click.echo("\n== pabx fleet (the SIP edge and each server's fill)")
    click.echo("\n".join(fleet_lines(*fleet_fill(loaded))))

    # -- e-mails (issue 6): welcome e-mails queued and sent to a local SMTP server -------------
    from pabx.cli.mail import demo_step as mail_demo_step

    mail_demo_step(repo)

    # -- report site (issue 5): a month of simulated CDRs, then the static site ----------------
    from pabx.cli.report import demo_step

    demo_step(repo)

    # -- apply (issue 4): render, plan, and apply to the local target ---------------------------
    from pabx.cli.apply import demo_step as apply_demo_step

    apply_demo_step(repo)
