"""A strict, plain-Python reader of cdr_csv files: one record at a time, with its line number.

The store's ingest parses with DuckDB (fast); this reader states the same rules in Python and
serves where speed does not matter: rows DuckDB set aside because their width differs from the
file's layout (a cdr.conf change halfway through a file), small inputs and tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pabx.cdr.columns import DISPOSITIONS, INT_COLUMNS, TIME_COLUMNS, TIME_FORMAT, Layout, layout_for

Value = str | int | dt.datetime | None


@dataclass(frozen=True)
class Malformed:
    """A row that is not a CDR as cdr_csv writes it; `line` is the physical line in the file."""

    path: str
    line: int
    reason: str

    def format(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class Record:
    line: int
    layout: Layout
    values: dict[str, Value]


def open_text(path: Path) -> io.TextIOWrapper:
    """A text stream over a plain or gzip-compressed file (by its magic bytes, not its name)."""
    raw = path.open("rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8", errors="replace", newline="")
    raw.seek(0)
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


def parse_fields(fields: list[str], layout: Layout | None = None) -> tuple[dict[str, Value] | None, str]:
    """(values, "") for a valid row, or (None, why) — the checks the DuckDB ingest makes too."""
    layout = layout or layout_for(fields)
    if layout is None or layout.width != len(fields):
        return None, f"{len(fields)} fields; cdr_csv writes 16 to 21"
    values: dict[str, Value] = {}
    for name, text in zip(layout.columns, fields, strict=True):
        if name in TIME_COLUMNS:
            if text == "" and name == "answer":
                values[name] = None
                continue
            try:
                values[name] = dt.datetime.strptime(text, TIME_FORMAT)
            except ValueError:
                return None, f"{name}: {text!r} is not a time (YYYY-MM-DD HH:MM:SS)"
        elif name in INT_COLUMNS:
            if not text.isascii() or not text.isdigit():
                return None, f"{name}: {text!r} is not a whole number"
            values[name] = int(text)
        elif name == "disposition":
            if text not in DISPOSITIONS:
                return None, f"disposition: {text!r} is not one of {', '.join(DISPOSITIONS)}"
            values[name] = text
        else:
            values[name] = text
    return values, ""


def read_records(path: Path, *, display: str | None = None) -> Iterator[Record | Malformed]:
    """Every record of a Master.csv (plain or gzip), or why it is malformed, in file order.

    A last line without its newline is still being written by Asterisk: it is not yielded.
    """
    shown = display or str(path)
    with open_text(path) as text:
        lines = _complete_lines(text)
        reader = csv.reader(lines, strict=True, doublequote=True, skipinitialspace=False)
        line = 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Malformed(shown, line, f"bad quoting: {exc}")
                line = reader.line_num + 1
                continue
            first, line = line, reader.line_num + 1
            if not fields:
                continue
            values, why = parse_fields(fields)
            if values is None:
                yield Malformed(shown, first, why)
            else:
                layout = layout_for(fields)
                assert layout is not None
                yield Record(first, layout, values)


def _complete_lines(text: io.TextIOWrapper) -> Iterator[str]:
    for line in text:
        if line.endswith("\n"):
            yield line
