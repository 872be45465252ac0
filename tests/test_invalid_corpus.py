"""The corpus of broken inputs: each case breaks the clean base in one way and lists the problems.

A case is a folder under tests/invalid/ holding the files that differ from tests/fixtures/base/
(same relative paths), an optional `DELETE` file listing base paths to remove, and
`expected.txt`: one line per expected problem, `path:line:col [rule]`, optionally with the
field (`path:line:col: field [rule]`) and a trailing `(warning)` for warnings. The case must
report exactly those problems, and exit 2 unless all of them are warnings.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pabx.cli import main

TESTS = Path(__file__).resolve().parent
BASE = TESTS / "fixtures" / "base"
CORPUS = TESTS / "invalid"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []
CONTROL_FILES = {"expected.txt", "DELETE"}

EXPECTED_RE = re.compile(
    r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+)(?::\s*(?P<field>\S+))?\s+"
    r"\[(?P<rule>[a-z0-9-]+)\](?P<warning>\s+\(warning\))?$"
)
OUTPUT_RE = re.compile(
    r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<body>.*) "
    r"\[(?P<rule>[a-z0-9-]+)\](?P<warning> \(warning\))?$"
)


@dataclass(frozen=True)
class Expected:
    where: tuple[str, int, int, str]  # path, line, column, rule
    field: str | None
    warning: bool


@dataclass(frozen=True)
class Reported:
    where: tuple[str, int, int, str]
    body: str
    warning: bool
    text: str


def read_expected(case: Path) -> list[Expected]:
    out = []
    for raw in (case / "expected.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = EXPECTED_RE.match(line)
        assert m, f"{case.name}/expected.txt: cannot read {raw!r}"
        out.append(
            Expected((m["path"], int(m["line"]), int(m["col"]), m["rule"]), m["field"], bool(m["warning"]))
        )
    return out


def reported(output: str) -> list[Reported]:
    out = []
    for line in output.splitlines():
        m = OUTPUT_RE.match(line)
        if m:
            out.append(
                Reported(
                    (m["path"], int(m["line"]), int(m["col"]), m["rule"]), m["body"], bool(m["warning"]), line
                )
            )
    return out


def build_repo(case: str | None, dest: Path) -> Path:
    """The base repository with `case` overlaid: its files replace or add, DELETE removes."""
    shutil.copytree(BASE, dest)
    if case is None:
        return dest
    folder = CORPUS / case
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_dir() or rel.as_posix() in CONTROL_FILES:
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    delete = folder / "DELETE"
    if delete.is_file():
        for name in delete.read_text(encoding="utf-8").split():
            target = dest / name
            assert target.is_file(), f"{case}/DELETE names {name}, which the base does not have"
            target.unlink()
    return dest


def run_validate(repo: Path, *extra: str) -> Result:
    return CliRunner().invoke(main, ["validate", "--repo", str(repo), "--no-cache", *extra])


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40, f"only {len(CASES)} cases in {CORPUS}"


def test_every_case_has_expectations() -> None:
    for case in CASES:
        folder = CORPUS / case
        assert (folder / "expected.txt").is_file(), f"{case} has no expected.txt"
        assert read_expected(folder), f"{case}/expected.txt lists no problem"
        overlay = [p for p in folder.rglob("*") if p.is_file() and p.name not in CONTROL_FILES]
        assert overlay or (folder / "DELETE").is_file(), f"{case} changes nothing in the base"


def test_base_is_clean(tmp_path: Path) -> None:
    result = run_validate(build_repo(None, tmp_path / "repo"))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output
    assert reported(result.output) == [], result.output
    assert "valid: 0 error(s), 0 warning(s)" in result.output


@pytest.mark.parametrize("case", CASES)
def test_invalid_case(case: str, tmp_path: Path) -> None:
    expected = read_expected(CORPUS / case)
    result = run_validate(build_repo(case, tmp_path / "repo"))
    output = result.output

    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)

    found = reported(output)
    by_where = {r.where: r for r in found}
    for exp in expected:
        got = by_where.get(exp.where)
        assert got is not None, f"missing {exp.where} in:\n{output}"
        if exp.field is not None:
            assert got.body.startswith(f"{exp.field}: "), f"wrong field, expected {exp.field!r}: {got.text}"
        assert got.warning == exp.warning, f"severity differs from expected.txt: {got.text}"

    unexpected = sorted({r.where for r in found} - {e.where for e in expected})
    assert not unexpected, f"problems not listed in expected.txt: {unexpected}\n{output}"
    expected_rules = {e.where[3] for e in expected}
    for r in found:
        if not r.warning:
            assert r.where[3] in expected_rules, f"unexpected error rule: {r.text}"

    errors = sum(not e.warning for e in expected)
    assert result.exit_code == (2 if errors else 0), output
    assert f"{len(found) - errors} warning(s)" in output
    assert f"{errors} error(s)" in output


def test_json_format_reports_the_problem(tmp_path: Path) -> None:
    case = "number-owner-removed"
    expected = read_expected(CORPUS / case)
    result = run_validate(build_repo(case, tmp_path / "repo"), "--format", "json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["valid"] is False
    assert data["errors"] == len(expected)
    where = {(p["path"], p["line"], p["column"], p["rule"]) for p in data["problems"]}
    assert where == {e.where for e in expected}
    assert all(p["severity"] == "error" and p["message"] for p in data["problems"])


def test_github_format_annotates_the_problem(tmp_path: Path) -> None:
    case = "number-owner-removed"
    expected = read_expected(CORPUS / case)
    result = run_validate(build_repo(case, tmp_path / "repo"), "--format", "github")
    assert result.exit_code == 2
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines, result.output
    assert all(line.startswith("::error file=") for line in lines), result.output
    for exp in expected:
        path, line, col, rule = exp.where
        head = f"::error file={path},line={line},col={col},title={rule}::"
        assert any(entry.startswith(head) for entry in lines), f"{head} not in:\n{result.output}"
