"""What makes big repositories fast must not change a single problem: cache, workers, lazy data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pabx.errors import UserError
from pabx.generate import GeneratorSpec, generate_platform
from pabx.loader import repo as loader_repo
from pabx.loader.layout import state_dir
from pabx.loader.yamlpos import parse
from pabx.validate import validate_repository


def _broken_platform(root: Path) -> None:
    """A generated platform with one mistake of each family, in files all over it."""
    generate_platform(GeneratorSpec(tenants=60, seed=11), root)
    tenants = sorted((root / "tenants").iterdir())
    # YAML syntax error
    tenants[3].write_text(tenants[3].read_text(encoding="utf-8") + "broken: [unclosed\n", encoding="utf-8")
    # schema error and unknown key (positions come from the file's data)
    text = tenants[10].read_text(encoding="utf-8")
    tenants[10].write_text(text.replace("email: contato@", "email: not-an-email ", 1) + "colour: blue\n")
    # missing schema header (warning)
    text = tenants[20].read_text(encoding="utf-8")
    tenants[20].write_text(text.split("\n", 1)[1], encoding="utf-8")
    # a duplicate key
    tenants[30].write_text(tenants[30].read_text(encoding="utf-8") + "plan: basico\n", encoding="utf-8")
    # the same number in two DDD files: positions of both are needed
    numbers = sorted((root / "numbers").iterdir())
    first_entry = numbers[0].read_text(encoding="utf-8").splitlines()[1]
    with numbers[-1].open("a", encoding="utf-8") as fh:
        fh.write(first_entry + "\n")
    # a literal secret in a trunk
    trunk = root / "inventory" / "trunks" / "vivo.yaml"
    trunk.write_text(trunk.read_text(encoding="utf-8") + "password: hunter2\n", encoding="utf-8")
    # a file that is not YAML at all, one that is not UTF-8
    (root / "tenants" / "zz-notes.yaml").write_bytes(b"# yaml-language-server: x\n\xff\xfe oops\n")


def _report(root: Path) -> list[str]:
    _, report = validate_repository(root)
    return [p.format_text() for p in report.sorted()]


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes even for a small repository."""
    monkeypatch.setattr(loader_repo, "_FILES_PER_JOB", 1)
    monkeypatch.setenv("PABX_JOBS", "2")
    assert loader_repo._jobs(100) == 2


def test_workers_and_cache_give_the_same_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: None
) -> None:
    root = tmp_path / "repo"
    _broken_platform(root)
    monkeypatch.setenv("PABX_STATE_DIR", str(tmp_path / "parallel"))
    parallel_cold = _report(root)
    parallel_warm = _report(root)
    monkeypatch.setenv("PABX_JOBS", "1")
    monkeypatch.setenv("PABX_STATE_DIR", str(tmp_path / "serial"))
    serial_cold = _report(root)
    serial_warm = _report(root)
    monkeypatch.setenv("PABX_NO_CACHE", "1")
    uncached = _report(root)

    assert parallel_cold == serial_cold == parallel_warm == serial_warm == uncached
    rules = {line.rsplit("[", 1)[1].split("]")[0] for line in serial_cold}
    assert {
        "yaml-syntax",
        "schema",
        "unknown-key",
        "schema-header",
        "duplicate-key",
        "number-unique",
        "secret-literal",
    } <= rules


def test_three_workers_keep_the_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: None
) -> None:
    root = tmp_path / "repo"
    _broken_platform(root)
    monkeypatch.setenv("PABX_NO_CACHE", "1")
    monkeypatch.setenv("PABX_JOBS", "3")
    repo, report = validate_repository(root)
    monkeypatch.setenv("PABX_JOBS", "1")
    serial, serial_report = validate_repository(root)
    assert report.problems == serial_report.problems  # the same order, not only the same set
    assert list(repo.docs) == list(serial.docs)
    assert [s.entry.number for s in repo.number_sites] == [s.entry.number for s in serial.number_sites]


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    generate_platform(GeneratorSpec(tenants=5), root)
    assert _report(root) == []
    tenant = sorted((root / "tenants").iterdir())[0]
    tenant.write_text(
        tenant.read_text(encoding="utf-8").replace("plan: ", "plan: nope-", 1), encoding="utf-8"
    )
    assert any("[ref-plan]" in line for line in _report(root))


def test_a_corrupt_cache_is_only_a_slower_run(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    generate_platform(GeneratorSpec(tenants=5), root)
    _report(root)
    cache = state_dir(root) / "cache" / "repository.pickle"
    assert cache.is_file()
    cache.write_bytes(b"not a pickle")
    assert _report(root) == []


def test_pabx_jobs_must_be_a_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PABX_JOBS", "many")
    with pytest.raises(UserError, match="PABX_JOBS"):
        loader_repo._jobs(10_000)


def test_cli_with_workers_prints_its_verdict_once(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    generate_platform(GeneratorSpec(tenants=900, numbers_per_tenant=1), root)  # ~970 files: 2 jobs
    env = {**os.environ, "PABX_JOBS": "2", "PABX_STATE_DIR": str(tmp_path / "state")}
    command = [sys.executable, "-c", "from pabx.cli import main; main()", "validate", "--repo", str(root)]
    for _ in ("cold", "warm"):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        assert (done.returncode, done.stdout, done.stderr) == (0, "valid: 0 error(s), 0 warning(s)\n", "")


SAME_AS_PYYAML = [
    "a: 1\nb: [1, 2, {c: d}]\n",
    "n: [0, 007, 0o17, 0x1F, 1_000, +5, -5, 1:30, 2001, 0300]\n",
    "b: [yes, No, on, OFF, true, False, y, n]\n",
    "z: [~, null, Null, '', \"\"]\nempty:\n",
    "f: [1.5, .inf, -.Inf, .nan, 1e3, 6.8523015e+5, 190:20:30.15]\n",
    "s: ['1', \"yes\", '0300', !!str 12, !!int '12', !!float 1]\n",
    "a: &x {k: v}\nb: *x\nc: [*x, *x]\n",
    "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  z: 3\n",
    "<<: [{a: 1}, {b: 2}]\nc: 3\n",
    "a: !!set {x, y}\n",
    "a: !!binary aGVsbG8=\n",
    "d: [2026-02-10, 2026-02-10 10:00:00, 2001-12-14t21:59:43.10-05:00]\n",
    "1: a\n2: b\nno: c\n~: d\n",
    "- a\n- [b, c]\n- {d: e}\n- - nested\n  - deeper: [1]\n",
    "key: |\n  literal\n  text\nother: >\n  folded\n  text\n",
    "",
]


def _typed(value: object) -> object:
    """Data with every scalar's type, so 1 == True or 1 == 1.0 cannot hide a difference."""
    if isinstance(value, dict):
        return ("dict", sorted(((repr(_typed(k)), _typed(v)) for k, v in value.items()), key=str))
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


@pytest.mark.parametrize("text", SAME_AS_PYYAML)
def test_the_fast_construction_reads_what_pyyaml_reads(text: str) -> None:
    data, problems = parse(text, "f.yaml")
    assert problems == []
    assert _typed(data) == _typed(yaml.load(text, Loader=yaml.CSafeLoader))
