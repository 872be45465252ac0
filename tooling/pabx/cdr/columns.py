"""The columns cdr_csv writes, in each layout its `[csv]` options give (domain/brazil.md).

Asterisk's cdr_csv always writes the 16 base columns, then `uniqueid` when `loguniqueid=yes`,
`userfield` when `loguserfield=yes`, and `peeraccount, linkedid, sequence` when
`newcdrcolumns=yes`: 16 to 21 columns, no header. Two layouts have the same width (17: uniqueid
or userfield; 20: uniqueid or userfield, then the three new ones); a uniqueid always looks like
`[system-name-]<epoch>.<counter>`, a userfield of the CDR contract never does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BASE_COLUMNS: tuple[str, ...] = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
)
NEW_COLUMNS: tuple[str, ...] = ("peeraccount", "linkedid", "sequence")
ALL_COLUMNS: tuple[str, ...] = (*BASE_COLUMNS, "uniqueid", "userfield", *NEW_COLUMNS)

TIME_COLUMNS = frozenset({"start", "answer", "end"})
INT_COLUMNS = frozenset({"duration", "billsec", "sequence"})

# The dispositions cdr_csv writes (ast_cdr_disp2str); CONGESTION needs `congestion=yes`,
# CANCEL needs `canceldispositions=yes`, and both are on in some configurations.
DISPOSITIONS: tuple[str, ...] = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION", "CANCEL")

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

UNIQUEID_RE = re.compile(r"^(?:.*-)?\d{9,}\.\d+$")


@dataclass(frozen=True)
class Layout:
    """Which optional columns a file has (the three `[csv]` switches of cdr.conf)."""

    uniqueid: bool
    userfield: bool
    newcolumns: bool

    @property
    def columns(self) -> tuple[str, ...]:
        cols = list(BASE_COLUMNS)
        if self.uniqueid:
            cols.append("uniqueid")
        if self.userfield:
            cols.append("userfield")
        if self.newcolumns:
            cols.extend(NEW_COLUMNS)
        return tuple(cols)

    @property
    def width(self) -> int:
        return len(self.columns)

    @property
    def name(self) -> str:
        parts = [name for name, on in self._switches() if on]
        return f"{self.width} columns" + (f" ({', '.join(parts)})" if parts else "")

    def _switches(self) -> tuple[tuple[str, bool], ...]:
        return (
            ("loguniqueid", self.uniqueid),
            ("loguserfield", self.userfield),
            ("newcdrcolumns", self.newcolumns),
        )


CONTRACT_LAYOUT = Layout(uniqueid=True, userfield=True, newcolumns=True)

LAYOUTS: tuple[Layout, ...] = tuple(
    Layout(uid, uf, new) for new in (False, True) for uid in (False, True) for uf in (False, True)
)


def layout_for(fields: list[str]) -> Layout | None:
    """The layout of one parsed row, from its width (and its 17th field when ambiguous)."""
    width = len(fields)
    newcolumns = width >= 19
    extra = width - 16 - (3 if newcolumns else 0)
    if extra == 2:
        return Layout(True, True, newcolumns)
    if extra == 0:
        return Layout(False, False, newcolumns)
    if extra == 1:
        looks_like_uniqueid = bool(UNIQUEID_RE.match(fields[16]))
        return Layout(looks_like_uniqueid, not looks_like_uniqueid, newcolumns)
    return None
