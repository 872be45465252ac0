"""Shared fixtures: paths, a throwaway secret key, an isolated state directory, the CLI runner."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

REQUIRE_INTEGRATION = os.environ.get("PABX_REQUIRE_INTEGRATION") == "1"


def need(available: bool, what: str) -> None:
    """Skip when a real component is missing, except under PABX_REQUIRE_INTEGRATION=1: fail."""
    if available:
        return
    if REQUIRE_INTEGRATION:
        pytest.fail(f"{what} is required (PABX_REQUIRE_INTEGRATION=1) but not available")
    pytest.skip(f"{what} not available")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PABX_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PABX_SECRET_KEY", "test-throwaway-key")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def demo_repo(tmp_path: Path) -> Iterator[Path]:
    """A private copy of the repository's own data, safe to edit."""
    dest = tmp_path / "repo"
    dest.mkdir()
    for folder in ("inventory", "tenants", "numbers", "routes", "plans", "schemas", "templates"):
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, dest / folder)
    yield dest
