"""YAML reading that keeps file, line and column for every node.

Mappings load as `YMap` and sequences as `YList`: plain dict and list subclasses that also
remember where each key and value stood, so any later error (schema or cross-file rule) can
point at the exact line. Duplicate keys are problems (PyYAML silently keeps the last one) and
syntax errors are user errors with their position.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError
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


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
# keys that make flatten_mapping do something (merge `<<`, and `=`); without them it is a no-op
_SPECIAL_KEYS = frozenset(("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"))


def _implicit_table(resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]]) -> dict[str, Any]:
    """First character -> the implicit resolvers to try, in order (wildcards appended, as PyYAML does)."""
    wildcard = list(resolvers.get(None, []))
    return {ch: tuple([*found, *wildcard]) for ch, found in resolvers.items() if ch is not None}


class _PositionLoader(_BaseLoader):
    """Safe loader that builds YMap/YList and records duplicate keys instead of overwriting.

    The common nodes (plain and quoted strings, ints, booleans, nulls, mappings, sequences) are
    built by a direct recursion instead of PyYAML's generic `construct_object` dispatch, and
    scalars are resolved from a per-first-character table: the result is the same, several
    times faster on big repositories. Any other tag (timestamps, `!!set`, `!!binary`, merge
    keys…) goes through PyYAML's own machinery.
    """

    _implicit = _implicit_table(yaml.resolver.Resolver.yaml_implicit_resolvers)
    _wildcard = tuple(yaml.resolver.Resolver.yaml_implicit_resolvers.get(None, []))

    def __init__(self, stream: str, path: str) -> None:
        super().__init__(stream)
        self.path = path
        self.duplicates: list[Problem] = []
        self.dup_sites: list[tuple[YMap, Any, Pos]] = []
        self.keys: set[str] = set()

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # Called by the C composer for every node: the same answer as BaseResolver.resolve
        # (SafeLoader has no path resolvers), without rebuilding the candidate list each time.
        if kind is ScalarNode and not self.yaml_path_resolvers:
            if implicit[0]:
                for tag, regexp in self._implicit.get(value[:1], self._wildcard):
                    if regexp.match(value):
                        return tag
            return _STR
        return super().resolve(kind, value, implicit)

    def construct_document(self, node: Node) -> Any:
        data = self._build(node)
        while self.state_generators:  # as BaseConstructor.construct_document
            pending: list[Iterator[Any]] = self.state_generators
            self.state_generators: list[Iterator[Any]] = []
            for generator in pending:
                for _ in generator:
                    pass
        self.constructed_objects: dict[Node, Any] = {}
        self.recursive_objects: dict[Node, None] = {}
        self.deep_construct = False
        return data

    def _build(self, node: Node) -> Any:
        cls = node.__class__
        tag = node.tag
        if cls is ScalarNode:
            if tag == _STR:
                return node.value
            if tag == _INT and node.value.isascii() and node.value.isdigit() and node.value[0] != "0":
                return int(node.value)
            if tag == _BOOL:
                return self.bool_values[node.value.lower()]
            if tag == _NULL:
                return None
            return self.construct_object(node, deep=True)
        if node in self.constructed_objects:  # an alias of a node already built
            return self.constructed_objects[node]
        if tag == _MAP and cls is MappingNode:
            build: Any = self._build_map
        elif tag == _SEQ and cls is SequenceNode:
            build = self._build_seq
        else:
            return self.construct_object(node, deep=True)
        if node in self.recursive_objects:
            raise ConstructorError(None, None, "found unconstructable recursive node", node.start_mark)
        self.recursive_objects[node] = None
        data = build(node)
        self.constructed_objects[node] = data
        del self.recursive_objects[node]
        return data

    def _build_map(self, node: MappingNode) -> YMap:
        result = YMap()
        mark = node.start_mark
        result.pos = (mark.line + 1, mark.column + 1)
        if any(key_node.tag in _SPECIAL_KEYS for key_node, _ in node.value):
            self.flatten_mapping(node)
        key_pos = result.key_pos
        val_pos = result.val_pos
        keys = self.keys
        for key_node, value_node in node.value:
            if key_node.__class__ is ScalarNode and key_node.tag == _STR:
                key = key_node.value
                keys.add(key)
            else:
                key = self._build(key_node)
                try:
                    hash(key)
                except TypeError:
                    self.duplicates.append(
                        Problem(
                            self.path,
                            *_mark(key_node),
                            "",
                            "a mapping key must be a plain value",
                            "yaml-syntax",
                        )
                    )
                    continue
                if isinstance(key, str):
                    keys.add(key)
            if key in result:
                self.dup_sites.append((result, key, _mark(key_node)))
                continue
            if value_node.__class__ is ScalarNode and value_node.tag == _STR:
                result[key] = value_node.value
            else:
                result[key] = self._build(value_node)
            mark = key_node.start_mark
            key_pos[key] = (mark.line + 1, mark.column + 1)
            mark = value_node.start_mark
            val_pos[key] = (mark.line + 1, mark.column + 1)
        return result

    def _build_seq(self, node: SequenceNode) -> YList:
        result = YList()
        mark = node.start_mark
        result.pos = (mark.line + 1, mark.column + 1)
        append = result.append
        append_pos = result.item_pos.append
        for item in node.value:
            if item.__class__ is ScalarNode and item.tag == _STR:
                append(item.value)
            else:
                append(self._build(item))
            mark = item.start_mark
            append_pos((mark.line + 1, mark.column + 1))
        return result

    # The registered constructors, for nodes PyYAML's own machinery builds (inside a !!set, …)
    def construct_ymap(self, node: MappingNode) -> YMap:
        return self._build_map(node)

    def construct_ylist(self, node: SequenceNode) -> YList:
        return self._build_seq(node)

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


@dataclass(frozen=True)
class Parsed:
    """One parsed document: its positioned data, its duplicate-key problems, every text key in it."""

    data: Any
    problems: list[Problem]
    keys: frozenset[str]


def parse(text: str, path: str) -> tuple[Any, list[Problem]]:
    """Parse one YAML document; return the data and the duplicate-key problems found.

    Raises YamlSyntaxError (with file, line and column) when the text is not valid YAML.
    """
    parsed = parse_document(text, path)
    return parsed.data, parsed.problems


def parse_document(text: str, path: str) -> Parsed:
    """`parse`, also returning the set of text keys (lets a rule skip files without parsing again)."""
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
    problems = [*loader.duplicates, *_duplicate_problems(path, data, loader.dup_sites)]
    return Parsed(data, problems, frozenset(loader.keys))


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
