"""`pabx tenant add|set|remove|reset-access` on the demo data: the diff holds only the intended lines."""

from __future__ import annotations

from pathlib import Path

import git
import pytest
from click.testing import CliRunner

from pabx.edit.tenants import service_code_for
from pabx.render.secrets import Secrets
from pabx.validate import validate_repository
from tests.edit_support import diff, git_demo, refused, run

PADARIA = [
    "tenant",
    "add",
    "--name",
    "Padaria Pão Quente Ltda",
    "--contact",
    "João Lima",
    "--document",
    "11444777000161",
    "--email",
    "ti@paoquente.com.br",
    "--plan",
    "basico",
    "--due-date",
    "10/01/2027",
    "--server",
    "pbx-sp-01",
    "--phone",
    "+55 11 3333-4444",
    "--manager",
    "jucastro",
]


@pytest.fixture
def repo(demo_repo: Path) -> git.Repo:
    return git_demo(demo_repo)


def _root(repo: git.Repo) -> Path:
    return Path(repo.working_tree_dir or ".")


def test_add_writes_a_complete_tenant_file_and_grants_its_manager(runner: CliRunner, repo: git.Repo) -> None:
    result = run(runner, _root(repo), *PADARIA)
    assert result.exit_code == 0, result.output
    assert "ID 1009" in result.output and "PDR-0009" in result.output
    text = (_root(repo) / "tenants/padaria-pao-quente.yaml").read_text(encoding="utf-8")
    assert text == (
        "# yaml-language-server: $schema=../schemas/tenant.schema.json\n"
        "id: 1009\n"
        "name: Padaria Pão Quente Ltda\n"
        "contact: João Lima\n"
        "person_type: juridica\n"
        "document: 11.444.777/0001-61\n"
        "email: ti@paoquente.com.br\n"
        "status: pendente\n"
        "permission: cliente\n"
        "service_code: PDR-0009\n"
        "plan: basico\n"
        "due_date: 2027-01-10\n"
        "server: pbx-sp-01\n"
        "contact_details:\n"
        '  phone: "+55 11 3333-4444"\n'
    )
    changed = diff(repo)
    assert changed.files == [".github/CODEOWNERS", "inventory/users.yaml", "tenants/padaria-pao-quente.yaml"]
    assert changed.removed == [
        "    tenants: [acme, ana-ferreira, conecta-telecom, studio-luz, ricardo-almeida]"
    ]
    assert changed.added == [
        "/tenants/padaria-pao-quente.yaml     @jucastro",
        "    tenants: [acme, ana-ferreira, conecta-telecom, studio-luz, ricardo-almeida, padaria-pao-quente]",
        *text.splitlines(),
    ]
    _, report = validate_repository(_root(repo), use_cache=False)
    assert report.ok and not report.warnings, report.render("text")


def test_add_never_reuses_an_id_deleted_in_git_history(runner: CliRunner, repo: git.Repo) -> None:
    root = _root(repo)
    old = root / "tenants/antigo.yaml"
    old.write_text((root / "tenants/ricardo-almeida.yaml").read_text().replace("id: 1008", "id: 1050"))
    repo.git.add("tenants/antigo.yaml")
    repo.index.commit("a tenant with a high ID")
    repo.git.rm("tenants/antigo.yaml")
    repo.index.commit("deleted by hand (it should have been removido)")
    result = run(runner, root, *PADARIA)
    assert result.exit_code == 0, result.output
    assert "id: 1051\n" in (root / "tenants/padaria-pao-quente.yaml").read_text()


def test_add_refuses_an_id_already_used_and_a_missing_field(runner: CliRunner, repo: git.Repo) -> None:
    root = _root(repo)
    result = refused(runner, root, *PADARIA, "--id", "1008")
    assert "ID 1008 was already used" in result.output
    result = refused(runner, root, "tenant", "add", "--name", "X Ltda", "--no-interactive")
    assert "missing --contact, --document, --email, --plan" in result.output


def test_add_needs_a_manager_when_there_are_users(runner: CliRunner, repo: git.Repo) -> None:
    args = PADARIA[: PADARIA.index("--manager")]
    assert "give --manager HANDLE" in refused(runner, _root(repo), *args).output
    assert "no user @ghost" in refused(runner, _root(repo), *args, "--manager", "ghost").output


def test_add_prompts_for_missing_fields_in_portuguese(runner: CliRunner, repo: git.Repo) -> None:
    answers = "Oficina do Zé\nJosé Santos\n529.982.247-25\nze@oficina.com.br\nbasico\nmtavares\n"
    result = run(runner, _root(repo), "tenant", "add", "--interactive", input=answers)
    assert result.exit_code == 0, result.output
    for label in ("Cliente:", "Contato:", "Documento (CNPJ ou CPF):", "E-mail:", "Plano:"):
        assert label in result.output
    text = (_root(repo) / "tenants/oficina-do-ze.yaml").read_text()
    assert "person_type: fisica\n" in text and "document: 529.982.247-25\n" in text


def test_add_refuses_an_invalid_document_with_the_rule(runner: CliRunner, repo: git.Repo) -> None:
    args = [*PADARIA]
    args[args.index("11444777000161")] = "11.444.777/0001-62"
    result = refused(runner, _root(repo), *args)
    assert "[document-check]" in result.output
    assert "nothing was written" in result.output


def test_set_changes_only_the_named_lines_and_keeps_comments(runner: CliRunner, repo: git.Repo) -> None:
    result = run(
        runner,
        _root(repo),
        "tenant",
        "set",
        "construtora-horizonte",
        "--status",
        "inativo",
        "--due-date",
        "2027-01-05",
        "--city",
        "Niterói",
    )
    assert result.exit_code == 0, result.output
    changed = diff(repo)
    assert changed.files == ["tenants/construtora-horizonte.yaml"]
    assert changed.removed == ["status: ativo", "due_date: 2026-11-05", "  city: Rio de Janeiro"]
    assert changed.added == ["status: inativo", "due_date: 2027-01-05", "  city: Niterói"]
    text = (_root(repo) / "tenants/construtora-horizonte.yaml").read_text()
    assert "document: 7H.K2P.9Q4/0001-34   # alphanumeric CNPJ (IN RFB 2.229/2024)\n" in text


def test_set_accepts_an_id_or_service_code_and_clears_optional_fields(
    runner: CliRunner, repo: git.Repo
) -> None:
    assert run(runner, _root(repo), "tenant", "set", "1004", "--clear", "zip").exit_code == 0
    assert run(runner, _root(repo), "tenant", "set", "srr-0004", "--plan", "empresarial").exit_code == 0
    changed = diff(repo)
    assert changed.removed == ["plan: basico", "  zip: 30130-007"]
    assert changed.added == ["plan: empresarial"]


def test_set_status_removido_is_refused_while_it_owns_numbers(runner: CliRunner, repo: git.Repo) -> None:
    result = refused(runner, _root(repo), "tenant", "set", "acme", "--status", "removido")
    assert "1130010000, 1130010001, 1130010002, 1130010003" in result.output


def test_remove_is_refused_while_it_owns_numbers_and_says_which(runner: CliRunner, repo: git.Repo) -> None:
    result = refused(runner, _root(repo), "tenant", "remove", "studio-luz")
    assert "studio-luz still owns 1 number(s): 1930040010" in result.output
    assert "--release-numbers" in result.output


def test_remove_with_release_numbers_is_one_change(runner: CliRunner, repo: git.Repo) -> None:
    result = run(runner, _root(repo), "tenant", "remove", "studio-luz", "--release-numbers")
    assert result.exit_code == 0, result.output
    changed = diff(repo)
    assert changed.files == ["numbers/19.yaml", "tenants/studio-luz.yaml"]
    assert changed.removed == [
        '- {number: "1930040010", route: sp-principal, owner: studio-luz, reverse_billing: false, destination: "extension:2001"}',
        "status: inativo",
        'caller_id: "1930040010"',
    ]
    assert changed.added == [
        '- {number: "1930040010", route: sp-principal, owner: null, reverse_billing: false}',
        "status: removido",
    ]
    _, report = validate_repository(_root(repo), use_cache=False)
    assert report.ok, report.render("text")


def test_remove_of_a_tenant_without_numbers(runner: CliRunner, repo: git.Repo) -> None:
    root = _root(repo)
    assert run(runner, root, *PADARIA).exit_code == 0
    repo.git.add(A=True)
    repo.index.commit("padaria")
    assert run(runner, root, "tenant", "remove", "padaria-pao-quente").exit_code == 0
    assert diff(repo).removed == ["status: pendente"]
    assert diff(repo).added == ["status: removido"]
    refused(runner, root, "tenant", "remove", "padaria-pao-quente")


def test_reset_access_bumps_the_rotation_and_never_prints_the_address(
    runner: CliRunner, repo: git.Repo
) -> None:
    result = run(runner, _root(repo), "tenant", "reset-access", "acme")
    assert result.exit_code == 0, result.output
    assert "mailed to ti@acmecomercio.com.br" in result.output
    secrets = Secrets.from_environment()
    for rotation in (0, 1):
        assert secrets.panel_token("acme", rotation) not in result.output
    assert "http" not in result.output
    changed = diff(repo)
    assert changed.removed == [] and changed.added == ["access_rotation: 1"]
    assert run(runner, _root(repo), "tenant", "reset-access", "acme").exit_code == 0
    assert diff(repo).added == ["access_rotation: 2"]


def test_dry_run_shows_the_diff_and_writes_nothing(runner: CliRunner, repo: git.Repo) -> None:
    result = run(runner, _root(repo), "tenant", "set", "acme", "--email", "novo@acme.com.br", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "-email: ti@acmecomercio.com.br" in result.output
    assert "+email: novo@acme.com.br" in result.output
    assert diff(repo).files == []


def test_unknown_tenant_is_a_user_error(runner: CliRunner, repo: git.Repo) -> None:
    result = refused(runner, _root(repo), "tenant", "set", "nobody", "--status", "ativo")
    assert "no tenant 'nobody'" in result.output


@pytest.mark.parametrize(
    ("name", "tenant_id", "code"),
    [
        ("Acme Comércio Ltda", 1001, "ACM-0001"),
        ("Conecta Soluções em Telefonia Ltda", 1003, "CNT-0003"),
        ("Padaria Pão Quente Ltda", 1012, "PDR-0012"),
        ("ÉÔ", 20000, "EOX-19000"),
    ],
)
def test_service_codes_come_from_the_name_and_id(name: str, tenant_id: int, code: str) -> None:
    assert service_code_for(name, tenant_id, set()) == code


def test_service_code_collision_gets_a_suffix() -> None:
    assert service_code_for("Acme", 1001, {"ACM-0001"}) == "ACM-0001-1"
