"""Users and profiles: inventory/users.yaml rules, `pabx user …` edits and the generated CODEOWNERS."""

from __future__ import annotations

from pathlib import Path

import git
import pytest
from click.testing import CliRunner

from pabx.cli import main
from pabx.edit.codeowners import render_codeowners
from pabx.model.user import Users
from pabx.validate import validate_repository
from tests.edit_support import ROOT, diff, git_demo, refused, run


@pytest.fixture
def repo(demo_repo: Path) -> git.Repo:
    return git_demo(demo_repo)


def _root(repo: git.Repo) -> Path:
    return Path(repo.working_tree_dir or ".")


def _rules(root: Path) -> list[str]:
    _, report = validate_repository(root, use_cache=False)
    return [p.format_text() for p in report.sorted()]


def _edit_users(root: Path, old: str, new: str) -> None:
    path = root / "inventory/users.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_demo_users_validate_and_the_committed_codeowners_is_fresh(runner: CliRunner) -> None:
    assert _rules(ROOT) == []
    result = runner.invoke(main, ["codeowners", "--check", "--repo", str(ROOT)])
    assert result.exit_code == 0, result.output


def test_every_live_tenant_needs_a_manager(demo_repo: Path) -> None:
    _edit_users(
        demo_repo,
        "tenants: [construtora-horizonte, clinica-sorriso, mercadinho-bom-preco]",
        "tenants: [construtora-horizonte]",
    )
    found = _rules(demo_repo)
    assert [p for p in found if "[tenant-manager]" in p] == [
        "tenants/clinica-sorriso.yaml:1:1: no user manages clinica-sorriso: add it to a user's tenants in "
        "inventory/users.yaml (pabx user grant HANDLE clinica-sorriso), or its changes have no reviewer [tenant-manager]",
        "tenants/mercadinho-bom-preco.yaml:1:1: no user manages mercadinho-bom-preco: add it to a user's tenants in "
        "inventory/users.yaml (pabx user grant HANDLE mercadinho-bom-preco), or its changes have no reviewer [tenant-manager]",
    ]


def test_a_removido_tenant_needs_no_manager_and_an_auditor_manages_nothing(demo_repo: Path) -> None:
    _edit_users(demo_repo, "studio-luz, ricardo-almeida]", "studio-luz]")
    assert _rules(demo_repo) == []
    _edit_users(demo_repo, "    role: auditor\n", "    role: auditor\n    tenants: [acme]\n")
    assert _rules(demo_repo) == [
        "inventory/users.yaml:45:14: users[name=Cláudia Menezes].tenants: an auditor reads the history and "
        "approves nothing: remove its tenants [user-tenant]"
    ]


@pytest.mark.parametrize(
    ("old", "new", "rule", "message"),
    [
        (
            "github: rbatista",
            "github: Fernanda-Okada",
            "user-unique",
            "@Fernanda-Okada is already the handle of Fernanda Okada",
        ),
        (
            "email: rodrigo.batista@",
            "email: fernanda.okada@",
            "user-unique",
            "is already the e-mail of Fernanda Okada",
        ),
        (
            "tenants: [conecta-telecom]",
            "tenants: [conecta-telecom, nada]",
            "user-tenant",
            "tenant 'nada' does not exist",
        ),
        (
            "tenants: [conecta-telecom]",
            "tenants: [conecta-telecom, conecta-telecom]",
            "user-tenant",
            "conecta-telecom is listed twice",
        ),
        (
            "github: thiagoribeiro\n    role: tenant_admin\n    tenants: [conecta-telecom]",
            "github: thiagoribeiro\n    role: tenant_admin",
            "user-tenant",
            "a tenant_admin manages its own tenant",
        ),
        ("role: admin", "role: auditor", "user-admin", "no user has role admin"),
        ("github: rbatista", "github: -bad-", "schema", "is not a GitHub handle"),
        ("role: auditor", "role: superuser", "schema", "Input should be"),
    ],
)
def test_user_rules(demo_repo: Path, old: str, new: str, rule: str, message: str) -> None:
    path = demo_repo / "inventory/users.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    found = [p for p in _rules(demo_repo) if f"[{rule}]" in p]
    assert found and any(message in p for p in found), _rules(demo_repo)
    assert all(p.startswith("inventory/users.yaml:") for p in found)


def test_codeowners_lists_admins_for_platform_files_and_managers_for_each_tenant() -> None:
    users = Users.model_validate(
        {
            "users": [
                {"name": "A", "email": "a@x.com.br", "github": "ana", "role": "admin"},
                {
                    "name": "B",
                    "email": "b@x.com.br",
                    "github": "bia",
                    "role": "account_manager",
                    "tenants": ["beta", "acme"],
                },
                {
                    "name": "C",
                    "email": "c@x.com.br",
                    "github": "@caio",
                    "role": "tenant_admin",
                    "tenants": ["acme"],
                },
                {"name": "D", "email": "d@x.com.br", "github": "dani", "role": "auditor"},
            ]
        }
    )
    text = render_codeowners(users)
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines == [
        "*                   @ana",
        "/inventory/         @ana",
        "/numbers/           @ana",
        "/plans/             @ana",
        "/routes/            @ana",
        "/tenants/           @ana",
        "/.github/           @ana",
        "/tenants/acme.yaml  @bia @caio",
        "/tenants/beta.yaml  @bia",
    ]
    assert "@dani" not in text


def test_codeowners_check_fails_when_stale_and_the_command_fixes_it(
    runner: CliRunner, repo: git.Repo
) -> None:
    root = _root(repo)
    _edit_users(root, "tenants: [conecta-telecom]", "tenants: [conecta-telecom, acme]")
    result = runner.invoke(main, ["codeowners", "--check", "--repo", str(root)])
    assert result.exit_code == 1
    assert ".github/CODEOWNERS is stale" in result.output
    assert runner.invoke(main, ["codeowners", "--repo", str(root)]).exit_code == 0
    assert runner.invoke(main, ["codeowners", "--check", "--repo", str(root)]).exit_code == 0
    assert diff(repo).added == [
        "/tenants/acme.yaml                   @jucastro @maria-souza-acme @thiagoribeiro",
        "    tenants: [conecta-telecom, acme]",
    ]


def test_codeowners_without_users_file_is_a_user_error(runner: CliRunner, demo_repo: Path) -> None:
    (demo_repo / "inventory/users.yaml").unlink()
    result = runner.invoke(main, ["codeowners", "--check", "--repo", str(demo_repo)])
    assert result.exit_code == 2 and "inventory/users.yaml does not exist" in result.output
    assert "Traceback" not in result.output


def test_user_add_grant_revoke_carry_codeowners_in_the_same_change(runner: CliRunner, repo: git.Repo) -> None:
    root = _root(repo)
    result = run(
        runner,
        root,
        "user",
        "add",
        "anapaula-acme",
        "--name",
        "Ana Paula Lima",
        "--email",
        "ana.lima@acmecomercio.com.br",
        "--role",
        "tenant_admin",
        "--tenant",
        "acme",
    )
    assert result.exit_code == 0, result.output
    changed = diff(repo)
    assert changed.files == [".github/CODEOWNERS", "inventory/users.yaml"]
    assert changed.removed == ["/tenants/acme.yaml                   @jucastro @maria-souza-acme"]
    assert changed.added == [
        "/tenants/acme.yaml                   @jucastro @maria-souza-acme @anapaula-acme",
        "  - name: Ana Paula Lima",
        "    email: ana.lima@acmecomercio.com.br",
        "    github: anapaula-acme",
        "    role: tenant_admin",
        "    tenants: [acme]",
    ]
    repo.git.add(A=True)
    repo.index.commit("user")
    assert run(runner, root, "user", "grant", "mtavares", "studio-luz").exit_code == 0
    assert run(runner, root, "user", "revoke", "jucastro", "studio-luz").exit_code == 0
    changed = diff(repo)
    assert changed.removed == [
        "/tenants/studio-luz.yaml             @jucastro",
        "    tenants: [acme, ana-ferreira, conecta-telecom, studio-luz, ricardo-almeida]",
        "    tenants: [construtora-horizonte, clinica-sorriso, mercadinho-bom-preco]",
    ]
    assert changed.added == [
        "/tenants/studio-luz.yaml             @mtavares",
        "    tenants: [acme, ana-ferreira, conecta-telecom, ricardo-almeida]",
        "    tenants: [construtora-horizonte, clinica-sorriso, mercadinho-bom-preco, studio-luz]",
    ]
    assert runner.invoke(main, ["codeowners", "--check", "--repo", str(root)]).exit_code == 0


def test_user_refusals(runner: CliRunner, repo: git.Repo) -> None:
    root = _root(repo)
    result = refused(runner, root, "user", "revoke", "jucastro", "ana-ferreira")
    assert "no user manages ana-ferreira" in result.output and "[tenant-manager]" in result.output
    assert (
        "already in inventory/users.yaml"
        in refused(
            runner, root, "user", "add", "RBatista", "--name", "R", "--email", "r@x.com.br", "--role", "admin"
        ).output
    )
    assert (
        "auditors approve nothing" in refused(runner, root, "user", "grant", "claudia-menezes", "acme").output
    )
    assert "no tenant 'nada'" in refused(runner, root, "user", "grant", "jucastro", "nada").output
    assert "no user @ghost" in refused(runner, root, "user", "grant", "ghost", "acme").output
    assert "does not manage acme" in refused(runner, root, "user", "revoke", "mtavares", "acme").output
    assert "[user-admin]" not in refused(runner, root, "user", "remove", "jucastro").output


def test_user_remove_keeps_the_headings_of_the_others(runner: CliRunner, repo: git.Repo) -> None:
    assert run(runner, _root(repo), "user", "remove", "rbatista").exit_code == 0
    changed = diff(repo)
    assert changed.removed == [
        "*                                    @fernanda-okada @rbatista",
        "/inventory/                          @fernanda-okada @rbatista",
        "/numbers/                            @fernanda-okada @rbatista",
        "/plans/                              @fernanda-okada @rbatista",
        "/routes/                             @fernanda-okada @rbatista",
        "/tenants/                            @fernanda-okada @rbatista",
        "/.github/                            @fernanda-okada @rbatista",
        "  - name: Rodrigo Batista",
        "    email: rodrigo.batista@pabx.example.com.br",
        "    github: rbatista",
        "    role: admin",
    ]
    text = (_root(repo) / "inventory/users.yaml").read_text(encoding="utf-8")
    assert "    role: admin\n\n  # Account managers" in text
