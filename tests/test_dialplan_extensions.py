"""Loading extensions.conf as pbx_config does, and finding the priority Asterisk would run."""

from __future__ import annotations

from pathlib import Path

from pabx.dialplan.config import parse_config, parse_config_text
from pabx.dialplan.extensions import HINT, Dialplan, load_dialplan

FIXTURES = Path(__file__).parent / "fixtures" / "dialplan"


def dialplan(text: str) -> Dialplan:
    return load_dialplan(parse_config_text(text, name="extensions.conf"))


def test_same_n_labels_offsets_and_hints() -> None:
    plan = dialplan(
        "[c]\n"
        "exten => 100,1,NoOp(one)\n"
        " same => n(two),NoOp(two)\n"
        " same => n,Dial(PJSIP/a,30)\n"
        "exten => 100,10,NoOp(ten)\n"
        "exten => 100,n,NoOp(eleven)\n"
        "exten => 100,s,NoOp(replaces nothing: eleven is taken)\n"
        "exten => 100,two+5,NoOp(label plus offset)\n"
        "exten => 100,hint,PJSIP/acme_100\n"
    )
    extension = plan.contexts["c"].extensions[0]
    assert sorted(extension.priorities) == [HINT, 1, 2, 3, 7, 10, 11]
    assert extension.priorities[2].label == "two"
    assert extension.label("two") == extension.priorities[2]
    assert (extension.priorities[3].app, extension.priorities[3].data) == ("Dial", "PJSIP/a,30")
    assert extension.hint is not None and extension.hint.app == "PJSIP/acme_100"
    assert [(p.line, p.rule) for p in plan.problems] == [(7, "dialplan.duplicate-priority")]


def test_application_data_runs_to_the_last_parenthesis() -> None:
    plan = dialplan(
        "[c]\nexten => 1,1,Set(X=$[(1+2)])\nexten => 2,1,Answer\nexten => 3,1,Dial(PJSIP/a,,b(s^x^1(a,b)))\n"
    )
    found = [plan.find("c", number) for number in ("1", "2", "3")]
    assert [(f.priority.app, f.priority.data) for f in found if f] == [
        ("Set", "X=$[(1+2)]"),
        ("Answer", ""),
        ("Dial", "PJSIP/a,,b(s^x^1(a,b))"),
    ]


def test_commas_inside_brackets_belong_to_the_pattern() -> None:
    plan = dialplan("[c]\nexten => _[1,2]X,1,NoOp(set with comma)\n")
    assert plan.contexts["c"].extensions[0].name == "_[1,2]X"
    assert plan.find("c", ",5") is not None


def test_loader_problems() -> None:
    plan = dialplan(
        "[c]\n"
        "same => n,NoOp(nothing before)\n"
        "exten => 1,n,NoOp(no priority before)\n"
        "exten => 1,0,NoOp(zero)\n"
        "exten => 1,nolabel,NoOp(unknown label)\n"
        "exten => 1,1(open,NoOp(unclosed label)\n"
        "include => nowhere\n"
        "foo => bar\n"
    )
    assert [(p.line, p.rule) for p in plan.problems] == [
        (2, "dialplan.same"),
        (3, "dialplan.priority"),
        (4, "dialplan.priority"),
        (5, "dialplan.priority"),
        (6, "dialplan.priority"),
        (8, "dialplan.keyword"),
        (7, "dialplan.include-missing"),
    ]


def test_globals_general_and_merged_contexts() -> None:
    plan = dialplan(
        "[general]\nautofallthrough=no\n[globals]\nX=5\n[c]\nexten => ${X}0,1,NoOp(a)\n[c]\nexten => 51,1,NoOp(b)\n"
    )
    assert plan.autofallthrough is False
    assert plan.globals == {"X": "5"}
    assert [e.name for e in plan.contexts["c"].extensions] == ["50", "51"]
    assert "general" not in plan.contexts and "globals" not in plan.contexts


def test_an_exact_extension_wins_over_patterns() -> None:
    plan = load_dialplan(parse_config(FIXTURES / "ordering.conf"))
    found = plan.find("ordering", "2001")
    assert found is not None and found.extension.name == "2001"
    found = plan.find("ordering", "2002")
    assert found is not None and found.extension.name == "_20XX"


def test_a_match_without_the_priority_falls_through_to_the_next_extension() -> None:
    plan = dialplan("[c]\nexten => 123,2,NoOp(only two)\nexten => _X.,1,NoOp(one)\n same => n,NoOp(two)\n")
    first = plan.find("c", "123", 1)
    second = plan.find("c", "123", 2)
    assert first is not None and first.extension.name == "_X."
    assert second is not None and second.extension.name == "123"


def test_includes_are_searched_in_order_depth_first_once() -> None:
    plan = load_dialplan(parse_config(FIXTURES / "ordering.conf"))
    assert [(c, e.name) for c, e in plan.matching_extensions("ordering-include", "402")] == [
        ("ordering-include-a", "_40X"),
        ("ordering-include-c", "402"),
        ("ordering-include-b", "402"),
    ]
    found = plan.find("ordering-include", "402")
    assert found is not None and found.context.name == "ordering-include-a"
    assert plan.find("ordering-include", "410") is None  # and the include loop back to the start ends


def test_caller_id_matches() -> None:
    plan = load_dialplan(parse_config(FIXTURES / "ordering.conf"))
    names = [(e.name, e.cidmatch) for e in plan.contexts["ordering-cid"].extensions]
    assert names == [("2001", "2002"), ("2001", "_1XXX"), ("2001", None), ("_2XXX", "2003"), ("_2XXX", None)]

    def ran(number: str, callerid: str | None) -> str:
        found = plan.find("ordering-cid", number, callerid=callerid)
        assert found is not None
        return found.priority.data

    assert ran("2001", "2002") == "only from 2002"
    assert ran("2001", "1234") == "from 1XXX"
    assert ran("2001", "9999") == "anyone"
    assert ran("2001", None) == "anyone"
    assert ran("2005", "2003") == "pattern from 2003"
    assert ran("2005", "2002") == "pattern from anyone"


def test_labels_are_found_through_includes_and_patterns() -> None:
    plan = dialplan("[a]\ninclude => b\n[b]\nexten => _X.,1,NoOp()\n same => n(here),NoOp()\n")
    assert plan.find_label("a", "123", "here") == 2
    assert plan.find_label("a", "123", "nowhere") is None


def test_can_match_and_match_more_across_a_context() -> None:
    plan = load_dialplan(parse_config(FIXTURES / "ivr.conf"))
    assert plan.can_match("ivr", "1") and not plan.match_more("ivr", "1")
    assert plan.can_match("ivr", "3") and plan.match_more("ivr", "3")
    assert not plan.can_match("ivr", "9")


def test_spaces_leave_names_but_not_sets() -> None:
    plan = dialplan("[c]\nexten => 100 ,1,NoOp()\nexten => _[1 2]X,1,NoOp()\n")
    assert [e.name for e in plan.contexts["c"].extensions] == ["100", "_[1 2]X"]
    assert plan.find("c", " 5") is not None
