"""User errors (with file, line, column, field and rule id) versus internal bugs.

A `Problem` is one thing wrong with the user's repository. Commands collect problems and
report them all together; `UserError` carries them to the CLI, which prints them and exits 2
without a traceback. Anything else that escapes is a bug in pabx and shows a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding, positioned in a file of the repository (path relative to the repo root)."""

    path: str
    line: int
    column: int
    field: str
    message: str
    rule: str
    severity: Severity = Severity.ERROR

    def format_text(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        tail = " (warning)" if self.severity is Severity.WARNING else ""
        return f"{where}: {what} [{self.rule}]{tail}"

    def format_github(self) -> str:
        kind = "error" if self.severity is Severity.ERROR else "warning"
        message = f"{self.field}: {self.message}" if self.field else self.message
        return (
            f"::{kind} file={_gh(self.path)},line={self.line},col={self.column},"
            f"title={_gh(self.rule)}::{_gh_data(message)}"
        )

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["severity"] = str(self.severity)
        return data


def _gh(value: str) -> str:
    return (
        value.replace("%", "%25")
        .replace("\r", "%0D")
        .replace("\n", "%0A")
        .replace(":", "%3A")
        .replace(",", "%2C")
    )


def _gh_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


@dataclass
class Report:
    """All problems found by one run, sorted for stable output."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def sorted(self) -> list[Problem]:
        return sorted(set(self.problems), key=lambda p: (p.path, p.line, p.column, p.rule, p.field))

    def render(self, fmt: str) -> str:
        problems = self.sorted()
        if fmt == "json":
            return json.dumps(
                {
                    "valid": self.ok,
                    "errors": len(self.errors),
                    "warnings": len(self.warnings),
                    "problems": [p.to_json() for p in problems],
                },
                ensure_ascii=False,
                indent=2,
            )
        if fmt == "github":
            return "\n".join(p.format_github() for p in problems)
        return "\n".join(p.format_text() for p in problems)


class UserError(Exception):
    """A mistake in the user's input or invocation: reported plainly, exit code 2."""

    exit_code = 2

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)


def require_known(wanted: Iterable[str], known: Iterable[str]) -> None:
    """A UserError naming the servers of `wanted` that are not in `known` (and the known ones)."""
    names = list(known)
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise UserError(f"unknown server(s): {', '.join(unknown)} (known: {', '.join(names)})")


class InternalError(Exception):
    """A bug in pabx itself: shown with a traceback."""
