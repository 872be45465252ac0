"""How an application tells the dialplan loop what comes next, and how a trace stops."""

from __future__ import annotations

from dataclasses import dataclass

from pabx.dialplan.result import Outcome

NEXT = "next"  # run the next priority
JUMPED = "jumped"  # the application moved the channel (Goto, Gosub, Return...)


@dataclass(frozen=True)
class Digit:
    """An application returned a key the caller pressed; the loop collects the rest of the extension."""

    key: str


Control = str | Digit


class TraceError(Exception):
    """Something the tracer cannot follow or Asterisk would refuse: ends the trace as kind 'error'."""


class Finished(Exception):
    """Raised to end the trace with an outcome."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome
