"""A faithful reader of Asterisk `.conf` files (main/config.c), keeping every option's file and line.

Asterisk's rules, reproduced: `[name]`, templates `[name](!)`, inheritance `[name](a,b)` (the
bases' options are copied in first, at the header), appends `[name](+)`, `key = value` versus
`key => value`, `key += more`, `;` comments with `\\;` escapes, nested `;-- --;` block comments,
`#include` / `#tryinclude` (relative paths resolve against the config directory, not against
the including file, and a glob may match several files). Anything Asterisk would reject or
silently ignore becomes a positioned `Problem`, never an exception.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from pabx.errors import Problem

IncludeResolver = Callable[[str, Path], Path]
"""Maps an `#include` argument and the file that holds it to the path to read (may be a glob)."""

TextReader = Callable[[Path], str]
"""Returns a file's text; raises OSError when it cannot be read."""

MAX_INCLUDE_DEPTH = 10  # Asterisk's default max include level
MAX_NESTED_COMMENTS = 128
GLOB_CHARS = frozenset("*?[{")


@dataclass(frozen=True)
class Option:
    """One `name = value` (or `name => value`) line, as Asterisk stores it."""

    name: str
    value: str
    is_object: bool
    file: Path
    line: int
    inherited_from: str | None = None

    @property
    def operator(self) -> str:
        return "=>" if self.is_object else "="


@dataclass
class Section:
    """A `[name]` category with its options in file order (inherited options first)."""

    name: str
    file: Path
    line: int
    is_template: bool = False
    bases: tuple[str, ...] = ()
    options: list[Option] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        """The last value given to `name` (a later line overrides an earlier one)."""
        value = None
        for option in self.options:
            if option.name == name:
                value = option.value
        return value

    def get_all(self, name: str) -> list[str]:
        return [option.value for option in self.options if option.name == name]

    @property
    def own_options(self) -> list[Option]:
        return [option for option in self.options if option.inherited_from is None]


@dataclass
class Config:
    """Every section of one configuration, in load order, with the problems found reading it."""

    sections: list[Section] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def sections_named(self, name: str) -> list[Section]:
        return [section for section in self.sections if section.name == name and not section.is_template]

    def section(self, name: str) -> Section | None:
        found = self.sections_named(name)
        return found[0] if found else None

    def concrete_sections(self) -> Iterator[Section]:
        """Sections that are not templates (what Asterisk modules browse)."""
        return (section for section in self.sections if not section.is_template)


def config_dir_resolver(config_dir: Path) -> IncludeResolver:
    """Asterisk's own rule: an absolute path as is, a relative one under the config directory."""

    def resolve(include: str, including_file: Path) -> Path:
        path = Path(include)
        return path if path.is_absolute() else config_dir / path

    return resolve


def prefix_resolver(config_dir: Path, prefixes: Mapping[str, Path]) -> IncludeResolver:
    """Like Asterisk, but an include starting with one of `prefixes` reads from a local directory.

    On a server `/etc/asterisk/pabx` is a symlink to the rendered release, and the rendered files
    say `#include "pabx/tenants/acme/extensions.conf"`; `prefix_resolver(build, {"pabx/": build})`
    reads that from `build/tenants/acme/extensions.conf` instead.
    """
    fallback = config_dir_resolver(config_dir)

    def resolve(include: str, including_file: Path) -> Path:
        for prefix, target in sorted(prefixes.items(), key=lambda item: -len(item[0])):
            if include.startswith(prefix):
                return target / include[len(prefix) :]
        return fallback(include, including_file)

    return resolve


def _read_file(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="surrogateescape")


def parse_config(
    path: Path,
    *,
    config_dir: Path | None = None,
    resolver: IncludeResolver | None = None,
    reader: TextReader | None = None,
) -> Config:
    """Read `path` and everything it includes, as Asterisk would load it.

    `config_dir` (default: the file's folder) is what relative includes resolve against unless
    a `resolver` is given; `reader` lets a caller parse files that only exist in memory.
    """
    parser = _Parser(
        resolver or config_dir_resolver(config_dir if config_dir is not None else path.parent),
        reader or _read_file,
    )
    parser.load_file(path, current=None, include_chain=(), from_include=None)
    return parser.config


def parse_config_text(
    text: str,
    *,
    name: str = "<text>",
    config_dir: Path | None = None,
    resolver: IncludeResolver | None = None,
    reader: TextReader | None = None,
) -> Config:
    """Parse configuration text held in memory (includes still go through the resolver)."""
    path = Path(name)
    read = reader or _read_file

    def reader_with_text(candidate: Path) -> str:
        return text if candidate == path else read(candidate)

    parser = _Parser(
        resolver or config_dir_resolver(config_dir if config_dir is not None else Path(".")),
        reader_with_text,
    )
    parser.load_file(path, current=None, include_chain=(), from_include=None)
    return parser.config


def strip_comments(line: str, depth: int) -> tuple[str | None, int]:
    """Remove comments from one line; `depth` is the block-comment nesting carried between lines.

    Returns the text left to parse (None when the whole line is inside a block comment) and the
    new depth. Mirrors config.c step by step: `\\;` is a literal `;`, `;--` opens a block unless
    followed by another `-`, `--;` closes one (even when none is open, which Asterisk turns into
    a negative depth that swallows the rest of the file).
    """
    cut = "\0"  # where config.c writes a NUL: the text to parse ends there
    buffer = line
    processing = depth == 0
    start = 0
    position = 0
    while (index := buffer.find(";", position)) >= 0:
        if index > position and buffer[index - 1] == "\\":
            buffer = buffer[: index - 1] + buffer[index:]
            position = index
        elif buffer[index + 1 : index + 3] == "--" and buffer[index + 3 : index + 4] != "-":
            if depth < MAX_NESTED_COMMENTS:
                buffer = buffer[:index] + cut + buffer[index + 1 :]
                depth += 1
                position = index + 3
            else:
                position = index + 1
        elif index >= position + 2 and buffer[index - 2 : index] == "--":
            depth -= 1
            position = index + 1
            if depth == 0:
                if processing:
                    end = buffer.find(cut, start)
                    end = len(buffer) if end < 0 else end
                    buffer = buffer[:end] + buffer[position:]
                    position = end
                else:
                    processing = True
                    start = position
        elif depth == 0:
            buffer = buffer[:index]
            break
        else:
            position = index + 1
    if not processing:
        return None, depth
    kept = buffer[start:]
    end = kept.find(cut)
    return (kept if end < 0 else kept[:end]), depth


@dataclass
class _Parser:
    resolve: IncludeResolver
    read: TextReader
    config: Config = field(default_factory=Config)

    def problem(self, file: Path, line: int, message: str, rule: str) -> None:
        self.config.problems.append(
            Problem(path=str(file), line=line, column=1, field="", message=message, rule=rule)
        )

    def load_file(
        self,
        path: Path,
        *,
        current: Section | None,
        include_chain: tuple[Path, ...],
        from_include: tuple[Path, int] | None,
    ) -> bool:
        try:
            text = self.read(path)
        except OSError as error:
            if from_include is None:
                self.problem(
                    path, 0, f"cannot read configuration file: {error.strerror or error}", "conf.unreadable"
                )
            return False
        self.config.files.append(path)
        depth = 0
        depth_opened_at = 0
        for line_number, raw_line in enumerate(text.splitlines(), start=1):
            line = raw_line[1:] if line_number == 1 and raw_line.startswith("\ufeff") else raw_line
            before = depth
            kept, depth = strip_comments(line, depth)
            if before == 0 and depth > 0:
                depth_opened_at = line_number
            if before >= 0 > depth:
                self.problem(
                    path,
                    line_number,
                    "'--;' closes a block comment that was never opened: Asterisk ignores the rest of the file",
                    "conf.stray-comment-end",
                )
            if kept is None:
                continue
            stripped = kept.strip()
            if stripped:
                current = self.process_line(path, line_number, stripped, current, include_chain)
        if depth > 0:
            self.problem(
                path, depth_opened_at, "block comment ';--' is never closed", "conf.unterminated-comment"
            )
        return True

    def process_line(
        self,
        path: Path,
        line_number: int,
        text: str,
        current: Section | None,
        include_chain: tuple[Path, ...],
    ) -> Section | None:
        if text.startswith("["):
            return self.process_header(path, line_number, text, current)
        if text.startswith("#"):
            self.process_directive(path, line_number, text, current, include_chain)
            return current
        self.process_option(path, line_number, text, current)
        return current

    def process_header(
        self, path: Path, line_number: int, text: str, current: Section | None
    ) -> Section | None:
        close = text.find("]")
        if close < 0:
            self.problem(path, line_number, "section header has no closing ']'", "conf.malformed-header")
            return current
        name = text[1:close]
        rest = text[close + 1 :]
        section = Section(name=name, file=path, line=line_number)
        if not rest.startswith("("):
            self.config.sections.append(section)
            return section
        close_paren = rest.find(")")
        if close_paren < 0:
            self.problem(path, line_number, "section options have no closing ')'", "conf.malformed-header")
            return current
        target = section
        appended = False
        bases: list[str] = []
        for item in rest[1:close_paren].split(","):
            if item == "!":
                section.is_template = True
            elif item.startswith("+"):
                existing = self.find_section(name, include_templates=False)
                if existing is None:
                    self.problem(
                        path,
                        line_number,
                        f"'[{name}](+)' appends to a section that does not exist yet",
                        "conf.append-missing",
                    )
                    return current
                existing.is_template = existing.is_template or section.is_template
                existing.options.extend(section.options)
                target = existing
                appended = True
            else:
                base = self.find_section(item, include_templates=True)
                if base is None:
                    hint = " (Asterisk does not strip spaces here)" if item != item.strip() else ""
                    self.problem(
                        path,
                        line_number,
                        f"inherits from '{item}', which is not defined above{hint}",
                        "conf.template-missing",
                    )
                    return current
                bases.append(item)
                target.options.extend(
                    replace(option, inherited_from=option.inherited_from or base.name)
                    for option in base.options
                )
        target.bases = target.bases + tuple(bases)
        if not appended:
            self.config.sections.append(section)
        return target

    def find_section(self, name: str, *, include_templates: bool) -> Section | None:
        """The first section called `name`, compared without case as config.c does."""
        for section in self.config.sections:
            if section.name.lower() == name.lower() and (include_templates or not section.is_template):
                return section
        return None

    def process_directive(
        self,
        path: Path,
        line_number: int,
        text: str,
        current: Section | None,
        include_chain: tuple[Path, ...],
    ) -> None:
        body = text[1:]
        end = 0
        while end < len(body) and ord(body[end]) > 32:
            end += 1
        directive = body[:end].lower()
        argument = body[end:].strip()
        if directive not in ("include", "tryinclude", "exec"):
            self.problem(
                path,
                line_number,
                f"unknown directive '#{body[:end]}' (Asterisk ignores it)",
                "conf.directive",
            )
            return
        if not argument:
            self.problem(path, line_number, f"'#{directive}' needs an argument", "conf.directive")
            return
        if directive == "exec":
            self.problem(path, line_number, "'#exec' is not supported by pabx's reader", "conf.directive")
            return
        if argument[0] in '"<':
            closing = ">" if argument[0] == "<" else '"'
            if argument.endswith(closing) and len(argument) > 1:
                argument = argument[1:-1]
        if len(include_chain) + 1 >= MAX_INCLUDE_DEPTH:
            self.problem(
                path,
                line_number,
                f"includes nest deeper than {MAX_INCLUDE_DEPTH} levels",
                "conf.include-depth",
            )
            return
        target = self.resolve(argument, path)
        candidates = self.expand(target)
        loaded = False
        for candidate in candidates:
            if candidate in include_chain or candidate == path:
                self.problem(path, line_number, f"'{argument}' includes itself", "conf.include-loop")
                continue
            loaded |= self.load_file(
                candidate,
                current=current,
                include_chain=(*include_chain, path),
                from_include=(path, line_number),
            )
        if not loaded and directive == "include":
            self.problem(
                path,
                line_number,
                f"included file '{argument}' ({target}) cannot be read: Asterisk refuses the whole file",
                "conf.include-missing",
            )

    @staticmethod
    def expand(target: Path) -> list[Path]:
        text = str(target)
        if not GLOB_CHARS.intersection(text):
            return [target]
        return [Path(match) for match in sorted(glob.glob(text))]

    def process_option(self, path: Path, line_number: int, text: str, current: Section | None) -> None:
        if current is None:
            self.problem(path, line_number, "option outside any [section]", "conf.option-outside-section")
            return
        escaped = text.startswith("\\")
        body = text[1:] if escaped else text
        if escaped and (not body or ord(body[0]) < 33):
            self.problem(path, line_number, "invalid escape at the start of the line", "conf.malformed-line")
            return
        equals = body.find("=", 1 if escaped else 0)
        if equals < 0:
            self.problem(path, line_number, "line has no '=' (Asterisk ignores it)", "conf.malformed-line")
            return
        if equals > 0 and body[equals - 1] == "+":
            name = body[: equals - 1].strip()
            addition = body[equals + 1 :]
            for index in range(len(current.options) - 1, -1, -1):
                option = current.options[index]
                if option.name == name:
                    current.options[index] = replace(option, value=(option.value + addition).rstrip())
                    return
            self.add_option(path, line_number, current, name, addition, is_object=False)
            return
        name = body[:equals].strip()
        value = body[equals + 1 :]
        is_object = value.startswith(">")
        if is_object:
            value = value[1:]
        self.add_option(path, line_number, current, name, value, is_object=is_object)

    def add_option(
        self, path: Path, line_number: int, section: Section, name: str, value: str, *, is_object: bool
    ) -> None:
        if not name:
            self.problem(
                path,
                line_number,
                "option has no name before '=' (Asterisk ignores it)",
                "conf.malformed-line",
            )
            return
        section.options.append(Option(name, value.strip(), is_object, path, line_number))
