"""`pabx number …` and `pabx route …`: DIDs kept sorted per DDD, routes refused while in use."""

from __future__ import annotations

from pathlib import Path

import git
import pytest
from click.testing import CliRunner

from pabx.edit.numbers import parse_numbers
from pabx.errors import UserError
from tests.edit_support import diff, git_demo, refused, run


@pytest.fixture
def repo(demo_repo: Path) -> git.Repo:
    return git_demo(demo_repo)


def _root(repo: git.Repo) -> Path:
    return Path(repo.working_tree_dir or ".")


def test_add_a_range_in_sorted_places(runner: CliRunner, repo: git.Repo) -> None:
    root = _root(repo)
    assert run(runner, root, "number", "add", "1130010025", "--route", "sp-principal").exit_code == 0
    result = run(
        runner, root, "number", "add", "1130010034-1130010035", "--route", "sp-principal", "--reverse-billing"
    )
    assert result.exit_code == 0, result.output
    lines = (root / "numbers/11.yaml").read_text().splitlines()
    numbers = [line.split('"')[1] for line in lines if line.startswith("- {number:")]
    assert numbers == sorted(numbers)
    changed = diff(repo)
    assert changed.removed == []
    assert changed.added == [
        '- {number: "1130010025", route: sp-principal, owner: null, reverse_billing: false}',
        '- {number: "1130010034", route: sp-principal, owner: null, reverse_billing: true}',
        '- {number: "1130010035", route: sp-principal, owner: null, reverse_billing: true}',
    ]
    # the heading comment stays above the first available number it introduced
    assert lines[lines.index("# Disponível: no owner, no destination") + 1].startswith(
        '- {number: "1130010030"'
    )


def test_add_to_a_new_ddd_creates_its_file(runner: CliRunner, repo: git.Repo) -> None:
    result = run(runner, _root(repo), "number", "add", "4130001000-4130001001", "--route", "sp-principal")
    assert result.exit_code == 0, result.output
    assert (_root(repo) / "numbers/41.yaml").read_text() == (
        "# yaml-language-server: $schema=../schemas/numbers.schema.json\n"
        "# DDD 41 - Curitiba (Região Metropolitana) / Paranaguá (PR)\n"
        '- {number: "4130001000", route: sp-principal, owner: null, reverse_billing: false}\n'
        '- {number: "4130001001", route: sp-principal, owner: null, reverse_billing: false}\n'
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1130010000", "--route", "sp-principal"], "already in numbers/: 1130010000"),
        (["1130010090", "--route", "nowhere"], "route 'nowhere' does not exist"),
        (["2330010000", "--route", "sp-principal"], "DDD 23 does not exist"),
        (["1130010099-1130010090", "--route", "sp-principal"], "ends before it starts"),
        (["1130000000-1130099999", "--route", "sp-principal"], "at most 10000"),
        (["113001", "--route", "sp-principal"], "is not DDD + number"),
    ],
)
def test_add_refusals(runner: CliRunner, repo: git.Repo, args: list[str], message: str) -> None:
    assert message in refused(runner, _root(repo), "number", "add", *args).output


def test_parse_numbers() -> None:
    assert parse_numbers("(11) 3001.0000") == ["1130010000"]
    assert parse_numbers("11987650000-11987650002") == ["11987650000", "11987650001", "11987650002"]
    with pytest.raises(UserError):
        parse_numbers("1130010000-2130010000")


def test_assign_writes_the_file_form_of_the_destination(runner: CliRunner, repo: git.Repo) -> None:
    result = run(runner, _root(repo), "number", "assign", "1130010030", "acme", "--to", "ext:2001")
    assert result.exit_code == 0, result.output
    changed = diff(repo)
    assert changed.removed == [
        '- {number: "1130010030", route: sp-principal, owner: null, reverse_billing: false}'
    ]
    assert changed.added == [
        '- {number: "1130010030", route: sp-principal, owner: acme, reverse_billing: false, destination: "extension:2001"}'
    ]


def test_assign_changes_the_destination_of_an_owned_number(runner: CliRunner, repo: git.Repo) -> None:
    assert (
        run(runner, _root(repo), "number", "assign", "1130010003", "acme", "--to", "ivr:500").exit_code == 0
    )
    assert diff(repo).added == [
        '- {number: "1130010003", route: sp-principal, owner: acme, reverse_billing: true, destination: "ivr:500"}'
        "   # SAC accepts collect calls"
    ]


def test_assign_refusals(runner: CliRunner, repo: git.Repo) -> None:
    root = _root(repo)
    assert (
        "belongs to ana-ferreira"
        in refused(runner, root, "number", "assign", "1130010010", "acme", "--to", "ext:2001").output
    )
    assert (
        "ricardo-almeida is removido"
        in refused(
            runner, root, "number", "assign", "1130010030", "ricardo-almeida", "--to", "ext:2001"
        ).output
    )
    result = refused(runner, root, "number", "assign", "1130010030", "acme", "--to", "queue:999")
    assert "[ref-destination]" in result.output
    assert (
        "not in numbers/"
        in refused(runner, root, "number", "assign", "1130019999", "acme", "--to", "ext:2001").output
    )


def test_release_and_remove(runner: CliRunner, repo: git.Repo) -> None:
    root = _root(repo)
    assert run(runner, root, "number", "release", "2130020001").exit_code == 0
    assert diff(repo).added == [
        '- {number: "2130020001", route: rj-principal, owner: null, reverse_billing: false}'
    ]
    assert "owned by acme" in refused(runner, root, "number", "remove", "1130010001").output
    assert run(runner, root, "number", "remove", "1130010040").exit_code == 0
    assert diff(repo).removed[0] == (
        '- {number: "1130010040", route: sp-principal, owner: null, reverse_billing: false}   # released by ricardo-almeida'
    )


def test_release_is_refused_while_it_is_a_caller_id(runner: CliRunner, repo: git.Repo) -> None:
    result = refused(runner, _root(repo), "number", "release", "1130010003")
    assert "acme ramal 2006" in result.output and "acme ramal 2007" in result.output
    assert "already Disponível" in refused(runner, _root(repo), "number", "release", "1130010030").output


def test_route_add_set_remove(runner: CliRunner, repo: git.Repo) -> None:
    root = _root(repo)
    result = run(
        runner,
        root,
        "route",
        "add",
        "MG Principal",
        "--default-trunk",
        "claro-rj",
        "--trunk",
        "ldn_fixo=embratel",
        "--trunk",
        "ldi=-",
    )
    assert result.exit_code == 0, result.output
    assert (root / "routes/mg-principal.yaml").read_text() == (
        "# yaml-language-server: $schema=../schemas/route.schema.json\n"
        "name: MG Principal\n"
        "trunks:\n"
        "  local_fixo: claro-rj\n"
        "  local_movel: claro-rj\n"
        "  ldn_fixo: embratel\n"
        "  ldn_movel: claro-rj\n"
        '  "0300": claro-rj\n'
        '  "0800": claro-rj\n'
        "  servicos: claro-rj\n"
        "  ldi: null\n"
    )
    repo.git.add(A=True)
    repo.index.commit("route")
    assert (
        run(
            runner, root, "route", "set", "mg-principal", "--trunk", "ldi=embratel", "--trunk", "0300=-"
        ).exit_code
        == 0
    )
    changed = diff(repo)
    assert changed.removed == ['  "0300": claro-rj', "  ldi: null"]
    assert changed.added == ['  "0300": null', "  ldi: embratel"]
    assert run(runner, root, "route", "remove", "mg-principal").exit_code == 0
    assert not (root / "routes/mg-principal.yaml").exists()


def test_route_refusals(runner: CliRunner, repo: git.Repo) -> None:
    root = _root(repo)
    result = refused(runner, root, "route", "remove", "rj-principal")
    assert "used by 14 number(s): 2130020000" in result.output
    assert (
        "servicos needs a trunk"
        in refused(runner, root, "route", "set", "sp-principal", "--trunk", "servicos=-").output
    )
    assert (
        "trunk nope does not exist"
        in refused(runner, root, "route", "add", "X", "--default-trunk", "nope").output
    )
    assert "no trunk for" in refused(runner, root, "route", "add", "X", "--trunk", "ldi=embratel").output


BLOCK_STYLE = (
    "# yaml-language-server: $schema=../schemas/numbers.schema.json\n"
    "# written by hand, in block style\n"
    '- number: "4130010030"\n'
    "  route: sp-principal\n"
    "  owner: null\n"
    "\n"
    '- number: "4130010031"  # spare\n'
    "  route: sp-principal\n"
)


def test_a_block_style_numbers_file_is_edited_in_its_style(runner: CliRunner, demo_repo: Path) -> None:
    (demo_repo / "numbers/41.yaml").write_text(BLOCK_STYLE, encoding="utf-8")
    repo = git_demo(demo_repo)
    root = _root(repo)
    assert run(runner, root, "number", "add", "4130010020", "--route", "sp-principal").exit_code == 0
    assert run(runner, root, "number", "remove", "4130010031").exit_code == 0
    assert (root / "numbers/41.yaml").read_text(encoding="utf-8") == (
        "# yaml-language-server: $schema=../schemas/numbers.schema.json\n"
        "# written by hand, in block style\n"
        '- number: "4130010020"\n'
        "  route: sp-principal\n"
        "  owner: null\n"
        "  reverse_billing: false\n"
        '- number: "4130010030"\n'
        "  route: sp-principal\n"
        "  owner: null\n"
        "\n"
    )


def test_line_entries_edit_only_their_lines() -> None:
    from pabx.edit.entries import LineEntries
    from pabx.edit.yamlrt import flow_map, quoted

    text = (
        "# header\n"
        '- {number: "1130000001", route: a}   # first\n'
        "# heading of the next\n"
        '- {number: "1130000003", route: a}\n'
        '- {number: "1130000004", route: a}'  # no final newline
    )
    assert LineEntries.fits(text)
    assert not LineEntries.fits("- number: 1\n")
    entries = LineEntries(text, "numbers/11.yaml")
    assert [entries.key(i) for i in range(len(entries))] == ["1130000001", "1130000003", "1130000004"]
    assert entries.dump() == text  # untouched: byte for byte
    entries.insert(1, flow_map([("number", quoted("1130000002")), ("route", "b")]))
    entries.insert(0, flow_map([("number", quoted("1130000000")), ("route", "b")]))
    entries.insert(len(entries), flow_map([("number", quoted("1130000005")), ("route", "b")]))
    entries.entry(entries.find("1130000001") or 0)["route"] = "z"
    entries.delete(entries.find("1130000004") or 0)
    assert entries.dump() == (
        "# header\n"
        '- {number: "1130000000", route: b}\n'
        '- {number: "1130000001", route: z}   # first\n'
        '- {number: "1130000002", route: b}\n'
        "# heading of the next\n"
        '- {number: "1130000003", route: a}\n'
        '- {number: "1130000005", route: b}\n'
    )
