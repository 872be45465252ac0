"""The CLI imports a command's module only when that command is used: start-up stays small."""

from __future__ import annotations

import importlib
import subprocess
import sys

from pabx.cli import COMMANDS, main

HEAVY = ("duckdb", "jinja2", "git", "pabx.report", "pabx.render", "pabx.deploy", "pabx.plan")


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_importing_the_cli_imports_no_command() -> None:
    loaded = _modules_after("import pabx.cli")
    assert not {m for m in loaded if m.startswith("pabx.cli.")}
    assert not [m for m in HEAVY if m in loaded]


def test_validate_imports_only_what_validation_needs() -> None:
    loaded = _modules_after(
        "from pabx.cli import main\nmain.main(['validate', '--list-rules'], standalone_mode=False)"
    )
    assert "pabx.cli.validate" in loaded
    assert not [m for m in HEAVY if m in loaded]


def test_every_registered_module_defines_the_command_of_its_name() -> None:
    for name, module in COMMANDS.items():
        assert importlib.import_module(module).command.name == name
    assert set(main.list_commands(None)) >= set(COMMANDS)  # type: ignore[arg-type]
