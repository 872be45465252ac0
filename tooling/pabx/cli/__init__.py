"""The `pabx` command line: a click group, one module per command; the only place that prints."""

from __future__ import annotations

import sys
from typing import Any

import click

from pabx import __version__
from pabx.errors import UserError


class PabxGroup(click.Group):
    """Turns UserError into a plain message and exit code 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            for problem in exc.problems:
                click.echo(problem.format_text(), err=True)
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=PabxGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pabx")
def main() -> None:
    """Configuration-as-code for a multi-tenant hosted PBX (Asterisk).

    The repository (tenants/, numbers/, routes/, plans/, inventory/) is the source of truth;
    pabx validates it, renders it and ships it.
    """


def _register() -> None:
    from pabx.cli import demo, generate, render, schema, secrets, summary, validate

    for module in (validate, schema, summary, render, secrets, demo, generate):
        main.add_command(module.command)

    from pabx.cli import codeowners, extension, importer, ivr, number, queue, route, tenant, user

    for module in (tenant, extension, queue, ivr, number, route, importer, user, codeowners):
        main.add_command(module.command)

    from pabx.cli import plan

    main.add_command(plan.command)

    from pabx.cli import trace

    main.add_command(trace.command)

    from pabx.cli import report

    main.add_command(report.command)

    from pabx.cli import cdr

    main.add_command(cdr.command)

    from pabx.cli import apply, deploys, drift, rollback, status

    for module in (apply, drift, status, rollback, deploys):
        main.add_command(module.command)


_register()
