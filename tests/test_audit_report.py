"""The audit report: every change of a period, for auditors who want a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from pabx.audit.report import audit_report
from pabx.cli import main
from pabx.errors import UserError
from tests.audit_support import build_scenario

HEADERS = ["Data", "Autor", "Commit", "Pull request", "Arquivo", "Entidade", "Campo", "Antes", "Depois"]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return build_scenario(tmp_path_factory.mktemp("audit-report") / "repo")


def _csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())  # spreadsheet programs read the accents
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def test_csv_report_of_a_period(scenario: dict[str, str], runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "auditoria.csv"
    args = ["audit", "report", "--since", "2026-02-01", "--until", "2026-03-31", "--out", str(out)]
    result = runner.invoke(main, [*args, "--repo", scenario["path"]])
    assert result.exit_code == 0, result.output
    assert "5 change(s) in 3 commit(s)" in result.output
    rows = _csv(out)
    assert rows[0] == HEADERS
    assert rows[1:] == [
        ["15/02/2026 12:00", "Ana Ferreira <ana.ferreira@pabx.example.com.br>", scenario["plan"][:7], "#12",
         "tenants/acme.yaml", "Cliente acme", "plan", "empresarial", "corporativo"],
        ["01/03/2026 09:00", "Maria Souza <maria.souza@pabx.example.com.br>", scenario["to-conecta"][:7], "",
         "numbers/11.yaml", "Número 1130010030", "owner", "acme", "conecta-telecom"],
        ["01/03/2026 09:00", "Maria Souza <maria.souza@pabx.example.com.br>", scenario["to-conecta"][:7], "",
         "numbers/11.yaml", "Número 1130010030", "destination", "extension:2001", "queue:600"],
        ["10/03/2026 09:00", "João Lima <joao.lima@pabx.example.com.br>", scenario["back"][:7], "",
         "numbers/11.yaml", "Número 1130010030", "owner", "conecta-telecom", "acme"],
        ["10/03/2026 09:00", "João Lima <joao.lima@pabx.example.com.br>", scenario["back"][:7], "",
         "numbers/11.yaml", "Número 1130010030", "destination", "queue:600", "extension:2001"],
    ]  # fmt: skip


def test_markdown_report(scenario: dict[str, str], runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "auditoria.md"
    result = runner.invoke(
        main, ["audit", "report", "--since", "2026-05-01", "--until", "2026-06-30", "--out", str(out),
               "--repo", scenario["path"]]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith(
        "# Relatório de auditoria: 01/05/2026 00:00 a 30/06/2026 23:59 (America/Sao_Paulo)"
    )
    assert "| " + " | ".join(HEADERS) + " |" in text
    assert "| Cliente acme-comercio | (renomeado) | acme | acme-comercio |" in text
    assert "| Número 1130010033 | (removido) |" in text


def test_report_refuses_other_files_and_reversed_periods(scenario: dict[str, str], tmp_path: Path) -> None:
    root = Path(scenario["path"])
    since = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    with pytest.raises(UserError, match="before --since"):
        audit_report(root, since, since - dt.timedelta(days=1))
    runner = CliRunner()
    result = runner.invoke(
        main, ["audit", "report", "--since", "2026-01-01", "--until", "2026-01-31", "--out",
               str(tmp_path / "x.xlsx"), "--repo", scenario["path"]]
    )  # fmt: skip
    assert result.exit_code == 2
    assert "write a .csv or a .md file" in result.output


def test_formula_like_cells_stay_text(tmp_path: Path) -> None:
    from pabx.audit.output import Row, to_csv

    text = to_csv([Row("d", "=cmd|' /C calc'!A0", "c", "", "f", "e", "phone", "-1", "+55 11 3000-1000")])
    row = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))[1]
    assert row[1].startswith("'=")
    assert row[7] == "-1"  # a number stays a number
    assert row[8] == "'+55 11 3000-1000"
