"""The dialplan of `extensions.conf` as pbx_config loads it: contexts, extensions, priorities, labels.

Loading follows pbx/pbx_config.c (`exten =>` and `same =>`, priorities `n`, `n(label)`, `s`,
numbers, `label+1`, `hint`, caller-ID matches `exten => 100/2001,...`, `include =>`, the
`[globals]` and `[general]` sections, contexts defined in several places merged into one).
Lookups follow main/pbx.c `pbx_find_extension` with the default (not `extenpatternmatchnew`)
algorithm: a context's extensions in `ext_cmp` order, the first that matches *and has the
wanted priority* wins, then the included contexts in order, depth first, each context once.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pabx.dialplan.config import Config, Option
from pabx.dialplan.expr import substitute_globals
from pabx.dialplan.pattern import (
    Match,
    MatchMode,
    compare_extensions,
    extension_sort_key,
    match_extension,
    normalize_extension,
)
from pabx.errors import Problem

HINT = -1
MAX_INCLUDE_STACK = 128  # AST_PBX_MAX_STACK


@dataclass(frozen=True)
class Priority:
    """One dialplan step: `exten => 2001,n(dial),Dial(PJSIP/acme_2001,30)`."""

    context: str
    extension: str
    number: int
    label: str | None
    app: str
    data: str
    file: Path
    line: int


@dataclass
class Extension:
    """All priorities of one extension name (or pattern) in one context."""

    name: str
    exten: str
    cidmatch: str | None
    file: Path
    line: int
    priorities: dict[int, Priority] = field(default_factory=dict)

    def label(self, label: str) -> Priority | None:
        for priority in self.priorities.values():
            if priority.label == label:
                return priority
        return None

    @property
    def hint(self) -> Priority | None:
        return self.priorities.get(HINT)

    def sort_key(self) -> tuple[object, ...]:
        # pbx.c inserts an extension with a caller-ID match before the same one without.
        cid = (1, ()) if self.cidmatch is None else (0, extension_sort_key(self.cidmatch))
        return (extension_sort_key(self.exten), cid)


@dataclass(frozen=True)
class Include:
    context: str
    condition: str | None
    file: Path
    line: int


@dataclass
class Context:
    name: str
    file: Path
    line: int
    extensions: list[Extension] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)
    ignore_patterns: list[str] = field(default_factory=list)
    switches: list[str] = field(default_factory=list)

    def extension(self, name: str, cidmatch: str | None = None) -> Extension | None:
        """The extension defined with exactly this name (compared as Asterisk compares names)."""
        for extension in self.extensions:
            if (
                compare_extensions(extension.exten, normalize_extension(name)) == 0
                and extension.cidmatch == cidmatch
            ):
                return extension
        return None


@dataclass(frozen=True)
class Found:
    """Where a lookup landed: the context that holds the extension, the extension and priority."""

    context: Context
    extension: Extension
    priority: Priority


@dataclass
class Dialplan:
    contexts: dict[str, Context] = field(default_factory=dict)
    globals: dict[str, str] = field(default_factory=dict)
    autofallthrough: bool = True
    problems: list[Problem] = field(default_factory=list)

    def context(self, name: str) -> Context | None:
        return self.contexts.get(name)

    def _search(self, context: str, visited: list[str]) -> Iterator[Context]:
        """Contexts in the order pbx_find_extension searches them, each once."""
        if context in visited or len(visited) >= MAX_INCLUDE_STACK:
            return
        found = self.contexts.get(context)
        if found is None:
            return
        visited.append(context)
        yield found
        for include in found.includes:
            yield from self._search(include.context, visited)

    def find(
        self,
        context: str,
        exten: str,
        priority: int = 1,
        *,
        callerid: str | None = None,
        label: str | None = None,
    ) -> Found | None:
        """The priority Asterisk runs for `exten` at `priority` (or at `label`) from `context`."""
        for candidate in self._search(context, []):
            for extension in candidate.extensions:
                if match_extension(extension.exten, exten, MatchMode.MATCH) is Match.NONE:
                    continue
                if not _cid_matches(extension.cidmatch, callerid):
                    continue
                step = extension.label(label) if label is not None else extension.priorities.get(priority)
                if step is not None:
                    return Found(candidate, extension, step)
        return None

    def exists(self, context: str, exten: str, priority: int = 1, *, callerid: str | None = None) -> bool:
        return self.find(context, exten, priority, callerid=callerid) is not None

    def find_label(self, context: str, exten: str, label: str, *, callerid: str | None = None) -> int | None:
        found = self.find(context, exten, callerid=callerid, label=label)
        return found.priority.number if found else None

    def _close(self, context: str, exten: str, mode: MatchMode, callerid: str | None) -> bool:
        for candidate in self._search(context, []):
            for extension in candidate.extensions:
                result = match_extension(extension.exten, exten, mode)
                if result is Match.NONE or not _cid_matches(extension.cidmatch, callerid):
                    continue
                if result is Match.EARLY and mode is MatchMode.MATCHMORE:
                    return False
                if 1 in extension.priorities:
                    return True
        return False

    def can_match(self, context: str, exten: str, *, callerid: str | None = None) -> bool:
        """Could `exten`, as dialed so far, be or become an extension here (ast_canmatch_extension)?"""
        return self._close(context, exten, MatchMode.CANMATCH, callerid)

    def match_more(self, context: str, exten: str, *, callerid: str | None = None) -> bool:
        """Could more digits still match (ast_matchmore_extension)?"""
        return self._close(context, exten, MatchMode.MATCHMORE, callerid)

    def matching_extensions(self, context: str, exten: str) -> list[tuple[str, Extension]]:
        """Every (context, extension) whose name matches `exten`, in the order they are tried."""
        return [
            (candidate.name, extension)
            for candidate in self._search(context, [])
            for extension in candidate.extensions
            if match_extension(extension.exten, exten, MatchMode.MATCH) is not Match.NONE
        ]


def _cid_matches(cidmatch: str | None, callerid: str | None) -> bool:
    if cidmatch is None:
        return True
    if not callerid:
        return not cidmatch
    return match_extension(cidmatch, callerid, MatchMode.MATCH) is not Match.NONE


def _shrink_phone_number(number: str) -> str:
    """ast_shrink_phone_number: drop ( ) . - and spaces unless the number is a pattern."""
    if number.startswith("_"):
        return number
    return "".join(char for char in number if char not in "()-. ")


def _split_outside_brackets(text: str, delimiter: str = ",") -> tuple[str, str | None]:
    """pbx_strsep: the text before the first delimiter that is not inside [...] (backslash escapes)."""
    depth = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char == "[":
            depth += 1
        elif char == "]":
            if depth:
                depth -= 1
        elif char == "\\":
            index += 1
        elif char == delimiter and not depth:
            return text[:index], text[index + 1 :]
        index += 1
    return text, None


@dataclass
class _Loader:
    dialplan: Dialplan
    general: dict[str, str] = field(default_factory=dict)

    def problem(self, option: Option | None, message: str, rule: str, *, file: Path | None = None) -> None:
        path = option.file if option else file
        self.dialplan.problems.append(
            Problem(
                path=str(path) if path else "",
                line=option.line if option else 0,
                column=1,
                field="",
                message=message,
                rule=rule,
            )
        )


def load_dialplan(config: Config) -> Dialplan:
    """Build the dialplan Asterisk would load from a parsed `extensions.conf`.

    Problems Asterisk would log while loading (an invalid priority, a duplicate priority, `same`
    or `n` with nothing before it, an include of a context that does not exist) are collected
    in `Dialplan.problems`, after the configuration's own problems.
    """
    dialplan = Dialplan()
    dialplan.problems.extend(config.problems)
    loader = _Loader(dialplan)
    for section in config.concrete_sections():
        if section.name.lower() == "general":
            for option in section.options:
                loader.general[option.name.lower()] = option.value
        elif section.name.lower() == "globals":
            for option in section.options:
                dialplan.globals[option.name] = option.value
    if "autofallthrough" in loader.general:
        dialplan.autofallthrough = loader.general["autofallthrough"].strip().lower() in (
            "yes",
            "true",
            "y",
            "t",
            "1",
            "on",
        )
    for section in config.concrete_sections():
        if section.name.lower() in ("general", "globals"):
            continue
        context = dialplan.contexts.get(section.name)
        if context is None:
            context = Context(section.name, section.file, section.line)
            dialplan.contexts[section.name] = context
        _load_context(loader, context, section.options)
    for context in dialplan.contexts.values():
        for include in context.includes:
            if include.context not in dialplan.contexts:
                loader.dialplan.problems.append(
                    Problem(
                        path=str(include.file),
                        line=include.line,
                        column=1,
                        field="",
                        message=f"context '{context.name}' includes '{include.context}', which does not exist",
                        rule="dialplan.include-missing",
                    )
                )
    return dialplan


def _load_context(loader: _Loader, context: Context, options: list[Option]) -> None:
    last_extension = ""
    last_priority = -2
    for option in options:
        name = option.name.lower()
        if name.startswith("same"):
            if not last_extension:
                loader.problem(
                    option, f"'same' with no extension before it in [{context.name}]", "dialplan.same"
                )
                continue
            extension_name = last_extension
            rest: str | None = option.value
        elif name == "exten":
            extension_name, rest = _split_outside_brackets(option.value)
            extension_name = _substitute_globals(extension_name, loader.dialplan.globals)
            last_extension = extension_name
        elif name == "include":
            target, _, condition = option.value.partition(",")
            context.includes.append(
                Include(target.strip(), condition.strip() or None, option.file, option.line)
            )
            continue
        elif name == "ignorepat":
            context.ignore_patterns.append(option.value)
            continue
        elif name in ("switch", "lswitch", "eswitch"):
            context.switches.append(option.value)
            continue
        else:
            loader.problem(
                option, f"'{option.name}' is not a dialplan keyword (Asterisk ignores it)", "dialplan.keyword"
            )
            continue
        last_priority = _add_priority(loader, context, option, extension_name, rest, last_priority)


def _substitute_globals(text: str, globals_: dict[str, str]) -> str:
    return substitute_globals(text, globals_) if "$" in text else text


def _add_priority(
    loader: _Loader,
    context: Context,
    option: Option,
    extension_name: str,
    rest: str | None,
    last_priority: int,
) -> int:
    cidmatch: str | None = None
    if "/" in extension_name:
        extension_name, cidmatch = extension_name.split("/", 1)
        cidmatch = _shrink_phone_number(cidmatch)
    priority_text, _, app_text = (rest or "").partition(",")
    has_app = rest is not None and "," in rest
    priority_text = priority_text.strip()
    label: str | None = None
    if "(" in priority_text:
        priority_text, _, label_text = priority_text.partition("(")
        if ")" not in label_text:
            loader.problem(option, "label is missing its closing ')'", "dialplan.priority")
            return last_priority
        label = label_text[: label_text.index(")")] or None
    offset = 0
    if "+" in priority_text:
        priority_text, _, plus = priority_text.partition("+")
        offset = _atoi(plus)
    extension_name = _without_spaces(extension_name)
    normalized = normalize_extension(extension_name)
    if priority_text == "hint":
        number = HINT
    elif priority_text in ("n", "next"):
        if last_priority <= -2:
            loader.problem(option, "'n' priority with no priority before it", "dialplan.priority")
            return last_priority
        number = last_priority + 1
    elif priority_text in ("s", "same"):
        if last_priority <= -2:
            loader.problem(option, "'s' priority with no priority before it", "dialplan.priority")
            return last_priority
        number = last_priority
    elif _leading_int(priority_text) is not None:
        number = _leading_int(priority_text) or 0
        if number < 1:
            loader.problem(option, f"invalid priority '{priority_text}'", "dialplan.priority")
            return last_priority
    else:
        existing = context.extension(normalized, cidmatch)
        labelled = existing.label(priority_text) if existing else None
        if labelled is None:
            loader.problem(
                option, f"invalid priority or unknown label '{priority_text}'", "dialplan.priority"
            )
            return last_priority
        number = labelled.number
    app, data = _split_application(app_text if has_app else "")
    if "(" in app_text and ")" not in app_text.partition("(")[2] and "$" not in app_text.partition("(")[0]:
        loader.problem(option, f"no closing parenthesis in '{app_text}'", "dialplan.parenthesis")
    number += offset
    if not normalized:
        loader.problem(option, "extension has no name", "dialplan.extension")
        return number
    step = Priority(context.name, extension_name, number, label, app, data, option.file, option.line)
    extension = context.extension(normalized, cidmatch)
    if extension is None:
        extension = Extension(extension_name, normalized, cidmatch, option.file, option.line)
        keys = [existing.sort_key() for existing in context.extensions]
        context.extensions.insert(bisect.bisect_right(keys, extension.sort_key()), extension)
    if number in extension.priorities:
        previous = extension.priorities[number]
        loader.problem(
            option,
            f"priority {number} of '{extension_name}' in [{context.name}] is already defined at "
            f"{previous.file}:{previous.line} (Asterisk keeps the first)",
            "dialplan.duplicate-priority",
        )
        return number
    if label is not None and extension.label(label) is not None:
        loader.problem(
            option,
            f"label '{label}' appears twice in '{extension_name}' of [{context.name}]",
            "dialplan.duplicate-label",
        )
    extension.priorities[number] = step
    return number


def _without_spaces(name: str) -> str:
    """ext_strncpy drops spaces from a name, except inside a pattern's [...]."""
    if " " not in name:
        return name
    out: list[str] = []
    in_set = False
    for char in name:
        if char == "[" and name.startswith("_"):
            in_set = True
        elif char == "]":
            in_set = False
        elif char == " " and not in_set:
            continue
        out.append(char)
    return "".join(out)


def _leading_int(text: str) -> int | None:
    """sscanf("%d"): an optional sign and digits at the start, after blanks."""
    stripped = text.lstrip()
    index = 0
    if index < len(stripped) and stripped[index] in "+-":
        index += 1
    start = index
    while index < len(stripped) and stripped[index].isdigit():
        index += 1
    if index == start:
        return None
    return int(stripped[:index])


def _atoi(text: str) -> int:
    return _leading_int(text) or 0


def _split_application(text: str) -> tuple[str, str]:
    """`Dial(PJSIP/x,30)` → ("Dial", "PJSIP/x,30"): the data runs to the last ')'."""
    if "(" not in text:
        return text.strip(), ""
    app, _, data = text.partition("(")
    if "${" in app or "$[" in app:
        return text.strip(), ""
    closing = data.rfind(")")
    if closing >= 0:
        data = data[:closing]
    return app.strip(), data
