"""Round-trip YAML editing (ruamel.yaml) that leaves a minimal, reviewable diff.

ruamel.yaml keeps comments, key order, quoting, flow/block style and blank lines, but it
writes a whole document with one indentation style. A file is therefore dumped with the
style detected in it, and any line ruamel re-indented or re-spaced without changing what it
says is put back byte for byte. The result is re-read and compared with what ruamel meant to
write: if the two ever disagree, ruamel's own output is kept (correct, only noisier).
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, PlainScalarString, SingleQuotedScalarString

from pabx.errors import Problem, UserError

_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVER = pyyaml.resolver.Resolver()
_NULL_RE = re.compile(r"^(?P<key>[^#]*?):(?:\s*|\s+~|\s+null)$")
_COMMENT_RE = re.compile(r"^(?P<body>.*?\S)(?P<gap>\s+)(?P<comment>#.*)$")


@dataclass(frozen=True)
class Style:
    """How a file indents: spaces per mapping level, and where a block sequence's dash sits."""

    mapping: int = 2
    offset: int = 2  # dash indentation under its key (0: "key:\n- item", 2: "key:\n  - item")

    def configure(self, yml: YAML) -> None:
        yml.indent(mapping=self.mapping, sequence=self.offset + 2, offset=self.offset)


def detect_style(text: str) -> Style:
    """The indentation a file already uses (its first nested mapping and block sequence)."""
    mapping = 0
    offset: int | None = None
    previous: tuple[int, str] | None = None
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if previous is None and (stripped.startswith("- ") or stripped == "-"):
            offset = indent  # a sequence at the root: ruamel indents every sequence alike
        if previous is not None and previous[1].endswith(":") and not previous[1].startswith("- "):
            if stripped.startswith("- ") or stripped == "-":
                if offset is None:
                    offset = indent - previous[0]
            elif indent > previous[0] and not mapping:
                mapping = indent - previous[0]
        previous = (indent, stripped.split(" #", 1)[0].rstrip())
    return Style(mapping=mapping or 2, offset=2 if offset is None else max(offset, 0))


class _Representer(RoundTripRepresenter):
    """Writes null as `null`, as the data files do (ruamel writes `key:` in block mappings)."""

    def represent_none(self, data: None) -> Any:
        return self.represent_scalar("tag:yaml.org,2002:null", "null")


_Representer.add_representer(type(None), _Representer.represent_none)


def new_yaml(style: Style | None = None) -> YAML:
    yml = YAML()
    yml.Representer = _Representer
    yml.preserve_quotes = True
    yml.width = 100_000  # never fold a long flow mapping: one entry, one line
    (style or Style()).configure(yml)
    return yml


def load_text(text: str, path: str, style: Style | None = None) -> Any:
    try:
        return new_yaml(style).load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise UserError(
            f"{path} is not valid YAML: fix it first",
            [Problem(path, line, col, "", str(getattr(exc, "problem", exc)), "yaml-syntax")],
        ) from None


def dump_text(data: Any, style: Style, original: str | None) -> str:
    """Serialize `data`; with `original`, keep every line that only changed in spacing."""
    out = io.StringIO()
    new_yaml(style).dump(data, out)
    written = out.getvalue()
    if original is None:
        return written
    minimal = _keep_original_spacing(original, written)
    if minimal != written and not _same_data(minimal, written):
        return written
    return minimal


def _keep_original_spacing(original: str, written: str) -> str:
    old = original.splitlines(keepends=True)
    new = written.splitlines(keepends=True)
    result: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result.extend(old[i1:i2])
        elif tag == "replace":
            olds, news = old[i1:i2], new[j1:j2]
            for k, line in enumerate(news):
                result.append(_respace(olds[k], line) if k < len(olds) else line)
        elif tag == "insert":
            result.extend(new[j1:j2])
    return "".join(result)


def _respace(old: str, new: str) -> str:
    """`new`, spaced like `old` when the two differ only in indentation or before a comment."""
    if _null_as_written(old.strip()) == _null_as_written(new.strip()):
        return old
    indent = old[: len(old) - len(old.lstrip(" "))]
    old_m, new_m = _COMMENT_RE.match(old.rstrip("\n")), _COMMENT_RE.match(new.rstrip("\n"))
    if old_m and new_m and old_m["comment"] == new_m["comment"]:
        if old_m["body"].strip() == new_m["body"].strip():
            return old
        return f"{indent}{new_m['body'].strip()}{old_m['gap']}{new_m['comment']}\n"
    return indent + new.lstrip(" ")


def _null_as_written(line: str) -> str:
    """`key:`, `key: ~` and `key: null` are one value, written three ways: keep the file's."""
    return _NULL_RE.sub(r"\g<key>: null", line)


def _same_data(a: str, b: str) -> bool:
    try:
        return bool(pyyaml.safe_load(a) == pyyaml.safe_load(b))
    except pyyaml.YAMLError:
        return False


# --- values written the way the loader (PyYAML, YAML 1.1) will read them back ---------------


def text(value: str, like: Any = None) -> str:
    """A string scalar, quoted like the value it replaces, and always when YAML 1.1 would
    read it as something else (yes, on, 0300, 2026-01-01…)."""
    if isinstance(like, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(value)
    if isinstance(like, SingleQuotedScalarString):
        return SingleQuotedScalarString(value)
    if _needs_quotes(value):
        return DoubleQuotedScalarString(value)
    return PlainScalarString(value) if isinstance(like, PlainScalarString) else value


def quoted(value: str) -> str:
    return DoubleQuotedScalarString(value)


def _needs_quotes(value: str) -> bool:
    return bool(_RESOLVER.resolve(pyyaml.ScalarNode, value, (True, False)) != _STR_TAG)


def flow_map(items: Iterable[tuple[str, Any]]) -> CommentedMap:
    cmap = CommentedMap()
    for key, value in items:
        cmap[key] = value
    cmap.fa.set_flow_style()
    return cmap


def block_map(items: Iterable[tuple[str, Any]]) -> CommentedMap:
    cmap = CommentedMap()
    for key, value in items:
        cmap[key] = value
    cmap.fa.set_block_style()
    return cmap


def flow_seq(values: Iterable[Any]) -> CommentedSeq:
    seq = CommentedSeq(list(values))
    seq.fa.set_flow_style()
    return seq


def like_siblings(entry: CommentedMap, siblings: Sequence[Any]) -> CommentedMap:
    """Write a new list entry in the style of the entries already there (flow by default)."""
    last = next((s for s in reversed(siblings) if isinstance(s, CommentedMap)), None)
    if last is not None and not last.fa.flow_style():
        entry.fa.set_block_style()
    else:
        entry.fa.set_flow_style()
    return entry


def set_key(mapping: CommentedMap, key: str, value: Any, order: Sequence[str]) -> None:
    """Set `key`, keeping its place when it exists; a new key goes where `order` puts it."""
    if key in mapping:
        mapping[key] = value
        return
    rank = {name: i for i, name in enumerate(order)}
    position = len(mapping)
    if key in rank:
        for i, existing in enumerate(mapping):
            if rank.get(existing, -1) > rank[key]:
                position = i
                break
    mapping.insert(position, key, value)


def remove_key(mapping: CommentedMap, key: str) -> bool:
    if key not in mapping:
        return False
    del mapping[key]
    return True


def delete_item(seq: CommentedSeq, index: int) -> None:
    """Delete a list entry and keep the comments that belong to its neighbours.

    Full-line comments above it (a heading such as `# Disponível`) move to the entry below;
    blank lines and comments below it, which ruamel keeps on its last key (a heading of the
    next group), stay where they were, now after the entry above.
    """
    before = seq.ca.items.get(index, [None, None])[1] if index in seq.ca.items else None
    trailing = _trailing_lines(seq[index])
    del seq[index]
    if before and index < len(seq):
        slot = seq.ca.items.setdefault(index, [None, None, None, None])
        slot[1] = [*before, *(slot[1] or [])]
    if trailing is not None and index > 0:
        _append_trailing(seq[index - 1], trailing)


def _trailing_lines(entry: Any) -> Any:
    """The comment token after a block mapping entry, without its own end-of-line comment."""
    if not isinstance(entry, CommentedMap) or entry.fa.flow_style() or not entry:
        return None
    last = list(entry)[-1]
    slot = entry.ca.items.get(last)
    token = slot[2] if slot and len(slot) > 2 else None
    if token is None or isinstance(entry[last], (CommentedMap, CommentedSeq)):
        return None
    value = str(token.value)
    rest = value if value.startswith("\n") else value[value.find("\n") :] if "\n" in value else ""
    if not rest.strip():
        return None
    moved = copy.copy(token)
    moved.value = rest
    return moved


def _append_trailing(entry: Any, token: Any) -> None:
    if not isinstance(entry, CommentedMap) or entry.fa.flow_style() or not entry:
        return
    last = list(entry)[-1]
    if isinstance(entry[last], (CommentedMap, CommentedSeq)):
        return
    slot = entry.ca.items.setdefault(last, [None, None, None, None])
    if slot[2] is None:
        slot[2] = token
    else:
        slot[2].value = str(slot[2].value) + str(token.value).lstrip("\n")


def plain(value: Any) -> Any:
    """ruamel's scalar subclasses and dates as plain Python values (for comparisons)."""
    if isinstance(value, Mapping):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dt.date):
        return value
    return str(value)
