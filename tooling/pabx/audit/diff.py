"""Field-level changes of one commit: the entities its data files held before and after, compared.

Entities are compared across all the files a commit changed, so a number that left
numbers/11.yaml and appeared in numbers/21.yaml is one entity that moved, and a tenant file
renamed (git's rename detection, or a deleted and an added tenant file with the same ID) is one
tenant renamed. For a merge only what differs from every parent counts: the changes a merge
brings in belong to the commits that made them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pabx.audit import parts
from pabx.audit.fields import (
    FILE,
    HOSTS_FILE,
    NUMBER,
    TENANT,
    USERS_FILE,
    Entity,
    Fields,
    default_of,
    display,
    flatten,
    inventory_entities,
    is_number_file,
    is_secret_key,
    item_key,
    number_fields,
    single_entity,
    user_entities,
)
from pabx.audit.gitlog import BlobReader, FileChange, RawCommit

CREATED = "created"
CHANGED = "changed"
DELETED = "deleted"
RENAMED = "renamed"
MOVED = "moved"
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Change:
    """One field of one entity changed by a commit (field "" for what happens to the entity)."""

    path: str
    entity: Entity
    field: str
    action: str
    before: str | None
    after: str | None


Side = dict[Entity, tuple[str, Fields]]


def _values(doc: parts.Document) -> list[Any]:
    return [part.value for part in doc.parts]


def _entities(path: str, shape: str | None, values: Sequence[Any]) -> dict[Entity, Fields]:
    """The entities held by these part values of the file at `path`."""
    single = single_entity(path)
    if single is not None:
        fields: Fields = {}
        if shape == parts.MAP:
            for key, value in values:
                flatten({key: value}, "", fields)
        elif values:
            flatten(list(values), "value", fields)  # a file that should be a mapping holds a list
        return {single: fields}
    if is_number_file(path) and shape == parts.SEQ:
        out: dict[Entity, Fields] = {}
        for item in values:
            key, fields = number_fields(item)
            out[Entity(NUMBER, key)] = fields
        return out
    if not values:
        return {}  # an empty file holds nothing
    data: Any = dict(values) if shape == parts.MAP else list(values)
    if path == USERS_FILE and isinstance(data, dict):
        found = user_entities(data.get("users"))
        rest = {k: v for k, v in data.items() if k != "users"}
        if rest:
            found[Entity(FILE, path)] = flatten(rest)
        return found
    if path == HOSTS_FILE and isinstance(data, dict):
        return inventory_entities(path, data)
    return {Entity(FILE, path): flatten(data) if isinstance(data, dict) else flatten(data, "value")}


def extract(path: str, text: str) -> dict[Entity, Fields]:
    """Every entity of one file's text, with all its fields (parsed whole: one parse is cheaper
    than one per part when every part is needed). Raises parts.Unreadable."""
    doc = parts.whole(text, path)
    return _entities(path, doc.shape, _values(doc))


def _changed_values(old: str, new: str) -> tuple[str, list[Any], list[Any]] | None:
    """(shape, values of the parts only the old text has, values of those only the new has), or
    None when the two versions cannot be compared part by part (then compare whole)."""
    found = parts.changed_parts(old, new)
    if found is None:
        return None
    shape, removed, added = found
    try:
        return shape, _values_of(removed, shape), _values_of(added, shape)
    except parts.NotSplittable:
        return None


def _values_of(texts: list[str], shape: str) -> list[Any]:
    return [parts.Part(text, shape).value for text in texts]


class _Leaves:
    """The leaves of two versions of an entity that differ, flattened, and which list items
    exist on each side (a field left out of an existing item takes its default)."""

    def __init__(self) -> None:
        self.old: Fields = {}
        self.new: Fields = {}
        self.old_items: set[str] = set()
        self.new_items: set[str] = set()

    def walk(self, old: Any, new: Any, prefix: str, secret: bool) -> None:
        if old == new:
            return
        if isinstance(old, dict) and isinstance(new, dict) and old and new:
            for key in dict.fromkeys([*old, *new]):
                name = f"{prefix}.{key}" if prefix else str(key)
                hidden = secret or is_secret_key(key)
                if key in old and key in new:
                    self.walk(old[key], new[key], name, hidden)
                elif key in old:
                    flatten(old[key], name, self.old, secret=hidden)
                else:
                    flatten(new[key], name, self.new, secret=hidden)
            return
        key_field = item_key(old) if isinstance(old, list) else None
        if key_field is not None and isinstance(new, list) and item_key(new) == key_field:
            olds = {display(item[key_field]): item for item in old}
            news = {display(item[key_field]): item for item in new}
            if len(olds) < len(old) or len(news) < len(new):  # a key twice: flattened as a whole
                flatten(old, prefix, self.old, secret=secret)
                flatten(new, prefix, self.new, secret=secret)
                return
            for key in dict.fromkeys([*olds, *news]):
                name = f"{prefix}[{key}]"
                a, b = olds.get(key), news.get(key)
                if a is not None:
                    self.old_items.add(name)
                if b is not None:
                    self.new_items.add(name)
                if a is not None and b is not None:
                    rest_a = {k: v for k, v in a.items() if k != key_field}
                    rest_b = {k: v for k, v in b.items() if k != key_field}
                    if rest_a and rest_b:
                        self.walk(rest_a, rest_b, name, secret)
                        continue
                if a is not None:
                    flatten([a], prefix, self.old, secret=secret)
                if b is not None:
                    flatten([b], prefix, self.new, secret=secret)
            return
        flatten(old, prefix, self.old, secret=secret)
        flatten(new, prefix, self.new, secret=secret)


def _single_changes(entity: Entity, path: str, before: list[Any], after: list[Any]) -> list[Change]:
    """The changes of one file-entity (a tenant, a route…) from the values of its changed keys."""
    leaves = _Leaves()
    old, new = dict(before), dict(after)
    for key in dict.fromkeys([*old, *new]):
        hidden = is_secret_key(key)
        if key in old and key in new:
            leaves.walk(old[key], new[key], str(key), hidden)
        elif key in old:
            flatten(old[key], str(key), leaves.old, secret=hidden)
        else:
            flatten(new[key], str(key), leaves.new, secret=hidden)
    old_items = leaves.old_items | _item_prefixes(leaves.old)
    new_items = leaves.new_items | _item_prefixes(leaves.new)
    return compare(entity, path, leaves.old, leaves.new, items=(old_items, new_items))


class _Collector:
    """The entities before and after one commit, gathered file by file."""

    def __init__(self) -> None:
        self.old: Side = {}
        self.new: Side = {}
        self.renames: list[tuple[Entity, Entity]] = []
        self.unreadable: list[Change] = []
        self.direct: list[Change] = []  # changes of file-entities compared key by key

    def put(self, side: Side, path: str, entities: dict[Entity, Fields]) -> None:
        for entity, fields in entities.items():
            if entity in side:  # the same entity in two files (a duplicate): keep both fields
                side[entity][1].update(fields)
            else:
                side[entity] = (path, fields)

    def read(self, path: str, text: str, *, new: bool) -> dict[Entity, Fields] | None:
        """The entities of one version of a file; None (and, for the new version, an
        `unreadable` change) when it is not YAML."""
        try:
            return extract(path, text)
        except parts.Unreadable as exc:
            if new:
                entity = single_entity(path) or Entity(FILE, path)
                self.unreadable.append(Change(path, entity, "", UNREADABLE, None, str(exc)[:300]))
            return None

    def whole(self, side: Side, path: str, text: str) -> bool:
        found = self.read(path, text, new=side is self.new)
        if found is not None:
            self.put(side, path, found)
        return found is not None

    def file(self, change: FileChange, blobs: BlobReader) -> None:
        old_text = blobs.text(change.old_blob) if change.old_blob and change.old_path else None
        new_text = blobs.text(change.new_blob) if change.new_blob else None
        self.texts(change.old_path or change.path, change.path, old_text, new_text)

    def texts(self, old_path: str, path: str, old_text: str | None, new_text: str | None) -> None:
        """One file's two versions (None: absent), under their paths before and after."""
        change = FileChange(path, old_path, None, None)
        if old_text is not None and new_text is not None and old_path == change.path:
            found = _changed_values(old_text, new_text)
            if found is not None:
                shape, before, after = found
                single = single_entity(change.path)
                if single is not None and shape == parts.MAP:
                    self.direct.extend(_single_changes(single, change.path, before, after))
                    return
                self.put(self.old, old_path, _entities(old_path, shape, before))
                self.put(self.new, change.path, _entities(change.path, shape, after))
                return
        old_found = self.read(old_path, old_text, new=False) if old_text is not None else None
        new_found = self.read(change.path, new_text, new=True) if new_text is not None else None
        if new_text is not None and new_found is None:
            return  # unreadable now: reported, and nothing is said about its entities
        if old_found is not None:
            self.put(self.old, old_path, old_found)
        if new_found is not None:
            self.put(self.new, change.path, new_found)
        if old_found is not None and new_found is not None and old_path != change.path:
            a, b = single_entity(old_path), single_entity(change.path)
            if a is not None and b is not None and a != b and a.kind == b.kind:
                self.renames.append((a, b))

    def pair_tenants_by_id(self) -> None:
        """A tenant file deleted and another added with the same ID: the tenant was renamed."""
        renamed_from = {a for a, _ in self.renames}
        renamed_to = {b for _, b in self.renames}
        gone = {
            fields.get("id"): entity
            for entity, (_, fields) in self.old.items()
            if entity.kind == TENANT and entity not in self.new and entity not in renamed_from
        }
        for entity, (_, fields) in self.new.items():
            if entity.kind != TENANT or entity in self.old or entity in renamed_to:
                continue
            previous = gone.pop(fields.get("id"), None) if fields.get("id") else None
            if previous is not None:
                self.renames.append((previous, entity))


def _item_prefixes(fields: Fields) -> set[str]:
    """`extensions[2001]` for every list item present in these fields."""
    found: set[str] = set()
    for name in fields:
        end = name.rfind("]")
        while end != -1:
            found.add(name[: end + 1])
            end = name.rfind("]", 0, end)
    return found


def _value(kind: str, fields: Fields, name: str, items: set[str]) -> str | None:
    found = fields.get(name)
    if found is not None:
        return found
    end = name.rfind("]")
    if end != -1 and name[: end + 1] not in items:
        return None  # the item itself is absent: its defaults do not apply
    return default_of(kind, name)


def compare(
    entity: Entity,
    path: str,
    old: Fields | None,
    new: Fields | None,
    *,
    items: tuple[set[str], set[str]] | None = None,
) -> list[Change]:
    """The changes from `old` to `new` fields of one entity (None: the entity does not exist).

    `items`: the list items (`extensions[2001]`) present on each side, when the fields given are
    only some of the entity's (otherwise read from the fields)."""
    if old is None and new is None:
        return []
    if old is None:
        assert new is not None
        return [Change(path, entity, "", CREATED, None, None)] + [
            Change(path, entity, name, CREATED, None, value) for name, value in new.items()
        ]
    if new is None:
        return [Change(path, entity, "", DELETED, None, None)] + [
            Change(path, entity, name, DELETED, value, None) for name, value in old.items()
        ]
    out: list[Change] = []
    old_items, new_items = items if items is not None else (_item_prefixes(old), _item_prefixes(new))
    for name in dict.fromkeys([*old, *new]):
        before = _value(entity.kind, old, name, old_items)
        after = _value(entity.kind, new, name, new_items)
        if before != after:
            out.append(Change(path, entity, name, CHANGED, before, after))
    return out


def commit_changes(commit: RawCommit, blobs: BlobReader) -> list[Change]:
    """Every field-level change of one commit, entity by entity."""
    if not commit.changes:
        return []
    if commit.is_merge:
        return _merge_changes(commit, blobs)
    collect = _Collector()
    for change in commit.changes:
        collect.file(change, blobs)
    return _finish(collect)


def diff_texts(path: str, old: str | None, new: str | None, *, whole: bool = False) -> list[Change]:
    """The changes between two versions of one file (None: absent). With `whole`, both are
    parsed whole and compared field by field: the slow way, that the fast one must equal."""
    collect = _Collector()
    if whole and old is not None and new is not None:
        old_found = collect.read(path, old, new=False)
        new_found = collect.read(path, new, new=True)
        if new_found is not None:
            if old_found is not None:
                collect.put(collect.old, path, old_found)
            collect.put(collect.new, path, new_found)
    else:
        collect.texts(path, path, old, new)
    return _finish(collect)


def _finish(collect: _Collector) -> list[Change]:
    collect.pair_tenants_by_id()
    out: list[Change] = [*collect.unreadable, *collect.direct]
    renamed_to = {new: old for old, new in collect.renames}
    renamed_away = set(renamed_to.values())
    for entity in sorted(collect.old.keys() | collect.new.keys()):
        new = collect.new.get(entity)
        if entity in renamed_away and new is None:
            continue  # reported under its new name
        if entity in renamed_to and new is not None:
            previous = renamed_to[entity]
            was = collect.old[previous]
            out.append(Change(new[0], entity, "", RENAMED, previous.key, entity.key))
            out.extend(compare(entity, new[0], was[1], new[1]))
            continue
        old: tuple[str, Fields] | None = collect.old.get(entity)
        if old is not None and new is not None and old[0] != new[0]:
            out.append(Change(new[0], entity, "", MOVED, old[0], new[0]))
        path = new[0] if new is not None else old[0] if old is not None else ""
        out.extend(compare(entity, path, old[1] if old else None, new[1] if new else None))
    return out


def _merge_changes(commit: RawCommit, blobs: BlobReader) -> list[Change]:
    """A merge's own changes: values the merge wrote that no parent had (conflict resolutions)."""
    sides: list[Side] = [{} for _ in commit.parents]
    result: Side = {}
    collect = _Collector()
    for file in commit.changes:
        for i, blob in enumerate(file.parents[: len(sides)]):
            if blob is not None:
                collect.whole(sides[i], file.path, blobs.text(blob))
        if file.new_blob is not None:
            collect.whole(result, file.path, blobs.text(file.new_blob))
    out: list[Change] = list(collect.unreadable)
    entities = set(result).union(*[set(side) for side in sides])
    for entity in sorted(entities):
        new = result.get(entity)
        olds = [side.get(entity) for side in sides]
        first = olds[0]
        path = new[0] if new else first[0] if first else next(o[0] for o in olds if o)
        if new is None:
            if all(o is not None for o in olds):
                out.extend(compare(entity, path, first[1] if first else None, None))
            continue
        if all(o is None for o in olds):
            out.extend(compare(entity, path, None, new[1]))
            continue
        for change in compare(entity, path, first[1] if first else None, new[1]):
            if change.field and all(
                o is None or change.after != _value(entity.kind, o[1], change.field, _item_prefixes(o[1]))
                for o in olds[1:]
            ):
                out.append(change)
    return out
