"""YAML reading that keeps file, line and column for every node.

Mappings load as `YMap` and sequences as `YList`: plain dict and list subclasses that also
remember where each key and value stood, so any later error (schema or cross-file rule) can
point at the exact line. Duplicate keys are problems (PyYAML silently keeps the last one) and
syntax errors are user errors with their position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pabx.errors import Problem

try:  # the C parser is several times faster; the pure-Python one is a fine fallback
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader

Pos = tuple[int, int]


class YMap(dict[Any, Any]):
    """A mapping that remembers its own position and those of its keys and values."""

    __slots__ = ("key_pos", "pos", "val_pos")

    def __init__(self) -> None:
        super().__init__()
        self.pos: Pos = (1, 1)
        self.key_pos: dict[Any, Pos] = {}
        self.val_pos: dict[Any, Pos] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_map, (dict(self), self.pos, self.key_pos, self.val_pos))


class YList(list[Any]):
    """A sequence that remembers its own position and those of its items."""

    __slots__ = ("item_pos", "pos")

    def __init__(self) -> None:
        super().__init__()
        self.pos: Pos = (1, 1)
        self.item_pos: list[Pos] = []

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_list, (list(self), self.pos, self.item_pos))


def _rebuild_map(items: dict[Any, Any], pos: Pos, key_pos: dict[Any, Pos], val_pos: dict[Any, Pos]) -> YMap:
    m = YMap()
    m.update(items)
    m.pos, m.key_pos, m.val_pos = pos, key_pos, val_pos
    return m


def _rebuild_list(items: list[Any], pos: Pos, item_pos: list[Pos]) -> YList:
    seq = YList()
    seq.extend(items)
    seq.pos, seq.item_pos = pos, item_pos
    return seq


def _mark(node: Node) -> Pos:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _PositionLoader(_BaseLoader):
    """Safe loader that builds YMap/YList and records duplicate keys instead of overwriting."""

    def __init__(self, stream: str, path: str) -> None:
        super().__init__(stream)
        self.path = path
        self.duplicates: list[Problem] = []
        self.dup_sites: list[tuple[YMap, Any, Pos]] = []

    def construct_ymap(self, node: MappingNode) -> YMap:
        result = YMap()
        result.pos = _mark(node)
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                self.duplicates.append(
                    Problem(
                        self.path, *_mark(key_node), "", "a mapping key must be a plain value", "yaml-syntax"
                    )
                )
                continue
            if key in result:
                self.dup_sites.append((result, key, _mark(key_node)))
                continue
            result[key] = self.construct_object(value_node, deep=True)
            result.key_pos[key] = _mark(key_node)
            result.val_pos[key] = _mark(value_node)
        return result

    def construct_ylist(self, node: SequenceNode) -> YList:
        result = YList()
        result.pos = _mark(node)
        for item in node.value:
            result.append(self.construct_object(item, deep=True))
            result.item_pos.append(_mark(item))
        return result

    def construct_date(self, node: ScalarNode) -> Any:
        # PyYAML raises a bare ValueError (a traceback) for 2026-02-30; keep the text instead,
        # so the model reports an invalid date at the field, with its position
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return node.value


_PositionLoader.add_constructor("tag:yaml.org,2002:timestamp", _PositionLoader.construct_date)
_PositionLoader.add_constructor("tag:yaml.org,2002:map", _PositionLoader.construct_ymap)
_PositionLoader.add_constructor("tag:yaml.org,2002:seq", _PositionLoader.construct_ylist)
_PositionLoader.add_constructor("tag:yaml.org,2002:omap", _PositionLoader.construct_ymap)


class YamlSyntaxError(Exception):
    """The text is not YAML; carries the positioned problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def parse(text: str, path: str) -> tuple[Any, list[Problem]]:
    """Parse one YAML document; return the data and the duplicate-key problems found.

    Raises YamlSyntaxError (with file, line and column) when the text is not valid YAML.
    """
    loader = _PositionLoader(text, path)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        context = exc.context
        if context and exc.context_mark and exc.context_mark.line + 1 != line:
            # an unclosed quote or bracket is where the construct started, not where parsing gave up
            context += f" started at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1},"
        message = " ".join(part for part in (context, exc.problem) if part) or "invalid YAML"
        lines = text.splitlines()
        if 0 < line <= len(lines) and lines[line - 1][col - 1 : col] == "\t":
            message += " (a tab: YAML indentation must use spaces)"
        raise YamlSyntaxError(Problem(path, line, col, "", message, "yaml-syntax")) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(Problem(path, 1, 1, "", str(exc), "yaml-syntax")) from None
    finally:
        loader.dispose()
    return data, [*loader.duplicates, *_duplicate_problems(path, data, loader.dup_sites)]


def _duplicate_problems(path: str, data: Any, sites: list[tuple[YMap, Any, Pos]]) -> list[Problem]:
    """Name each duplicate key by its full field path (found once the whole tree exists)."""
    if not sites:
        return []
    paths: dict[int, list[Any]] = {}

    def walk(node: Any, here: list[Any]) -> None:
        if isinstance(node, YMap):
            paths[id(node)] = here
            for k, v in node.items():
                walk(v, [*here, k])
        elif isinstance(node, YList):
            for i, v in enumerate(node):
                walk(v, [*here, i])

    walk(data, [])
    problems = []
    for mapping, key, (line, col) in sites:
        first = mapping.key_pos[key][0]
        label = field_label(data, [*paths.get(id(mapping), []), key])
        message = f"duplicate key (first defined at line {first}); YAML would silently keep only the last"
        problems.append(Problem(path, line, col, label, message, "duplicate-key"))
    return problems


def locate(data: Any, loc: Sequence[Any], *, key: bool = False) -> Pos:
    """Position of the node at `loc` inside `data`.

    With key=True, a mapping entry points at its key instead of its value (for unknown keys).
    When `loc` goes past what exists (a missing key), the deepest existing container is used,
    so a missing field points at the mapping that lacks it.
    """
    node = data
    pos: Pos = getattr(data, "pos", (1, 1))
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, YMap):
            if part not in node:
                alt = _alternate_key(node, part)
                if alt is None:
                    return pos
                part = alt
            pos = node.key_pos[part] if (key and last) else node.val_pos[part]
            node = node[part]
        elif isinstance(node, YList) and isinstance(part, int) and 0 <= part < len(node):
            pos = node.item_pos[part]
            node = node[part]
        else:
            return pos
        inner = getattr(node, "pos", None)
        if inner is not None and not (key and last):
            pos = inner
    return pos


def _alternate_key(node: YMap, part: Any) -> Any:
    """Pydantic reports dict keys as strings; YAML may have read them as ints or bools."""
    for candidate in node:
        if str(candidate) == str(part):
            return candidate
    return None


def field_label(data: Any, loc: Sequence[Any]) -> str:
    """Name a location by meaning, not index: `extensions[number=1002].email`.

    List items that carry a `number` (extensions, queues, IVRs, DIDs) or a `name` are named by
    it; other list items keep their index.
    """
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list):
            item = node[part] if 0 <= part < len(node) else None
            if isinstance(item, dict) and "number" in item and _is_scalar(item["number"]):
                out += f"[number={item['number']}]"
            elif isinstance(item, dict) and "name" in item and _is_scalar(item["name"]):
                out += f"[name={item['name']}]"
            else:
                out += f"[{part}]"
            node = item
        else:
            out += f".{part}" if out else str(part)
            if isinstance(node, dict):
                real = (
                    part if part in node else _alternate_key(node, part) if isinstance(node, YMap) else None
                )
                node = node.get(real) if real is not None else None
            else:
                node = None
    return out


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)
