"""The `pabx` command line: a click group, one module per command; the only place that prints."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from pabx import __version__
from pabx.errors import InternalError, UserError


class _Commands(dict[str, Any]):
    """Command name -> command; a command registered by module is imported on first use.

    `pabx validate` then imports what validation needs, not DuckDB, Jinja or GitPython for
    the other commands (they had made start-up a second). Listing names imports nothing;
    reading a command (running it, its --help, `items()`) imports its module.
    """

    def __init__(self, commands: Any = None) -> None:
        super().__init__(commands or {})
        self.modules: dict[str, str] = {}

    def register(self, name: str, module: str) -> None:
        self.modules[name] = module
        super().__setitem__(name, None)

    def __setitem__(self, name: str, command: Any) -> None:
        self.modules.pop(name, None)
        super().__setitem__(name, command)

    def __getitem__(self, name: str) -> Any:
        if name in self.modules:
            command = importlib.import_module(self.modules[name]).command
            if command.name != name:
                raise InternalError(f"{self.modules[name]} defines {command.name!r}, registered as {name!r}")
            self[name] = command
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        if name not in self:
            return default
        return self[name]

    def load_all(self) -> None:
        for name in list(self.modules):
            self.__getitem__(name)  # imports it

    def items(self) -> Any:  # dict_items, every command imported
        self.load_all()
        return super().items()

    def values(self) -> Any:  # dict_values, every command imported
        self.load_all()
        return super().values()


class PabxGroup(click.Group):
    """Turns UserError into a plain message and exit code 2, never a traceback."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands(self.commands)

    def add_lazy_command(self, name: str, module: str) -> None:
        """Register `name`, the `command` of `module`, imported only when it is used."""
        assert isinstance(self.commands, _Commands)
        self.commands.register(name, module)

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


# Command name -> the module defining it as `command`, imported only when that command runs.
COMMANDS = {
    "validate": "pabx.cli.validate",
    "schema": "pabx.cli.schema",
    "summary": "pabx.cli.summary",
    "render": "pabx.cli.render",
    "secrets": "pabx.cli.secrets",
    "demo": "pabx.cli.demo",
    "generate": "pabx.cli.generate",
    "tenant": "pabx.cli.tenant",
    "extension": "pabx.cli.extension",
    "queue": "pabx.cli.queue",
    "ivr": "pabx.cli.ivr",
    "number": "pabx.cli.number",
    "route": "pabx.cli.route",
    "import": "pabx.cli.importer",
    "user": "pabx.cli.user",
    "codeowners": "pabx.cli.codeowners",
    "plan": "pabx.cli.plan",
    "trace": "pabx.cli.trace",
    "report": "pabx.cli.report",
    "cdr": "pabx.cli.cdr",
    "apply": "pabx.cli.apply",
    "drift": "pabx.cli.drift",
    "status": "pabx.cli.status",
    "rollback": "pabx.cli.rollback",
    "deploys": "pabx.cli.deploys",
    "history": "pabx.cli.history",
    "audit": "pabx.cli.audit",
    "mail": "pabx.cli.mail",
    "notify": "pabx.cli.notify",
    "fleet": "pabx.cli.fleet",
}


def _register() -> None:
    for name, module in COMMANDS.items():
        main.add_lazy_command(name, module)


_register()
