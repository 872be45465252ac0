"""One logical change: files opened for round-trip editing, validated together, written together.

A command opens a `Workspace`, edits the documents it needs, and calls `commit()`. The whole
repository is validated as it would be after the change (in a shadow tree of symbolic links
where only the changed files are new); when that has errors nothing is written and the
errors are raised as a UserError. Otherwise every changed file is replaced atomically.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pabx.edit.entries import Entries, LineEntries, entries_of
from pabx.edit.yamlrt import Style, detect_style, dump_text, load_text
from pabx.errors import Problem, Report, Severity, UserError
from pabx.loader.layout import DATA_FOLDERS, Kind, schema_reference, state_dir
from pabx.loader.repo import Repository, load_repository


@dataclass
class _Open:
    data: Any
    style: Style
    original: str | None  # None: a file this change creates
    header: str = ""  # the schema line of a created file


@dataclass
class Outcome:
    """What a committed (or dry-run) change did."""

    summary: list[str]
    changed: dict[str, str | None]  # relative path -> new text (None: deleted)
    diff: str
    written: bool
    warnings: list[Problem] = field(default_factory=list)


class Workspace:
    """The repository at `root`, loaded once, with the files this change touches."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        if not self.root.is_dir():
            raise UserError(f"{root} is not a directory")
        self._report = Report()
        self._repo: Repository | None = None
        self._open: dict[str, _Open] = {}
        self._texts: dict[str, str] = {}
        self._deleted: set[str] = set()
        self._hooks: dict[str, Callable[[Workspace], None]] = {}
        self.summary: list[str] = []

    @property
    def repo(self) -> Repository:
        """The repository before the change, loaded on first use (many edits never need it)."""
        if self._repo is None:
            self._repo = load_repository(self.root, self._report)
        return self._repo

    # --- reading and editing ---------------------------------------------------------------

    def exists(self, rel: str) -> bool:
        if rel in self._deleted:
            return False
        return rel in self._open or rel in self._texts or (self.root / rel).is_file()

    def open(self, rel: str) -> Any:
        """The round-trip document of `rel` (loaded on first use); edit it in place."""
        if rel not in self._open:
            path = self.root / rel
            if not path.is_file():
                raise UserError(f"{rel} does not exist")
            original = path.read_text(encoding="utf-8")
            style = detect_style(original)
            self._open[rel] = _Open(load_text(original, rel, style), style, original)
        return self._open[rel].data

    def open_entries(self, rel: str) -> Entries:
        """The entries of a root-list file (numbers/); one entry per line is edited line by line."""
        if rel not in self._open:
            path = self.root / rel
            if not path.is_file():
                raise UserError(f"{rel} does not exist")
            original = path.read_text(encoding="utf-8")
            if LineEntries.fits(original):
                self._open[rel] = _Open(LineEntries(original, rel), Style(), original)
        found = entries_of(self.open(rel))
        if found is None:
            raise UserError(f"{rel} is not a list: fix it first")
        return found

    def create(self, rel: str, kind: Kind, data: Any, style: Style | None = None) -> Any:
        """A new data file, starting with its `# yaml-language-server: $schema=` line."""
        if self.exists(rel):
            raise UserError(f"{rel} already exists")
        self._open[rel] = _Open(data, style or Style(), None, schema_reference(rel, kind) + "\n")
        return data

    def delete(self, rel: str) -> None:
        """Remove a file in this change (a route; never a tenant, whose file stays for audit)."""
        self._open.pop(rel, None)
        self._deleted.add(rel)

    def write_text(self, rel: str, text: str) -> None:
        """A file that is not YAML (CODEOWNERS), replaced whole."""
        self._texts[rel] = text

    def before_commit(self, name: str, hook: Callable[[Workspace], None]) -> None:
        """Run `hook` once, just before the change is computed (derived files such as CODEOWNERS)."""
        self._hooks.setdefault(name, hook)

    def note(self, line: str) -> None:
        self.summary.append(line)

    # --- the change ------------------------------------------------------------------------

    def changes(self) -> dict[str, str | None]:
        """Relative path -> new text, or None for a deleted file; only files that differ."""
        out: dict[str, str | None] = {}
        for rel, opened in self._open.items():
            if isinstance(opened.data, LineEntries):
                new = opened.data.dump()
            else:
                new = opened.header + dump_text(opened.data, opened.style, opened.original)
            if new != opened.original:
                out[rel] = new
        for rel, text in self._texts.items():
            path = self.root / rel
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                out[rel] = text
        for rel in self._deleted:
            if (self.root / rel).is_file():
                out[rel] = None
        return dict(sorted(out.items()))

    def diff(self, changes: dict[str, str | None]) -> str:
        parts: list[str] = []
        for rel, new in changes.items():
            path = self.root / rel
            exists = path.is_file()
            old = path.read_text(encoding="utf-8") if exists else ""
            parts.extend(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    (new or "").splitlines(keepends=True),
                    fromfile=f"a/{rel}" if exists else "/dev/null",
                    tofile=f"b/{rel}" if new is not None else "/dev/null",
                )
            )
        return "".join(parts)

    def commit(self, *, dry_run: bool = False) -> Outcome:
        """Validate the repository as it would be, then write every changed file (or not)."""
        for hook in self._hooks.values():
            hook(self)
        changes = self.changes()
        if not changes:
            return Outcome(self.summary or ["nothing to change"], {}, "", False)
        after = validate_with(self.root, changes)
        if not after.ok:
            before = _keys(self.report_with_rules().errors)
            new_errors = [p for p in after.sorted() if p.severity is Severity.ERROR]
            old_count = sum(1 for p in new_errors if _key(p) in before)
            already = f" ({old_count} of them were already there before this change)" if old_count else ""
            raise UserError(
                f"this change would leave the repository invalid: {len(new_errors)} error(s){already}; "
                "nothing was written",
                new_errors,
            )
        warnings = [p for p in after.sorted() if p.severity is Severity.WARNING]
        if warnings:  # only the new ones: running the rules on the repository before costs time
            known = _keys(self.report_with_rules().warnings)
            warnings = [p for p in warnings if _key(p) not in known]
        diff = self.diff(changes)
        if not dry_run:
            for rel, new in changes.items():
                if new is None:
                    (self.root / rel).unlink()
                else:
                    _write_atomically(self.root / rel, new)
        return Outcome(self.summary, changes, diff, not dry_run, warnings)

    def report_with_rules(self) -> Report:
        """Every problem of the repository before this change (rules run on first use)."""
        if not getattr(self, "_ruled", False):
            from pabx.validate import run_rules

            run_rules(self.repo, self._report)
            self._ruled = True
        return self._report


def _key(problem: Problem) -> tuple[str, str, str, str]:
    return (problem.path, problem.rule, problem.field, problem.message)


def _keys(problems: list[Problem]) -> set[tuple[str, str, str, str]]:
    return {_key(p) for p in problems}


def validate_with(root: Path, changes: dict[str, str | None]) -> Report:
    """Validate the repository at `root` as if `changes` (path -> text) were written."""
    from pabx.validate import validate_repository

    with _shadow(root, changes) as shadow:
        _, report = validate_repository(shadow)
    return report


@contextmanager
def _shadow(root: Path, changes: dict[str, str | None]) -> Iterator[Path]:
    """A temporary tree of symbolic links to the repository's data, with `changes` as real files."""
    with tempfile.TemporaryDirectory(prefix="pabx-edit-") as tmp:
        shadow = Path(tmp) / "repo"
        shadow.mkdir()
        touched = {rel.split("/", 1)[0] for rel in changes}
        for folder in DATA_FOLDERS:
            source = root / folder
            if source.is_dir() and folder in touched:
                _link_tree(source, shadow / folder)
            elif source.is_dir():  # one link for a folder the change does not touch
                (shadow / folder).symlink_to(source, target_is_directory=True)
        for rel, text in changes.items():
            target = shadow / rel
            if rel.split("/", 1)[0] not in DATA_FOLDERS:
                continue  # not read by validation (CODEOWNERS)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.exists():
                target.unlink()
            if text is not None:
                target.write_text(text, encoding="utf-8")
        state = state_dir(root)
        if "PABX_STATE_DIR" not in os.environ and state.is_dir():
            # share the content-keyed parse cache: only the changed files are parsed again
            (shadow / "state").symlink_to(state)
        yield shadow


def _link_tree(source: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with os.scandir(source) as entries:
        for entry in entries:
            target = dest / entry.name
            if entry.is_dir(follow_symlinks=False):
                _link_tree(Path(entry.path), target)
            else:
                target.symlink_to(entry.path)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
