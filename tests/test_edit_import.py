"""`pabx import --from CSV`: the seed's list exports (Portuguese headers) become one reviewed change."""

from __future__ import annotations

from pathlib import Path

import git
import pytest
from click.testing import CliRunner

from pabx.edit.importer import Sheet, read_csv
from pabx.errors import UserError
from pabx.validate import validate_repository
from tests.edit_support import diff, git_demo, refused, run, snapshot

CLIENTES = (
    "#;ID;Cliente;Contato;Tipo pessoa;Documento;E-mail;Status;Permissão;Código de serviço;Plano;"
    "Data de vencimento;Telefone;Cidade;UF\n"
    "1;17;Padaria Pão Quente Ltda;João Lima;Jurídica;11.444.777/0001-61;ti@paoquente.com.br;Ativo;Cliente;;"
    "Básico;10/01/2027;(11) 3333-4444;São Paulo;SP\n"
    "2;1001;Oficina do Zé;José Santos;Física;529.982.247-25;ze@oficinadoze.com.br;Pendente;Cliente;;basico;;;;sp\n"
    "3;19;Loja Ruim;Fulano;Jurídica;11.222.333/0001-00;ruim@loja.com.br;Ativo;Cliente;;basico;;;;\n"
    "4;20;Sem Plano SA;Beltrano;Jurídica;11.222.333/0001-81;x@semplano.com.br;Ativo;Cliente;;ouro;;;;\n"
)
RAMAIS = (
    "#,Conta,Proprietário,Ramal,Nome,Terminal,Endereço,E-mail,Correio de voz\n"
    "1,Padaria Pão Quente Ltda,João Lima,2001,Caixa,pbx-old-01,10.0.0.5,,Não\n"
    "2,Padaria Pão Quente Ltda,João Lima,2002,Gerência,pbx-old-01,10.0.0.6,gerencia@paoquente.com.br,Sim\n"
    "3,Padaria Pão Quente Ltda,João Lima,2002,Duplicado,,,,\n"
    "4,Oficina do Zé,José,2001,Zé,,,,\n"
    "5,Inexistente,X,2001,Y,,,,\n"
    "6,acme,Maria,2011,Sem e-mail válido,,,not-an-email,\n"
)
NUMEROS = (
    "#,DDD,Número,Rota,Proprietário,Tarifação reversa,Destino\n"
    "1,11,3001-0050,SP Principal,Padaria Pão Quente Ltda,Não,ramal:2002\n"
    "2,11,30010051,SP Principal,Oficina do Zé,Sim,\n"
    "3,11,30010052,sp-principal,Disponível,Não,\n"
    "4,11,30010000,sp-principal,,Não,\n"
    "5,11,30010054,Rota X,,Não,\n"
    "6,11,30010055,sp-principal,ACM-0001,Não,fila:600\n"
)


@pytest.fixture
def repo(demo_repo: Path) -> git.Repo:
    return git_demo(demo_repo)


@pytest.fixture
def exports(tmp_path: Path) -> list[str]:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "clientes.csv").write_bytes(b"\xef\xbb\xbf" + CLIENTES.encode("utf-8"))  # Excel's UTF-8 BOM
    (folder / "ramais.csv").write_bytes(RAMAIS.encode("cp1252"))  # an older export in Windows-1252
    (folder / "numeros.csv").write_text(NUMEROS, encoding="utf-8")
    args = []
    for name in ("numeros.csv", "ramais.csv", "clientes.csv"):  # any order: tenants go first
        args += ["--from", str(folder / name)]
    return args


def _root(repo: git.Repo) -> Path:
    return Path(repo.working_tree_dir or ".")


def test_dry_run_reports_what_it_would_create_and_rejects_with_reasons(
    runner: CliRunner, repo: git.Repo, exports: list[str]
) -> None:
    before = snapshot(_root(repo))
    result = run(runner, _root(repo), "import", *exports, "--manager", "jucastro", "--dry-run")
    assert result.exit_code == 0, result.output
    assert snapshot(_root(repo)) == before
    out = result.output
    assert "import: 2 cliente(s), 3 ramal(is), 4 número(s) to create; 7 row(s) rejected" in out
    assert "+ Cliente padaria-pao-quente (ID 17, PDR-0017, basico," in out
    assert "+ Cliente oficina-do-ze (ID 1009, OFC-0009, basico," in out
    assert "note: clientes.csv:3: ID 1001 is already used: oficina-do-ze gets a new one" in out
    for rejection in (
        "clientes.csv:4: Cliente Loja Ruim: document 11.222.333/0001-00 is not a valid CPF or CNPJ",
        "clientes.csv:5: Cliente Sem Plano SA: plan 'ouro' does not exist",
        "ramais.csv:4: Ramal Padaria Pão Quente Ltda/2002: padaria-pao-quente already uses 2002",
        "ramais.csv:6: Ramal Inexistente/2001: no tenant 'Inexistente'",
        "ramais.csv:7: Ramal acme/2011: email: 'not-an-email' is not a valid e-mail address",
        "numeros.csv:5: Número 1130010000: already in numbers/",
        "numeros.csv:6: Número 1130010054: route 'Rota X' does not exist",
    ):
        assert f"rejected: {rejection}" in out
    assert "+++ b/tenants/padaria-pao-quente.yaml" in out
    assert "dry run: 5 file(s) would change; nothing was written" in out


def test_import_writes_one_valid_change(runner: CliRunner, repo: git.Repo, exports: list[str]) -> None:
    result = run(runner, _root(repo), "import", *exports, "--manager", "jucastro")
    assert result.exit_code == 0, result.output
    changed = diff(repo)
    assert changed.files == [
        ".github/CODEOWNERS",
        "inventory/users.yaml",
        "numbers/11.yaml",
        "tenants/oficina-do-ze.yaml",
        "tenants/padaria-pao-quente.yaml",
    ]
    padaria = (_root(repo) / "tenants/padaria-pao-quente.yaml").read_text(encoding="utf-8")
    assert "id: 17\n" in padaria and "status: ativo\n" in padaria and 'caller_id: "1130010050"\n' in padaria
    assert "extensions:\n  - {number: 2001, name: Caixa}\n" in padaria
    assert "state: SP\n" in (_root(repo) / "tenants/oficina-do-ze.yaml").read_text(encoding="utf-8")
    numbers = [line for line in changed.added if line.startswith("- {number:")]
    assert numbers == [
        '- {number: "1130010050", route: sp-principal, owner: padaria-pao-quente, reverse_billing: false, destination: "extension:2002"}',
        '- {number: "1130010051", route: sp-principal, owner: oficina-do-ze, reverse_billing: true, destination: "extension:2001"}',
        '- {number: "1130010052", route: sp-principal, owner: null, reverse_billing: false}',
        '- {number: "1130010055", route: sp-principal, owner: acme, reverse_billing: false, destination: "queue:600"}',
    ]
    assert not [line for line in changed.removed if line.startswith("- {number:")]
    _, report = validate_repository(_root(repo), use_cache=False)
    assert report.ok and not report.warnings, report.render("text")


def test_tenants_without_a_manager_are_rejected(
    runner: CliRunner, repo: git.Repo, exports: list[str]
) -> None:
    result = run(runner, _root(repo), "import", *exports, "--dry-run")
    assert "import: 0 cliente(s)" in result.output
    assert (
        "rejected: clientes.csv:2: Cliente Padaria Pão Quente Ltda: every tenant needs a manager"
        in result.output
    )


def test_an_import_whose_result_is_invalid_writes_nothing(
    runner: CliRunner, repo: git.Repo, tmp_path: Path
) -> None:
    ramais = tmp_path / "ramais.csv"  # each row is fine alone; the caller ID belongs to another tenant
    ramais.write_text(
        "Conta,Ramal,Nome,Bina\nacme,2010,Vendas,1130010010\nacme,2011,SAC,\n", encoding="utf-8"
    )
    result = refused(runner, _root(repo), "import", "--from", str(ramais))
    assert "import: 0 cliente(s), 2 ramal(is), 0 número(s) to create; 0 row(s) rejected" in result.output
    assert "1130010010 belongs to ana-ferreira" in result.output and "[caller-id-owned]" in result.output
    assert "nothing was written" in result.output


def test_an_auditor_cannot_manage_imported_tenants(
    runner: CliRunner, repo: git.Repo, exports: list[str]
) -> None:
    result = run(runner, _root(repo), "import", *exports, "--manager", "claudia-menezes", "--dry-run")
    assert (
        "Padaria Pão Quente Ltda: @claudia-menezes is an auditor: auditors approve nothing" in result.output
    )


def test_headers_decide_the_sheet_and_unknown_columns_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Ramal;Conta;Nome\n2001;acme;A\n", encoding="utf-8")
    sheet, rows = read_csv(path)
    assert sheet is Sheet.EXTENSIONS and rows[0].values == {"number": "2001", "tenant": "acme", "name": "A"}
    path.write_text("Número,Rota,Cor\n1130010000,sp,azul\n", encoding="utf-8")
    with pytest.raises(UserError, match="unknown column"):
        read_csv(path)
    path.write_text("Foo,Bar\n1,2\n", encoding="utf-8")
    with pytest.raises(UserError, match="cannot tell which export"):
        read_csv(path)


def test_missing_file_is_a_user_error(runner: CliRunner, repo: git.Repo, tmp_path: Path) -> None:
    assert (
        "no such file" in refused(runner, _root(repo), "import", "--from", str(tmp_path / "nope.csv")).output
    )
