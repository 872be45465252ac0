"""Asterisk extension patterns: every pattern character, the match modes, and Asterisk 22's sort order."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pabx.dialplan.pattern import (
    Match,
    MatchMode,
    compare_extensions,
    extension_sort_key,
    match_extension,
    normalize_extension,
    pattern_to_regex,
    sort_extensions,
)


@pytest.mark.parametrize(
    ("pattern", "dialed", "expected"),
    [
        ("2001", "2001", Match.YES),
        ("2001", "200", Match.NONE),
        ("20-01", "2001", Match.YES),  # '-' is decoration
        ("2001", "20-01", Match.YES),
        ("_X", "0", Match.YES),
        ("_X", "a", Match.NONE),
        ("_Z", "0", Match.NONE),
        ("_Z", "1", Match.YES),
        ("_N", "1", Match.NONE),
        ("_N", "2", Match.YES),
        ("_n", "2", Match.YES),  # x, z, n are case-insensitive
        ("_x", "9", Match.YES),
        ("_[1-5]", "5", Match.YES),
        ("_[1-5]", "6", Match.NONE),
        ("_[a-z]1", "q1", Match.YES),
        ("_[13579]", "7", Match.YES),
        ("_[a-]1", "-1", Match.NONE),  # the dialed '-' is decoration too, so '1' meets the set
        ("_[5-1]X", "31", Match.NONE),  # an empty range matches nothing
        ("_[]1", "1", Match.YES),  # an empty set is skipped
        ("_X.", "1", Match.NONE),  # '.' needs at least one more character
        ("_X.", "12", Match.YES),
        ("_X.", "1abc", Match.YES),
        ("_X!", "1", Match.EARLY),  # '!' matches zero or more, early
        ("_X!", "123", Match.EARLY),
        ("_!", "", Match.EARLY),
        ("_+55X.", "+5511", Match.YES),
        ("_*XX", "*12", Match.YES),
        ("_#X", "#1", Match.YES),
        ("_NXX-XXXX", "5551234", Match.YES),
        ("_NXX-XXXX", "555-1234", Match.YES),
        ("_0[1-9][1-9]9XXXXXXXX", "021987654321", Match.YES),
        ("_0[1-9][1-9]9XXXXXXXX", "02133334444", Match.NONE),
    ],
)
def test_match(pattern: str, dialed: str, expected: Match) -> None:
    assert match_extension(pattern, dialed) is expected


@pytest.mark.parametrize(
    ("pattern", "dialed", "can_match", "match_more"),
    [
        ("_1XX", "1", True, True),
        ("_1XX", "12", True, True),
        ("_1XX", "123", True, False),
        ("_1XX", "2", False, False),
        ("123", "12", True, True),
        ("123", "123", True, False),
        ("_X.", "1", True, True),
        ("_X!", "1", True, False),  # '!' answers "no" to "more digits?"
        ("_3X", "3", True, True),
        ("1", "", True, True),
    ],
)
def test_can_match_and_match_more(pattern: str, dialed: str, can_match: bool, match_more: bool) -> None:
    assert (match_extension(pattern, dialed, MatchMode.CANMATCH) is not Match.NONE) == can_match
    assert (match_extension(pattern, dialed, MatchMode.MATCHMORE) is Match.YES) == match_more


def test_normalize_removes_decoration_outside_sets_only() -> None:
    assert normalize_extension("_NXX-XXXX") == "_NXXXXXX"
    assert normalize_extension("_[a-c]-1") == "_[a-c]1"
    assert normalize_extension("55 5-1") == "5551"


def test_literal_extensions_come_before_every_pattern() -> None:
    assert compare_extensions("9999", "_X") < 0
    assert compare_extensions("_X", "9999") > 0
    assert compare_extensions("s", "_.") < 0


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("100", "1000"),  # a shorter literal first
        ("#1", "*99"),  # byte order
        ("_1XX", "_NXX"),  # one character before a set
        ("_[123]XX", "_[2-5]XX"),  # 3 characters before 4
        ("_NXX", "_ZXX"),  # 8 before 9 before 10
        ("_ZXX", "_XXX"),
        ("_[02468]X", "_[13579]X"),  # same size: lower characters first
        ("_XXX", "_X."),  # '.' after any set
        ("_X.", "_X!"),  # '!' after '.'
        ("_2XX", "_2X"),  # the end of a pattern sorts after any set: longer first
        ("_0300XXXXXXX", "_0300XXXXXX"),
        ("_[5-1]X", "_[a-z]X"),  # an empty range is skipped: _X vs 26 letters
        ("_x1", "_XXX"),  # lowercase x is X
    ],
)
def test_pattern_specificity_order(first: str, second: str) -> None:
    assert compare_extensions(first, second) < 0
    assert compare_extensions(second, first) > 0


def test_equal_names_compare_equal() -> None:
    assert compare_extensions("_NXX-XXXX", "_NXXXXXX") == 0
    assert compare_extensions("_[0-9]", "_X") == 0
    assert compare_extensions("_x.", "_X.") == 0
    assert compare_extensions("20-01", "2001") == 0


PATTERN_PIECES = st.sampled_from(
    ["0", "1", "2", "5", "9", "+", "*", "#", "a", "X", "Z", "N", "x", "[1-5]", "[13]", "[a-c]", "[0-9]", "-"]
)
patterns = st.builds(
    lambda pieces, tail: "_" + "".join(pieces) + tail,
    st.lists(PATTERN_PIECES, min_size=0, max_size=6),
    st.sampled_from(["", ".", "!"]),
)
literals = st.text(alphabet="0123456789*#+ab-", min_size=1, max_size=6).filter(lambda s: s.replace("-", ""))
extensions = st.one_of(patterns, literals)
dialed = st.text(alphabet="0123456789*#+abz", min_size=0, max_size=8)


@given(patterns, dialed)
@settings(max_examples=400)
def test_pattern_match_agrees_with_its_regex_translation(pattern: str, number: str) -> None:
    matched = match_extension(pattern, number) is not Match.NONE
    assert matched == bool(pattern_to_regex(pattern).match(number)), (pattern, number)


@given(literals, dialed)
def test_literal_match_agrees_with_its_regex_translation(literal: str, number: str) -> None:
    matched = match_extension(literal, number) is not Match.NONE
    assert matched == bool(pattern_to_regex(literal).match(number))


@given(patterns, dialed)
def test_a_complete_match_can_match(pattern: str, number: str) -> None:
    if match_extension(pattern, number) is not Match.NONE:
        assert match_extension(pattern, number, MatchMode.CANMATCH) is not Match.NONE


@given(st.lists(extensions, min_size=2, max_size=8))
@settings(max_examples=300)
def test_sort_key_agrees_with_the_comparison(names: list[str]) -> None:
    by_key = sort_extensions(names)
    by_comparison = sorted(names, key=functools.cmp_to_key(compare_extensions))
    assert [extension_sort_key(n) for n in by_key] == [extension_sort_key(n) for n in by_comparison]


@given(extensions, extensions)
def test_comparison_is_antisymmetric(left: str, right: str) -> None:
    assert compare_extensions(left, right) == -compare_extensions(right, left)
