"""A YAML document as its top-level parts, each parsed on its own and cached by its text.

History reads every version of every data file; most commits change one line of a file of
thousands. Splitting a document into its top-level parts (the items of a top-level list, the
keys of a top-level mapping) lets a diff parse only the parts whose text changed. A document
that cannot be split safely (anchors across parts, a sequence at a key's own indentation, a
multi-document stream…) is parsed whole, with the same result.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import yaml

try:  # the C parser is several times faster; the pure-Python one is a fine fallback
    _Base: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader


class _Loader(_Base):
    """PyYAML's safe loader; an impossible date (2026-02-30) stays text, as pabx's loader keeps it.

    Not `pabx.loader.yamlpos`: history needs no positions, and importing the positioned loader
    brings every model with it, a large part of a quick question's time.
    """


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return node.value


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _parse(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


SEQ = "seq"
MAP = "map"


class Unreadable(Exception):
    """The text is not YAML the loader accepts; history records the file as unreadable."""


@dataclass(frozen=True)
class Part:
    """One top-level item (SEQ) or key (MAP): `text` identifies it, `value` is parsed on demand.

    For MAP documents `value` is the (key, value) pair.
    """

    text: str
    shape: str
    _parsed: Any = None

    @property
    def value(self) -> Any:
        if self._parsed is not None:
            return self._parsed[0]
        return _parse_part(self.text, self.shape)


def load(text: str, path: str = "<git>") -> Any:
    """The whole document; raises `Unreadable` when it is not YAML."""
    try:
        return _parse(text)
    except yaml.YAMLError as exc:
        raise Unreadable(_reason(exc)) from None


def _reason(exc: yaml.YAMLError) -> str:
    """What is wrong and where, without PyYAML's quote of the line (it could hold a secret)."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        return f"{what} (line {mark.line + 1}, column {mark.column + 1})" if mark else what
    return "invalid YAML"


_PART_CACHE: dict[tuple[str, str], Any] = {}
_PART_CACHE_LIMIT = 200_000


class _NotSplittable(Exception):
    pass


def _parse_part(text: str, shape: str) -> Any:
    key = (shape, text)
    try:
        return _PART_CACHE[key]
    except KeyError:
        pass
    if shape == MAP:
        listed = _block_list(text)
        if listed is not None:
            _remember(key, listed)
            return listed
    try:
        data = _parse(text)
    except yaml.YAMLError as exc:
        raise _NotSplittable(str(exc)) from None
    if shape == SEQ:
        if not isinstance(data, list) or len(data) != 1:
            raise _NotSplittable("a list item did not parse as one item")
        value: Any = data[0]
    else:
        if not isinstance(data, dict) or len(data) != 1:
            raise _NotSplittable("a top-level key did not parse as one key")
        value = next(iter(data.items()))
    _remember(key, value)
    return value


def _remember(key: tuple[str, str], value: Any) -> None:
    if len(_PART_CACHE) >= _PART_CACHE_LIMIT:
        _PART_CACHE.clear()
    _PART_CACHE[key] = value


_SIMPLE_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*):\s*(#.*)?$")


def _block_list(text: str) -> tuple[str, list[Any]] | None:
    """`extensions:` followed by a block list at indentation 2, each item parsed on its own
    (and cached): a tenant that gains one extension parses one line, not all of them. None when
    the part is not such a list."""
    head, _, rest = text.partition("\n")
    match = _SIMPLE_KEY.match(head)
    if match is None or not rest.startswith("  - "):
        return None
    items: list[list[str]] = []
    for line in rest.split("\n"):
        if line.startswith("  - ") or line == "  -":
            items.append([line[2:]])
        elif line.startswith("    ") or not line.strip() or line.lstrip().startswith("#"):
            items[-1].append(line[2:] if line.startswith("  ") else line)
        else:
            return None
    try:
        return match.group(1), [_parse_part("\n".join(item), SEQ) for item in items]
    except _NotSplittable:
        return None


# A line at column 0 that is not blank or a comment starts a top-level part.
_PART_START = re.compile(r"^[^ \n\r#]", re.M)
# Lines at column 0 that parts cannot be cut around: in a list document, anything but an item
# (documents, directives, flow collections, tags, anchors, quoted or complex keys all start so);
# in a mapping document, a list at column 0 and those same constructs.
_SEQ_BREAK = re.compile(r"^(?:[^-\s#]|-[^\s#])", re.M)
_MAP_BREAK = re.compile(r"^(?:-|\.\.\.|%|\? |[\[{!&*|>\"'])", re.M)
_TOP_KEY = re.compile(r"^([^\s#][^:\n]*):", re.M)
_SHAPES: dict[str, str | None] = {}


def _has_anchor(text: str) -> bool:
    """An anchor outside quotes may tie parts together: parse such files whole."""
    for line in text.split("\n"):
        if "&" not in line:
            continue
        stripped = line.split("#", 1)[0]
        for token in stripped.replace("[", " ").replace("{", " ").replace(",", " ").split():
            if token[:1] == "&" and len(token) > 1:
                return True
    return False


def shape_of(text: str) -> str | None:
    """SEQ or MAP when the text can be cut into top-level parts that parse alone; else None.
    Remembered for recent texts: a commit's old text is the previous commit's new one."""
    if text in _SHAPES:
        return _SHAPES[text]
    shape: str | None = None
    first = _PART_START.search(text)
    if first is not None and "\t" not in text and not ("&" in text and _has_anchor(text)):
        if text[first.start()] == "-":
            shape = None if _SEQ_BREAK.search(text) else SEQ
        elif not _MAP_BREAK.search(text):
            keys = _TOP_KEY.findall(text)
            shape = MAP if len(keys) == len(set(keys)) else None  # a repeated key: YAML keeps the last
    if len(_SHAPES) >= 256:
        _SHAPES.pop(next(iter(_SHAPES)))
    _SHAPES[text] = shape
    return shape


def cut(text: str, start: int = 0, end: int | None = None) -> list[str]:
    """The texts of the parts that start in text[start:end] (`start` at a part start, or 0)."""
    stop = len(text) if end is None else end
    starts = [m.start() for m in _PART_START.finditer(text, start, stop)]
    return [text[a:b] for a, b in zip(starts, [*starts[1:], stop], strict=False)]


def _common_prefix(a: str, b: str) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:  # slices compare in C: a few passes over the text, not a Python loop per char
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    lo, hi = 0, limit
    la, lb = len(a), len(b)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _part_start_before(text: str, p: int) -> int:
    """The last part start strictly before index p (its first character is then the same in
    both versions); 0 when there is none (the region starts at the top)."""
    while p > 0:
        line = text.rfind("\n", 0, p - 1) + 1  # the start of the line holding index p - 1
        if text[line : line + 1] not in ("", " ", "\n", "\r", "#"):
            return line
        p = line
    return 0


def changed_parts(old: str, new: str) -> tuple[str, list[str], list[str]] | None:
    """(shape, texts of the parts only `old` has, texts of those only `new` has), cutting only
    the region where the two texts differ; None when either cannot be cut into parts."""
    shape = shape_of(old)
    if shape is None or shape_of(new) != shape:
        return None
    p = _common_prefix(old, new)
    if p == len(old) == len(new):
        return shape, [], []
    s = _common_suffix(old, new, min(len(old), len(new)) - p)
    a = _part_start_before(old, p)
    after = _PART_START.search(old, len(old) - s + 1)
    b_old = after.start() if after else len(old)
    b_new = b_old + len(new) - len(old) if after else len(new)
    removed = Counter(cut(old, a, b_old))
    added = Counter(cut(new, a, b_new))
    common = removed & added
    return shape, list((removed - common).elements()), list((added - common).elements())


@dataclass(frozen=True)
class Document:
    """A document's top-level parts (shape None when the document is neither a list nor a mapping)."""

    shape: str | None
    parts: tuple[Part, ...]


def split(text: str) -> Document | None:
    """The document cut at its top-level parts, unparsed; None when it cannot be cut safely.

    A part's `value` raises `NotSplittable` when it does not parse alone: then use `whole`.
    """
    shape = shape_of(text)
    if shape is None:
        return None
    return Document(shape, tuple(Part(chunk, shape) for chunk in cut(text)))


def whole(text: str, path: str = "<git>") -> Document:
    """The document parsed whole; each part's `text` is a canonical dump of its value, so two
    versions parsed this way still compare part by part. Raises `Unreadable`."""
    data = load(text, path)
    if isinstance(data, list):
        return Document(SEQ, tuple(Part(_canonical(item), SEQ, (item,)) for item in data))
    if isinstance(data, dict):
        return Document(MAP, tuple(Part(_canonical({k: v}), MAP, ((k, v),)) for k, v in data.items()))
    return Document(None, ())


NotSplittable = _NotSplittable


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
