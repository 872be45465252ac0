"""The synthetic platform generator: valid, deterministic, the size asked for, and its CLI."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from pabx.brazil.ddd import ddd_table
from pabx.cli import main
from pabx.errors import UserError
from pabx.generate import GeneratorSpec, generate_platform, yaml_str
from pabx.model import Status
from pabx.schema import stale_schemas
from pabx.validate import validate_repository


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_generated_platform_validates_without_errors_or_warnings(tmp_path: Path) -> None:
    generate_platform(GeneratorSpec(tenants=60), tmp_path / "repo")
    _, report = validate_repository(tmp_path / "repo")
    assert [p.format_text() for p in report.problems] == []


def test_generated_platform_validates_from_the_cache_too(tmp_path: Path) -> None:
    generate_platform(GeneratorSpec(tenants=60), tmp_path / "repo")
    validate_repository(tmp_path / "repo")
    _, report = validate_repository(tmp_path / "repo")
    assert [p.format_text() for p in report.problems] == []


@pytest.mark.parametrize(
    "spec",
    [
        GeneratorSpec(tenants=250, extensions_per_tenant=1, numbers_per_tenant=1, seed=7),
        GeneratorSpec(tenants=3, extensions_per_tenant=50, numbers_per_tenant=20, seed=2),
        GeneratorSpec(tenants=1),
    ],
    ids=["many-servers-minimal-tenants", "few-big-tenants", "one-tenant"],
)
def test_other_shapes_validate_too(tmp_path: Path, spec: GeneratorSpec) -> None:
    generate_platform(spec, tmp_path / "repo")
    _, report = validate_repository(tmp_path / "repo")
    assert [p.format_text() for p in report.problems] == []


def test_counts_match_the_spec(tmp_path: Path) -> None:
    spec = GeneratorSpec(tenants=230, extensions_per_tenant=7, numbers_per_tenant=3, seed=5)
    stats = generate_platform(spec, tmp_path / "repo")
    repo, report = validate_repository(tmp_path / "repo")
    assert report.ok
    assert (stats.tenants, stats.extensions, stats.numbers, stats.servers) == (230, 230 * 7, 230 * 3, 3)
    assert len(repo.tenants) == 230
    assert sum(len(t.extensions) for t in repo.tenants.values()) == 230 * 7
    assert len(repo.number_sites) == 230 * 3
    assert len(repo.servers) == 3
    assert len(repo.plans) == 3
    assert len(repo.routes) >= 2
    assert len(repo.trunks) >= 2
    assert all(set(trunk.servers) == set(repo.servers) for trunk in repo.trunks.values())


def test_every_status_and_feature_is_represented(tmp_path: Path) -> None:
    generate_platform(GeneratorSpec(tenants=100), tmp_path / "repo")
    repo, _ = validate_repository(tmp_path / "repo")
    statuses = Counter(t.status for t in repo.tenants.values())
    assert set(statuses) == set(Status)
    assert statuses[Status.ATIVO] > sum(statuses.values()) / 2
    removed = {slug for slug, t in repo.tenants.items() if t.status is Status.REMOVIDO}
    assert not any(site.entry.owner in removed for site in repo.number_sites)
    assert any(site.entry.owner is None for site in repo.number_sites)
    assert any(t.queues for t in repo.tenants.values())
    assert any(t.ivrs for t in repo.tenants.values())
    assert {t.person_type.value for t in repo.tenants.values()} == {"juridica", "fisica"}
    assert any(not t.document[:2].isdigit() for t in repo.tenants.values())  # alphanumeric CNPJ


def test_schemas_are_written_where_the_first_lines_point(tmp_path: Path) -> None:
    generate_platform(GeneratorSpec(tenants=3), tmp_path / "repo")
    for path in (tmp_path / "repo").rglob("*.y*ml"):
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        if first.startswith("# yaml-language-server: $schema="):
            assert (path.parent / first.split("=", 1)[1]).resolve().is_file(), path
    assert stale_schemas(tmp_path / "repo") == []


def test_numbers_cover_the_67_real_ddds(tmp_path: Path) -> None:
    generate_platform(GeneratorSpec(tenants=67, numbers_per_tenant=1), tmp_path / "repo")
    files = {p.stem for p in (tmp_path / "repo" / "numbers").iterdir()}
    assert files == set(ddd_table())


def test_same_seed_same_bytes_other_seed_other_platform(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate_platform(GeneratorSpec(tenants=40, seed=seed), tmp_path / name)
    first, again, other = (_files(tmp_path / n) for n in "abc")
    assert first == again
    assert first != other


def test_refuses_to_write_over_existing_data(tmp_path: Path) -> None:
    generate_platform(GeneratorSpec(tenants=2), tmp_path / "repo")
    with pytest.raises(UserError, match="not empty"):
        generate_platform(GeneratorSpec(tenants=2), tmp_path / "repo")


def test_spec_needs_a_tenant_and_a_number_each() -> None:
    with pytest.raises(UserError):
        GeneratorSpec(tenants=0)
    with pytest.raises(UserError):
        GeneratorSpec(tenants=1, numbers_per_tenant=0)
    with pytest.raises(UserError, match="at most"):
        GeneratorSpec(tenants=1_000_000, numbers_per_tenant=20)


def test_cli_generates_a_platform_that_validate_accepts(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "big"
    result = runner.invoke(
        main, ["generate", "--tenants", "120", "--numbers-per-tenant", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "2 servers, 120 tenants, 1200 extensions, 240 numbers" in result.output
    result = runner.invoke(main, ["validate", "--repo", str(out)])
    assert result.exit_code == 0, result.output
    assert "valid: 0 error(s), 0 warning(s)" in result.output


def test_cli_refusal_is_a_user_error(runner: CliRunner, tmp_path: Path) -> None:
    runner.invoke(main, ["generate", "--tenants", "1", "--out", str(tmp_path)])
    result = runner.invoke(main, ["generate", "--tenants", "1", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "not empty" in result.output
    assert "Traceback" not in result.output


@given(st.text())
def test_quoted_strings_read_back_unchanged(text: str) -> None:
    assert yaml.load(f"key: {yaml_str(text)}\n", Loader=yaml.CSafeLoader) == {"key": text}
