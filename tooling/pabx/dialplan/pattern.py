"""Asterisk extension patterns: matching and the order Asterisk 22 sorts extensions in.

Re-implements main/pbx.c: `_extension_match_core` (match, can-match, match-more) and
`ext_cmp` (literal extensions first, compared character by character; patterns compared
position by position, smaller character sets first, `.` before `!`, a longer pattern after
a shorter one that is otherwise equal). Extensions are compared as UTF-8 bytes, as Asterisk
compares C strings. `-` is decoration everywhere outside `[...]`.
"""

from __future__ import annotations

import functools
import re
from enum import IntEnum

ANY_SCORE = 0x18000  # '.'
EARLY_SCORE = 0x28000  # '!'
END_SCORE = 0x30000
BAD_SET_SCORE = 0x40000


class MatchMode(IntEnum):
    MATCH = 0
    MATCHMORE = 1
    CANMATCH = 2


class Match(IntEnum):
    """Result of matching one pattern against dialed digits."""

    NONE = 0
    YES = 1
    EARLY = 2  # the pattern reached '!': matches now and would match anything longer


def is_pattern(extension: str) -> bool:
    return extension.startswith("_")


def normalize_extension(extension: str) -> str:
    """The stored form of an extension name: spaces and `-` outside `[...]` removed (ext_strncpy)."""
    pattern = is_pattern(extension)
    out: list[str] = []
    in_set = False
    for char in extension:
        if char == "[":
            if pattern:
                in_set = True
        elif char == "]":
            in_set = False
        elif char in " -" and not in_set:
            continue
        out.append(char)
    return "".join(out)


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


def _skip_fluff(data: bytes, index: int) -> int:
    while index < len(data) and data[index] == 0x2D:  # '-'
        index += 1
    return index


def _literal_compare(left: bytes, right: bytes, *, partial: bool) -> int:
    """ext_cmp_exten / ext_cmp_exten_partial: byte order ignoring '-'; partial accepts a prefix."""
    i = j = 0
    while True:
        i = _skip_fluff(left, i)
        j = _skip_fluff(right, j)
        if partial and j >= len(right):
            return 0
        a = left[i] if i < len(left) else 0
        b = right[j] if j < len(right) else 0
        if a != b:
            return a - b
        if a == 0:
            return 0
        i += 1
        j += 1


def _fluffless_length(data: bytes) -> int:
    return len(data) - data.count(b"-")


@functools.lru_cache(maxsize=1 << 16)
def match_extension(pattern: str, dialed: str, mode: MatchMode = MatchMode.MATCH) -> Match:
    """Does `dialed` match the extension `pattern` (a literal or a `_` pattern)?

    MATCH: a complete match. CANMATCH: `dialed` is a complete match or could become one with more
    digits. MATCHMORE: only "more digits could still match" (an exact match is not enough).
    """
    pat = _bytes(pattern)
    data = _bytes(dialed)
    if not pat.startswith(b"_"):
        if b"-" not in pat and b"-" not in data:
            if mode is MatchMode.MATCH:
                return Match.YES if pat == data else Match.NONE
            if not pat.startswith(data):
                return Match.NONE
            return Match.YES if mode is MatchMode.CANMATCH or len(pat) > len(data) else Match.NONE
        if _fluffless_length(pat) < _fluffless_length(data):
            return Match.NONE
        if mode is MatchMode.MATCH:
            return Match.YES if _literal_compare(pat, data, partial=False) == 0 else Match.NONE
        if not data or _literal_compare(pat, data, partial=True) == 0:
            if mode is MatchMode.MATCHMORE:
                return Match.YES if _fluffless_length(pat) > _fluffless_length(data) else Match.NONE
            return Match.YES
        return Match.NONE
    if mode is MatchMode.MATCH and data.startswith(b"_") and _compare_patterns(pat[1:], data[1:]) == 0:
        return Match.YES
    return _match_pattern(pat[1:], data, mode)


def _match_pattern(pat: bytes, data: bytes, mode: MatchMode) -> Match:
    p = d = 0
    while True:
        d = _skip_fluff(data, d)
        p = _skip_fluff(pat, p)
        if d >= len(data) or p >= len(pat) or pat[p] == 0x2F:  # '/'
            break
        char = pat[p]
        value = data[d]
        if char == 0x5B:  # '['
            p += 1
            end = pat.find(b"]", p)
            if end < 0:
                return Match.NONE
            if p == end:
                p += 1
                continue
            found = False
            while p < end:
                if p + 2 < end and pat[p + 1] == 0x2D:
                    if pat[p] <= value <= pat[p + 2]:
                        found = True
                        break
                    p += 3
                    continue
                if value == pat[p]:
                    found = True
                    break
                p += 1
            if not found:
                return Match.NONE
            p = end
        elif char in b"nN":
            if not 0x32 <= value <= 0x39:
                return Match.NONE
        elif char in b"xX":
            if not 0x30 <= value <= 0x39:
                return Match.NONE
        elif char in b"zZ":
            if not 0x31 <= value <= 0x39:
                return Match.NONE
        elif char == 0x2E:  # '.'
            return Match.YES
        elif char == 0x21:  # '!'
            return Match.EARLY
        elif value != char:
            return Match.NONE
        d += 1
        p += 1
    if d < len(data):
        return Match.NONE
    if p >= len(pat) or pat[p] == 0x2F:
        return Match.NONE if mode is MatchMode.MATCHMORE else Match.YES
    if pat[p] == 0x21:
        return Match.EARLY
    return Match.NONE if mode is MatchMode.MATCH else Match.YES


def _pattern_position(pat: bytes, index: int) -> tuple[int, int, int]:
    """ext_cmp_pattern_pos: (score, character-set bitmap, next index) for one pattern position.

    The score is 0x0NNCC for a set of NN characters whose lowest is CC, then the wildcards.
    The bitmap is big-endian with the lowest character in the most significant bit, so that
    between two sets of the same score, the one holding lower characters sorts first.
    """
    while True:
        while index < len(pat) and pat[index] == 0x2D:
            index += 1
        if index >= len(pat):
            return END_SCORE, 0, index
        char = pat[index]
        index += 1
        if char in b"nN":
            return 0x0800 | 0x32, _set_bits(range(0x32, 0x3A)), index
        if char in b"xX":
            return 0x0A00 | 0x30, _set_bits(range(0x30, 0x3A)), index
        if char in b"zZ":
            return 0x0900 | 0x31, _set_bits(range(0x31, 0x3A)), index
        if char == 0x2E:
            return ANY_SCORE, 0, index
        if char == 0x21:
            return EARLY_SCORE, 0, index
        if char != 0x5B:
            return 0x0100 | char, _set_bits([char]), index
        end = pat.find(b"]", index)
        if end < 0:
            return BAD_SET_SCORE, 0, index
        members: set[int] = set()
        lowest = 0xFF
        while index < end:
            first = pat[index]
            last = first
            if index + 2 < end and pat[index + 1] == 0x2D:
                last = pat[index + 2]
                index += 2
            lowest = min(lowest, first)
            members.update(range(first, last + 1))
            index += 1
        index += 1
        if members:
            return (len(members) << 8) | lowest, _set_bits(members), index


def _set_bits(chars: range | list[int] | set[int]) -> int:
    bits = 0
    for char in chars:
        bits |= 1 << (255 - char)
    return bits


def _pattern_key(pat: bytes) -> tuple[tuple[int, int], ...]:
    key: list[tuple[int, int]] = []
    index = 0
    while True:
        score, bits, index = _pattern_position(pat, index)
        key.append((score, -bits))
        if score == END_SCORE:
            return tuple(key)


def _compare_patterns(left: bytes, right: bytes) -> int:
    a, b = _pattern_key(left), _pattern_key(right)
    return (a > b) - (a < b)


def compare_extensions(left: str, right: str) -> int:
    """ext_cmp: negative when `left` sorts (and so is tried) before `right`, 0 when they are the same."""
    if not is_pattern(left):
        if is_pattern(right):
            return -1
        result = _literal_compare(_bytes(left), _bytes(right), partial=False)
        return (result > 0) - (result < 0)
    if not is_pattern(right):
        return 1
    return _compare_patterns(_bytes(left)[1:], _bytes(right)[1:])


def extension_sort_key(extension: str) -> tuple[int, tuple[tuple[int, int], ...]]:
    """A key that sorts extensions exactly as `compare_extensions` does."""
    data = _bytes(extension)
    if not is_pattern(extension):
        return 0, (*((byte, 0) for byte in data if byte != 0x2D), (-1, 0))
    return 1, _pattern_key(data[1:])


def sort_extensions(extensions: list[str]) -> list[str]:
    return sorted(extensions, key=extension_sort_key)


def pattern_to_regex(pattern: str) -> re.Pattern[str]:
    """A regular expression for the complete matches of `pattern` (for documentation and tests)."""
    if not is_pattern(pattern):
        literal = [re.escape(char) for char in pattern if char != "-"]
        return re.compile("-*" + "-*".join(literal) + r"-*\Z", re.DOTALL)
    body = pattern[1:]
    parts: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        index += 1
        if char == "-":
            continue
        if char == "/":
            break
        upper = char.upper()
        if upper == "X":
            parts.append("[0-9]")
        elif upper == "Z":
            parts.append("[1-9]")
        elif upper == "N":
            parts.append("[2-9]")
        elif char == ".":
            parts.append("[^-].*")  # at least one character that is not decoration
            break
        elif char == "!":
            parts.append(".*")
            break
        elif char == "[":
            end = body.find("]", index)
            if end < 0:
                return re.compile(r"(?!)")
            members = body[index:end]
            index = end + 1
            if members:
                parts.append(_set_regex(members))
        else:
            parts.append(re.escape(char))
    return re.compile("-*" + "-*".join(parts) + r"-*\Z", re.DOTALL)


def _set_regex(members: str) -> str:
    pieces: list[str] = []
    index = 0
    while index < len(members):
        if index + 2 < len(members) and members[index + 1] == "-":
            first, last = members[index], members[index + 2]
            if first <= last:
                pieces.append(f"{re.escape(first)}-{re.escape(last)}")
            index += 3
        else:
            pieces.append(re.escape(members[index]))
            index += 1
    return "[" + "".join(pieces) + "]" if pieces else "(?!)"
