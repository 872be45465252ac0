"""A YAML document as its top-level parts, each parsed on its own and cached by its text.

History reads every version of every data file; most commits change one line of a file of
thousands. Splitting a document into its top-level parts (the items of a top-level list, the
keys of a top-level mapping) lets a diff parse only the parts whose text changed. A document
that cannot be split safely (anchors across parts, a sequence at a key's own indentation, a
multi-document stream…) is parsed whole, with the same result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pabx.loader.yamlpos import YamlSyntaxError, parse

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
    """The whole document, as the loader reads it (positions kept, never used here)."""
    try:
        return parse(text, path)[0]
    except YamlSyntaxError as exc:
        raise Unreadable(str(exc)) from None


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
    try:
        data = parse(text, "<part>")[0]
    except YamlSyntaxError as exc:
        raise _NotSplittable(str(exc)) from None
    if shape == SEQ:
        if not isinstance(data, list) or len(data) != 1:
            raise _NotSplittable("a list item did not parse as one item")
        value: Any = data[0]
    else:
        if not isinstance(data, dict) or len(data) != 1:
            raise _NotSplittable("a top-level key did not parse as one key")
        value = next(iter(data.items()))
    if len(_PART_CACHE) >= _PART_CACHE_LIMIT:
        _PART_CACHE.clear()
    _PART_CACHE[key] = value
    return value


def _chunks(text: str) -> tuple[str, list[str]] | None:
    """(shape, the text of each top-level part), or None when the text cannot be split safely."""
    if "\t" in text or ("&" in text and _has_anchor(text)):
        return None
    lines = text.split("\n")
    shape: str | None = None
    chunks: list[str] = []
    current: list[str] = []
    for line in lines:
        first = line[:1]
        if first in ("", " ", "#"):
            if current:
                current.append(line)
            continue
        if line.startswith(("---", "...", "%", "? ", "[", "{", "!", "&", "*", "|", ">", '"', "'")):
            return None
        is_item = first == "-" and (len(line) == 1 or line[1] in (" ", "#"))
        this = SEQ if is_item else MAP
        if shape is None:
            shape = this
        elif shape != this:
            return None
        if current:
            chunks.append("\n".join(current))
        current = [line]
    if current:
        chunks.append("\n".join(current))
    if shape is None:
        return None
    return shape, chunks


def _has_anchor(text: str) -> bool:
    """An anchor or alias outside quotes would tie parts together: parse such files whole."""
    for line in text.split("\n"):
        stripped = line.split("#", 1)[0]
        for token in stripped.replace("[", " ").replace("{", " ").replace(",", " ").split():
            if token[:1] in ("&", "*") and len(token) > 1 and not token.startswith(("*9", "*#")):
                return True
    return False


@dataclass(frozen=True)
class Document:
    """A document's top-level parts (shape None when the document is neither a list nor a mapping)."""

    shape: str | None
    parts: tuple[Part, ...]


def split(text: str) -> Document | None:
    """The document cut at its top-level parts, unparsed; None when it cannot be cut safely.

    A part's `value` raises `NotSplittable` when it does not parse alone: then use `whole`.
    """
    found = _chunks(text)
    if found is None:
        return None
    shape, chunks = found
    return Document(shape, tuple(Part(chunk, shape) for chunk in chunks))


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
