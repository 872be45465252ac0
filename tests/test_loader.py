"""The positioned YAML loader: positions of every node, duplicate keys, syntax errors, field names."""

from __future__ import annotations

import datetime as dt
import pickle
from textwrap import dedent

import pytest

from pabx.loader.yamlpos import YamlSyntaxError, YList, YMap, field_label, locate, parse

TENANT = dedent(
    """\
    # yaml-language-server: $schema=../schemas/tenant.schema.json
    id: 1001
    name: Acme
    contact_details:
      phone: "+55 11 3000-1000"
    extensions:
      - number: 1001
        name: Recepção
      - number: 1002
        name: Vendas
        email: vendas@@acme
        outbound: [local_fixo, ldi]
    queues:
      - {number: 600, name: Fila, members: [1001, 1002]}
    ivrs:
      - name: Principal
        options: {1: "queue:600", "2": "extension:1001"}
      - greeting: oi
    """
)


def load(text: str, path: str = "tenants/acme.yaml") -> YMap:
    data, problems = parse(text, path)
    assert problems == []
    assert isinstance(data, YMap)
    return data


def test_mappings_and_lists_load_as_positioned_types() -> None:
    data = load(TENANT)
    assert isinstance(data["extensions"], YList)
    assert isinstance(data["extensions"][0], YMap)
    assert isinstance(data["queues"][0]["members"], YList)
    assert data["extensions"][1]["email"] == "vendas@@acme"


def test_key_and_value_positions_are_one_based() -> None:
    data = load(TENANT)
    assert data.pos == (2, 1)
    assert data.key_pos["id"] == (2, 1)
    assert data.val_pos["id"] == (2, 5)
    assert data.key_pos["contact_details"] == (4, 1)
    assert data["contact_details"].pos == (5, 3)
    assert data["contact_details"].val_pos["phone"] == (5, 10)


def test_list_items_have_their_own_positions() -> None:
    data = load(TENANT)
    extensions = data["extensions"]
    assert extensions.pos == (7, 3)
    assert extensions.item_pos == [(7, 5), (9, 5)]
    second = extensions[1]
    assert second.pos == (9, 5)
    assert second.key_pos["email"] == (11, 5)
    assert second.val_pos["email"] == (11, 12)
    assert second["outbound"].item_pos == [(12, 16), (12, 28)]


def test_flow_collections_are_positioned_too() -> None:
    queue = load(TENANT)["queues"][0]
    assert queue.pos == (14, 5)
    assert queue.val_pos["name"] == (14, 25)
    assert queue["members"].item_pos == [(14, 41), (14, 47)]


def test_positions_survive_pickling() -> None:
    """The parse cache pickles documents: positions must come back intact."""
    data = load(TENANT)
    again = pickle.loads(pickle.dumps(data))
    assert again == data
    assert again.val_pos == data.val_pos
    assert again["extensions"].item_pos == data["extensions"].item_pos
    assert again["extensions"][1].key_pos == data["extensions"][1].key_pos


def test_locate_values_keys_and_list_items() -> None:
    data = load(TENANT)
    assert locate(data, ["name"]) == (3, 7)
    assert locate(data, ["name"], key=True) == (3, 1)
    assert locate(data, ["extensions", 1, "email"]) == (11, 12)
    assert locate(data, ["extensions", 1, "email"], key=True) == (11, 5)
    assert locate(data, ["extensions", 1]) == (9, 5)
    assert locate(data, ["extensions", 1, "outbound", 1]) == (12, 28)
    assert locate(data, []) == (2, 1)


def test_locate_missing_key_points_at_the_mapping_that_lacks_it() -> None:
    data = load(TENANT)
    assert locate(data, ["plan"]) == data.pos
    assert locate(data, ["extensions", 0, "email"]) == (7, 5)
    assert locate(data, ["ivrs", 1, "name"]) == (18, 5)
    assert locate(data, ["contact_details", "address"]) == (5, 3)


def test_locate_out_of_range_index_points_at_the_list() -> None:
    data = load(TENANT)
    assert locate(data, ["extensions", 7, "name"]) == (7, 3)


def test_locate_matches_keys_yaml_read_as_numbers() -> None:
    """pydantic names dict keys as text; YAML read the unquoted `1` as an int."""
    data = load(TENANT)
    assert locate(data, ["ivrs", 0, "options", "1"]) == (17, 18)
    assert locate(data, ["ivrs", 0, "options", "1"], key=True) == (17, 15)
    assert locate(data, ["ivrs", 0, "options", "2"]) == (17, 36)


def test_field_label_names_list_items_by_number_or_name() -> None:
    data = load(TENANT)
    assert field_label(data, ["extensions", 1, "email"]) == "extensions[number=1002].email"
    assert field_label(data, ["queues", 0, "members", 1]) == "queues[number=600].members[1]"
    assert field_label(data, ["ivrs", 0, "options", "1"]) == "ivrs[name=Principal].options.1"
    assert field_label(data, ["contact_details", "phone"]) == "contact_details.phone"


def test_field_label_falls_back_to_the_index() -> None:
    data = load(TENANT)
    assert field_label(data, ["ivrs", 1, "greeting"]) == "ivrs[1].greeting"
    assert field_label(data, ["extensions", 9, "name"]) == "extensions[9].name"
    assert field_label(data, ["extensions", 1, "outbound", 1]) == "extensions[number=1002].outbound[1]"


def test_field_label_of_a_top_level_list() -> None:
    numbers, _ = parse('- {number: "1130001000", route: sp}\n- {route: sp}\n', "numbers/11.yaml")
    assert field_label(numbers, [0, "route"]) == "[number=1130001000].route"
    assert field_label(numbers, [1, "number"]) == "[1].number"


def test_duplicate_top_level_key_is_reported_with_the_first_line() -> None:
    data, problems = parse("id: 1\nname: A\nid: 2\n", "tenants/a.yaml")
    assert data == {"id": 1, "name": "A"}
    assert len(problems) == 1
    dup = problems[0]
    assert (dup.path, dup.line, dup.column) == ("tenants/a.yaml", 3, 1)
    assert (dup.field, dup.rule) == ("id", "duplicate-key")
    assert "first defined at line 1" in dup.message


def test_duplicate_nested_key_is_named_by_its_field_path() -> None:
    text = dedent(
        """\
        extensions:
          - number: 2001
            name: A
          - number: 2002
            name: B
            email: b@acme.com.br
            name: C
        """
    )
    _, problems = parse(text, "tenants/acme.yaml")
    assert [(p.line, p.column, p.field) for p in problems] == [(7, 5, "extensions[number=2002].name")]
    assert "first defined at line 5" in problems[0].message


def test_duplicate_key_inside_a_flow_mapping_of_a_numbers_file() -> None:
    _, problems = parse('- {number: "1130001000", owner: a, owner: b}\n', "numbers/11.yaml")
    assert [(p.line, p.column, p.field, p.rule) for p in problems] == [
        (1, 36, "[number=1130001000].owner", "duplicate-key")
    ]


def test_unhashable_key_is_a_problem_not_a_crash() -> None:
    _, problems = parse("? [a, b]\n: 1\nok: 2\n", "plans/x.yaml")
    assert [(p.line, p.column, p.rule) for p in problems] == [(1, 3, "yaml-syntax")]


def test_syntax_error_carries_its_position() -> None:
    with pytest.raises(YamlSyntaxError) as info:
        parse("name: a\nlimits:\n  ivrs: 1\n   queues: 2\n", "plans/x.yaml")
    problem = info.value.problem
    assert (problem.path, problem.line, problem.column) == ("plans/x.yaml", 4, 10)
    assert problem.rule == "yaml-syntax"


def test_unclosed_quote_names_the_line_where_it_started() -> None:
    text = '- {number: "1130001000, route: sp}\n- {number: "1130001001", route: sp}\n'
    with pytest.raises(YamlSyntaxError) as info:
        parse(text, "numbers/11.yaml")
    problem = info.value.problem
    assert problem.line == 2
    assert "started at line 1" in problem.message


def test_tab_indentation_is_named() -> None:
    with pytest.raises(YamlSyntaxError) as info:
        parse("extensions:\n\t- 1\n", "tenants/a.yaml")
    assert (info.value.problem.line, info.value.problem.column) == (2, 1)
    assert "tab" in info.value.problem.message


def test_two_documents_are_a_syntax_error() -> None:
    with pytest.raises(YamlSyntaxError) as info:
        parse("a: 1\n---\nb: 2\n", "plans/x.yaml")
    assert info.value.problem.line == 2


def test_impossible_date_is_kept_as_text_for_the_model_to_reject() -> None:
    data = load("due_date: 2026-02-30\nstart: 2026-02-28\n")
    assert data["due_date"] == "2026-02-30"
    assert data["start"] == dt.date(2026, 2, 28)


def test_empty_document_is_none() -> None:
    data, problems = parse("# only a comment\n", "plans/x.yaml")
    assert data is None
    assert problems == []
