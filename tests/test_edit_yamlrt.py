"""Round-trip YAML: untouched files stay byte-identical, edited ones change only the edited lines."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
import yaml
from ruamel.yaml.comments import CommentedMap

from pabx.edit import yamlrt
from pabx.edit.workspace import Workspace
from pabx.errors import UserError
from tests.edit_support import ROOT

DATA_FILES = sorted(
    str(p.relative_to(ROOT))
    for folder in ("inventory", "tenants", "numbers", "routes", "plans")
    for p in (ROOT / folder).rglob("*")
    if p.suffix in (".yaml", ".yml")
)


@pytest.mark.parametrize("rel", DATA_FILES)
def test_every_data_file_round_trips_byte_for_byte(rel: str) -> None:
    text = (ROOT / rel).read_text(encoding="utf-8")
    style = yamlrt.detect_style(text)
    assert yamlrt.dump_text(yamlrt.load_text(text, rel, style), style, text) == text


def _changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_an_edit_changes_only_its_line_and_keeps_the_comment_column() -> None:
    text = (ROOT / "numbers/21.yaml").read_text(encoding="utf-8")
    style = yamlrt.detect_style(text)
    data = yamlrt.load_text(text, "numbers/21.yaml", style)
    data[2]["destination"] = yamlrt.text("ivr:500", data[2]["destination"])
    after = yamlrt.dump_text(data, style, text)
    assert _changed_lines(text, after) == [
        '-- {number: "2130020002", route: rj-principal, owner: construtora-horizonte, reverse_billing: true, '
        'destination: "queue:601"}   # customer service accepts collect calls',
        '+- {number: "2130020002", route: rj-principal, owner: construtora-horizonte, reverse_billing: true, '
        'destination: "ivr:500"}   # customer service accepts collect calls',
    ]


def test_detect_style() -> None:
    assert yamlrt.detect_style("- a\n- b\n") == yamlrt.Style(mapping=2, offset=0)
    assert yamlrt.detect_style("x:\n  y: 1\nl:\n  - 1\n") == yamlrt.Style(mapping=2, offset=2)
    assert yamlrt.detect_style("x:\n    y: 1\nl:\n- 1\n") == yamlrt.Style(mapping=4, offset=0)
    assert yamlrt.detect_style("# only a comment\n") == yamlrt.Style()


@pytest.mark.parametrize(
    "value", ["yes", "No", "on", "0300", "2026-01-01", "1130010000", "null", "~", "1.5", "True"]
)
def test_values_yaml_11_would_misread_are_quoted(value: str) -> None:
    dumped = yamlrt.dump_text(CommentedMap([("k", yamlrt.text(value))]), yamlrt.Style(), None)
    assert yaml.safe_load(dumped) == {"k": value}, dumped


@pytest.mark.parametrize("value", ["acme", "Vendas - Ana", "São Paulo", "ivr:500"])
def test_plain_text_stays_plain(value: str) -> None:
    assert (
        yamlrt.dump_text(CommentedMap([("k", yamlrt.text(value))]), yamlrt.Style(), None) == f"k: {value}\n"
    )


def test_quoting_follows_the_value_replaced() -> None:
    data = yamlrt.load_text("a: \"x\"\nb: 'y'\nc: z\n", "t.yaml")
    for key, new in (("a", "1"), ("b", "2"), ("c", "w")):
        data[key] = yamlrt.text(new, data[key])
    assert yamlrt.dump_text(data, yamlrt.Style(), None) == "a: \"1\"\nb: '2'\nc: w\n"


def test_null_keeps_the_spelling_of_the_file() -> None:
    text = "a:\nb: ~\nc: null\nd: 1\n"
    data = yamlrt.load_text(text, "t.yaml")
    data["d"] = 2
    assert yamlrt.dump_text(data, yamlrt.Style(), text) == "a:\nb: ~\nc: null\nd: 2\n"


def test_set_key_places_a_new_key_in_model_order() -> None:
    data = yamlrt.load_text("id: 1\nname: x\nplan: p\n", "t.yaml")
    yamlrt.set_key(data, "email", "e@x.com", ("id", "name", "email", "plan"))
    yamlrt.set_key(data, "zzz", 1, ("id", "name", "email", "plan"))
    assert list(data) == ["id", "name", "email", "plan", "zzz"]


def test_delete_item_moves_a_heading_to_the_next_entry() -> None:
    text = "- {n: 1}\n# heading\n- {n: 2}\n- {n: 3}\n"
    style = yamlrt.detect_style(text)
    data = yamlrt.load_text(text, "t.yaml", style)
    yamlrt.delete_item(data, 1)
    assert yamlrt.dump_text(data, style, text) == "- {n: 1}\n# heading\n- {n: 3}\n"


def test_a_broken_file_is_a_user_error_with_its_position() -> None:
    with pytest.raises(UserError) as caught:
        yamlrt.load_text("a: [1, 2\nb: 3\n", "tenants/x.yaml")
    assert caught.value.problems[0].path == "tenants/x.yaml"
    assert caught.value.problems[0].rule == "yaml-syntax"


def test_spacing_is_only_restored_when_the_data_stays_the_same() -> None:
    original = 'k: "a  b"\n'
    written = 'k: "a b"\n'
    assert yamlrt._keep_original_spacing(original, written) == written  # content differs: not "restored"


def test_a_workspace_with_no_edit_changes_nothing(demo_repo: Path) -> None:
    ws = Workspace(demo_repo)
    for rel in DATA_FILES:
        if rel.endswith(".yaml") and (demo_repo / rel).is_file():
            ws.open(rel)
    assert ws.changes() == {}
    outcome = ws.commit()
    assert not outcome.written and outcome.summary == ["nothing to change"]
