"""`${...}` substitution, `$[...]` expressions and argument splitting, as Asterisk does them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pabx.dialplan.expr import (
    ExpressionError,
    MappingScope,
    SubstitutionError,
    UnknownFunctionError,
    check_condition,
    evaluate_expression,
    format_number,
    split_args,
    substitute,
    substring,
)

SCOPE = MappingScope(
    {"NUM": "1130001000", "IDX": "5", "VAR_5": "five", "EMPTY": "", "NAME": "a b"},
    {"UPPER": lambda args: args.upper(), "FAILS": lambda args: None},
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${NUM}", "1130001000"),
        ("${NUM:2}", "30001000"),
        ("${NUM:-4}", "1000"),
        ("${NUM:0:2}", "11"),
        ("${NUM:2:-2}", "300010"),
        ("${NUM:-4:2}", "10"),
        ("${NUM:20}", ""),
        ("${NUM:-20:3}", "113"),
        ("${VAR_${IDX}}", "five"),
        ("${VAR_${IDX}:1:2}", "iv"),
        ("${MISSING}x", "x"),
        ("$${IDX}", "$5"),
        ("cost $5", "cost $5"),
        ("${UPPER(abc)}", "ABC"),
        ("${UPPER(${NAME})}:${UPPER(x):0:1}", "A B:X"),
        ("[${FAILS(x)}]", "[]"),
        ("$[1+${IDX}]", "6"),
        ("${NUM", "1130001000"),  # a missing '}' still reads to the end, as Asterisk does
    ],
)
def test_substitution(text: str, expected: str) -> None:
    assert substitute(text, SCOPE) == expected


def test_unknown_function_names_it() -> None:
    with pytest.raises(UnknownFunctionError, match=r"NOPE\(\)"):
        substitute("${NOPE(1)}", SCOPE)


def test_runaway_substitution_is_stopped() -> None:
    with pytest.raises(SubstitutionError):
        substitute("${" * 20 + "X" + "}" * 20, SCOPE)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1+2", "3"),
        ("10/3", "3.33333333333333333"),
        ("7%3", "1"),
        ("-7%3", "-1"),
        ("2*3-1", "5"),
        ("(1+2)*3", "9"),
        ("2.5*2", "5"),
        ("1.5", "1.5"),
        ("7/0", "2147483647"),
        ("5>3", "1"),
        ("5<=3", "0"),
        ("010 = 10", "1"),  # both numbers: compared as numbers
        ("010 = 10a", "0"),  # one string: compared as strings
        ("abc = abc", "1"),
        ("abc < abd", "1"),
        ("b > a", "1"),
        ("10 < 9", "0"),
        ("9 < 10", "1"),
        ('"a b" = "a b"', "1"),
        ("abc != abd", "1"),
        ("1 ? yes :: no", "yes"),
        ("0 ? yes :: no", "no"),
        ('"" ? yes :: no', "no"),
        ("0 | fallback", "fallback"),
        ("first | fallback", "first"),
        ("1 & 0", "0"),
        ("x & y", "x"),
        ("!0", "1"),
        ("!abc", "1"),
        ("!1", "0"),
        ("-5+2", "-3"),
        ('1130001000 =~ "30+"', "4"),
        ('1130001000 : "11(..)"', "30"),
        ('1130001000 : "30"', "0"),
        ('1130001000 : "(30)"', ""),
        ("abc : a", "1"),
        ("x ~~ y", "xy"),
        ("", ""),
        ("1 = 1 & 2 = 2", "1"),
        ("UPPER(a,b)", "A,B"),
    ],
)
def test_expressions(expression: str, expected: str) -> None:
    assert evaluate_expression(expression, SCOPE) == expected


@pytest.mark.parametrize("expression", ["1 +", "(1", "1 2", "a :: b", "UPPER()"])
def test_expression_syntax_errors(expression: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate_expression(expression, SCOPE)


def test_characters_no_rule_accepts_are_dropped_as_flex_does() -> None:
    assert evaluate_expression("1 ~ = 1", SCOPE) == "1"


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("a,b,c", {}, ["a", "b", "c"]),
        ("a,", {}, ["a", ""]),
        ("", {}, []),
        ('a,"b,c",d', {}, ["a", "b,c", "d"]),
        ('a,"b,c",d', {"remove_chars": False}, ["a", '"b,c"', "d"]),
        (r"a\,b,c", {}, ["a,b", "c"]),
        ("f(a,b),[x,y],z", {}, ["f(a,b)", "[x,y]", "z"]),
        ("a,b,c,d", {"limit": 2}, ["a", "b,c,d"]),
        ("c?t:f", {"delimiter": "?", "limit": 2}, ["c", "t:f"]),
    ],
)
def test_split_args(text: str, kwargs: dict[str, object], expected: list[str]) -> None:
    assert split_args(text, **kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("", False),
        ("0", False),
        ("00", False),
        ("1", True),
        ("-1", True),
        ("2abc", True),
        ("abc", True),
        (" 0", False),
    ],
)
def test_check_condition(condition: str, expected: bool) -> None:
    assert check_condition(condition) is expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [("3", "3"), ("-3", "-3"), ("0.5", "0.5"), ("1e20", "1e+20"), ("0.00001", "1e-05"), ("2.50", "2.5")],
)
def test_numbers_print_like_printf_g(number: str, expected: str) -> None:
    assert format_number(Decimal(number)) == expected


@given(st.text(max_size=12), st.integers(-15, 15), st.integers(-15, 15))
def test_substring_matches_the_c_definition(value: str, offset: int, length: int) -> None:
    total = len(value)
    start = max(total + offset, 0) if offset < 0 else offset
    if start >= total:
        expected = ""
    elif length >= 0:
        expected = value[start : start + length]
    else:
        expected = value[start : total + length] if total > start - length else ""
    assert substring(value, offset, length) == expected


@given(st.text(alphabet='abc,\\"()[]', max_size=16))
def test_split_args_keeps_every_character_when_raw(text: str) -> None:
    assert ",".join(split_args(text, remove_chars=False)) == text or not text
