"""Lists of entries at the root of a file (numbers/<DDD>.yaml), edited entry by entry.

A numbers file holds thousands of entries, one flow mapping per line. Round-tripping the
whole file through ruamel.yaml for a one-line change costs seconds (it is pure Python), so a
file written that way is a `LineEntries`: each entry is round-tripped through ruamel.yaml on
its own line, only when it is read or changed, and every other line is kept as it is. Any
other layout is a `SeqEntries` over ruamel's whole-document round trip. Both have the same
methods, so the number edits do not care which one they have.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from pabx.edit.yamlrt import Style, delete_item, dump_text, like_siblings, load_text

_ENTRY = re.compile(r"^- \{.*\}[ \t]*(?:#.*)?$")
_KEY = re.compile(r"""[{,]\s*number:\s*["']?([0-9]+)["']?\s*[,}]""")
_LINE_STYLE = Style(mapping=2, offset=0)


class Entries(Protocol):
    def __len__(self) -> int: ...

    def key(self, index: int) -> str | None:
        """The `number` of entry `index`, read without round-tripping it."""
        ...

    def find(self, number: str) -> int | None: ...

    def entry(self, index: int) -> CommentedMap: ...

    def insert(self, index: int, entry: CommentedMap) -> None: ...

    def delete(self, index: int) -> None: ...


class LineEntries:
    """A root list written one flow mapping per line, between full-line comments."""

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.original = text
        self.lines: list[str] = text.splitlines(keepends=True)
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += "\n"
        rows = [i for i, line in enumerate(self.lines) if line.startswith("- ")]
        self._parsed: dict[int, tuple[str, CommentedSeq]] = {}  # entry id -> (old line, document)
        self._ids: list[int] = list(range(len(rows)))  # entry ids in list order
        self._next_id = len(rows)
        self._line_of: dict[int, str] = {i: self.lines[row] for i, row in enumerate(rows)}
        entry_at = {row: i for i, row in enumerate(rows)}
        # the file as it will be written: entry ids, and every other line as it is
        self._order: list[int | str] = [entry_at.get(i, line) for i, line in enumerate(self.lines)]

    @staticmethod
    def fits(text: str) -> bool:
        """Every line is blank, a full-line comment or a one-line flow mapping entry at column 0."""
        lines = text.splitlines()
        entries = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        return bool(entries) and all(_ENTRY.match(line) for line in entries)

    def __len__(self) -> int:
        return len(self._ids)

    def key(self, index: int) -> str | None:
        ident = self._ids[index]
        if ident in self._parsed:
            return str(self._parsed[ident][1][0].get("number"))
        found = _KEY.search(self._line_of[ident])
        return found.group(1) if found else None

    def find(self, number: str) -> int | None:
        return next((i for i in range(len(self._ids)) if self.key(i) == number), None)

    def entry(self, index: int) -> CommentedMap:
        ident = self._ids[index]
        if ident not in self._parsed:
            line = self._line_of[ident]
            document = load_text(line, self.path, _LINE_STYLE)
            self._parsed[ident] = (line, document)
        item = self._parsed[ident][1][0]
        if not isinstance(item, CommentedMap):
            raise TypeError(f"{self.path}: entry {index} is not a mapping")
        return item

    def insert(self, index: int, entry: CommentedMap) -> None:
        """A new entry right after entry `index - 1`, so before the comments heading the next."""
        ident = self._next_id
        self._next_id += 1
        entry.fa.set_flow_style()
        self._parsed[ident] = ("", CommentedSeq([entry]))
        if not self._ids:
            anchor = len(self._order)
        elif index == 0:
            anchor = self._order.index(self._ids[0])
        else:
            anchor = self._order.index(self._ids[min(index, len(self._ids)) - 1]) + 1
        self._order.insert(anchor, ident)
        self._ids.insert(index, ident)

    def delete(self, index: int) -> None:
        ident = self._ids.pop(index)
        self._order.remove(ident)
        self._parsed.pop(ident, None)

    def dump(self) -> str:
        out: list[str] = []
        for item in self._order:
            if isinstance(item, str):
                out.append(item)
            elif item in self._parsed:
                old, document = self._parsed[item]
                out.append(dump_text(document, _LINE_STYLE, old or None))
            else:
                out.append(self._line_of[item])
        text = "".join(out)
        if text.rstrip("\n") == self.original.rstrip("\n"):
            return self.original
        return text


class SeqEntries:
    """Entries of a whole-document ruamel round trip (any other layout, and new files)."""

    def __init__(self, seq: CommentedSeq) -> None:
        self.seq = seq

    def __len__(self) -> int:
        return len(self.seq)

    def key(self, index: int) -> str | None:
        item = self.seq[index]
        return str(item.get("number")) if isinstance(item, CommentedMap) else None

    def find(self, number: str) -> int | None:
        return next((i for i in range(len(self.seq)) if self.key(i) == number), None)

    def entry(self, index: int) -> CommentedMap:
        item = self.seq[index]
        if not isinstance(item, CommentedMap):
            raise TypeError(f"entry {index} is not a mapping")
        return item

    def insert(self, index: int, entry: CommentedMap) -> None:
        self.seq.insert(index, like_siblings(entry, self.seq))

    def delete(self, index: int) -> None:
        delete_item(self.seq, index)


def entries_of(data: Any) -> Entries | None:
    if isinstance(data, LineEntries):
        return data
    if isinstance(data, CommentedSeq):
        return SeqEntries(data)
    return None


__all__ = ["Entries", "LineEntries", "SeqEntries", "entries_of"]
