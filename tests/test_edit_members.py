"""`pabx extension|queue|ivr add|set|remove`: edits inside a tenant file, one entry line at a time."""

from __future__ import annotations

from pathlib import Path

import git
import pytest
from click.testing import CliRunner

from tests.edit_support import diff, git_demo, refused, run


@pytest.fixture
def repo(demo_repo: Path) -> git.Repo:
    return git_demo(demo_repo)


def _root(repo: git.Repo) -> Path:
    return Path(repo.working_tree_dir or ".")


def test_extension_add_appends_one_flow_line(runner: CliRunner, repo: git.Repo) -> None:
    result = run(
        runner,
        _root(repo),
        "extension",
        "add",
        "acme",
        "2010",
        "--name",
        "Vendas - Ana",
        "--email",
        "ana@acmecomercio.com.br",
        "--outbound",
        "local_fixo,0800",
        "--voicemail",
    )
    assert result.exit_code == 0, result.output
    changed = diff(repo)
    assert changed.files == ["tenants/acme.yaml"]
    assert changed.removed == []
    assert changed.added == [
        '  - {number: 2010, name: Vendas - Ana, email: ana@acmecomercio.com.br, outbound: [local_fixo, "0800"], voicemail: true}'
    ]


def test_extension_add_refuses_a_number_in_use(runner: CliRunner, repo: git.Repo) -> None:
    result = refused(runner, _root(repo), "extension", "add", "acme", "600", "--name", "X")
    assert "acme already uses 600 for a grupo" in result.output


def test_extension_add_refuses_a_service_number_through_validation(runner: CliRunner, repo: git.Repo) -> None:
    result = refused(runner, _root(repo), "extension", "add", "acme", "190", "--name", "Polícia?")
    assert "nothing was written" in result.output


def test_extension_set_rotates_the_password_and_changes_fields(runner: CliRunner, repo: git.Repo) -> None:
    result = run(
        runner,
        _root(repo),
        "extension",
        "set",
        "acme",
        "2002",
        "--rotate-password",
        "--caller-id",
        "1130010001",
        "--clear",
        "email",
    )
    assert result.exit_code == 0, result.output
    assert "sip_rotation 0 -> 1" in result.output
    changed = diff(repo)
    assert changed.removed == [
        "  - {number: 2002, name: Vendas - Carlos Lima, email: carlos.lima@acmecomercio.com.br, voicemail: true}"
    ]
    assert changed.added == [
        '  - {number: 2002, name: Vendas - Carlos Lima, caller_id: "1130010001", voicemail: true, sip_rotation: 1}'
    ]
    assert run(runner, _root(repo), "extension", "set", "acme", "2002", "--rotate-password").exit_code == 0
    assert "sip_rotation: 2}" in diff(repo).added[0]


def test_extension_remove_is_refused_while_a_queue_uses_it(runner: CliRunner, repo: git.Repo) -> None:
    result = refused(runner, _root(repo), "extension", "remove", "acme", "2005")
    assert "[ref-queue-member]" in result.output
    assert "tenants/acme.yaml:" in result.output


def test_extension_remove_deletes_one_line(runner: CliRunner, repo: git.Repo) -> None:
    assert run(runner, _root(repo), "extension", "remove", "acme", "2009").exit_code == 0
    changed = diff(repo)
    assert changed.removed == ["  - {number: 2009, name: Sala de reunião, outbound: [local_fixo, servicos]}"]
    assert changed.added == []


def test_queue_add_and_set(runner: CliRunner, repo: git.Repo) -> None:
    root = _root(repo)
    result = run(
        runner,
        root,
        "queue",
        "add",
        "acme",
        "602",
        "--name",
        "Suporte",
        "--member",
        "2004,2005",
        "--timeout",
        "40",
    )
    assert result.exit_code == 0, result.output
    assert diff(repo).added == ["  - {number: 602, name: Suporte, members: [2004, 2005], timeout: 40}"]
    repo.git.add(A=True)
    repo.index.commit("queue")
    result = run(
        runner,
        root,
        "queue",
        "set",
        "acme",
        "600",
        "--add-member",
        "2008",
        "--remove-member",
        "2005",
        "--strategy",
        "leastrecent",
        "--overflow",
        "fila:601",
    )
    assert result.exit_code == 0, result.output
    assert diff(repo).added == [
        '  - {number: 600, name: Vendas, strategy: leastrecent, members: [2002, 2004, 2008], timeout: 30, overflow: "queue:601"}'
    ]


def test_queue_remove_is_refused_while_an_ivr_uses_it(runner: CliRunner, repo: git.Repo) -> None:
    result = refused(runner, _root(repo), "queue", "remove", "acme", "600")
    assert "[ref-destination]" in result.output


def test_ivr_add_follows_the_key_order_of_the_file(runner: CliRunner, repo: git.Repo) -> None:
    result = run(
        runner,
        _root(repo),
        "ivr",
        "add",
        "acme",
        "501",
        "--name",
        "Noturno",
        "--greeting",
        "acme/noturno",
        "--option",
        "1=voicemail:2002",
        "--option",
        "*=ivr:500",
        "--timeout",
        "hangup",
    )
    assert result.exit_code == 0, result.output
    assert diff(repo).added == [
        "  - name: Noturno",
        "    number: 501",
        "    greeting: acme/noturno",
        '    options: {"1": "voicemail:2002", "*": "ivr:500"}',
        "    timeout: hangup",
    ]


def test_ivr_set_options(runner: CliRunner, repo: git.Repo) -> None:
    result = run(
        runner,
        _root(repo),
        "ivr",
        "set",
        "acme",
        "500",
        "--option",
        "4=ext:2009",
        "--option",
        "1=queue:601",
        "--remove-option",
        "3",
        "--wait",
        "7",
    )
    assert result.exit_code == 0, result.output
    changed = diff(repo)
    assert changed.removed == [
        '    options: {"1": "queue:600", "2": "queue:601", "3": "extension:2008", "0": "extension:2001"}',
        "    wait_s: 5",
    ]
    assert changed.added == [
        '    options: {"1": "queue:601", "2": "queue:601", "0": "extension:2001", "4": "extension:2009"}',
        "    wait_s: 7",
    ]


def test_ivr_remove_is_refused_while_a_number_uses_it(runner: CliRunner, repo: git.Repo) -> None:
    result = refused(runner, _root(repo), "ivr", "remove", "acme", "500")
    assert "numbers/11.yaml:" in result.output and "[ref-destination]" in result.output


def test_bad_destination_is_a_user_error(runner: CliRunner, repo: git.Repo) -> None:
    result = refused(runner, _root(repo), "ivr", "set", "acme", "500", "--option", "1=sala:1")
    assert "is not a destination" in result.output


def test_extensions_key_is_created_in_model_order(runner: CliRunner, repo: git.Repo) -> None:
    root = _root(repo)
    text = (root / "tenants/ricardo-almeida.yaml").read_text()
    bare = text.split("extensions:")[0]
    (root / "tenants/ricardo-almeida.yaml").write_text(bare)
    repo.git.add(A=True)
    repo.index.commit("no extensions")
    assert (
        run(runner, root, "extension", "add", "ricardo-almeida", "2001", "--name", "Ricardo").exit_code == 0
    )
    assert (root / "tenants/ricardo-almeida.yaml").read_text() == bare + (
        "extensions:\n  - {number: 2001, name: Ricardo}\n"
    )


def test_errors_already_there_are_counted_apart(runner: CliRunner, repo: git.Repo) -> None:
    path = _root(repo) / "tenants/studio-luz.yaml"
    path.write_text(
        path.read_text().replace("email: contato@studioluzfotografia.com.br\n", "email: nope\n", 1)
    )
    result = refused(runner, _root(repo), "extension", "add", "acme", "2010", "--name", "X")
    assert (
        "1 error(s) (1 of them were already there before this change); nothing was written" in result.output
    )
    assert "tenants/studio-luz.yaml:" in result.output
