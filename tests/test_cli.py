"""Every command has help with an example; user mistakes exit 2 without a traceback."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pabx.cli import main


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, cmd in sorted(group.commands.items()):
        found.append((*prefix, name))
        if isinstance(cmd, click.Group):
            found += _commands(cmd, (*prefix, name))
    return found


@pytest.mark.parametrize("path", _commands(main), ids=" ".join)
def test_every_command_has_help_with_an_example(runner: CliRunner, path: tuple[str, ...]) -> None:
    result = runner.invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`pabx {' '.join(path)} --help` shows no example"


def test_validate_on_missing_directory_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["validate", "--repo", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_validate_on_empty_directory_reports_missing_inventory(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["validate", "--repo", str(tmp_path)])
    assert result.exit_code == 2
    assert "inventory/hosts.yml:1:1: the inventory file is missing [ref-server]" in result.output


def test_list_rules_names_every_rule(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", "--list-rules"])
    assert result.exit_code == 0
    for rule_id in ("yaml-syntax", "duplicate-key", "number-unique", "secret-literal", "caller-id-owned"):
        assert rule_id in result.output
