"""Classify a dialed string into the Brazilian call classes (domain/brazil.md).

The same table drives validation (an extension must not look like an outside number), the
dialplan patterns, the call tracer's expectations and the CDR reports' fallback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pabx.model.common import CallClass


class Outcome(StrEnum):
    OUTBOUND = "outbound"  # a billable class, routed by the caller-ID number's route
    EMERGENCY = "emergency"  # 190-199: always allowed
    COLLECT = "collect"  # a cobrar: blocked by default
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Dialed:
    outcome: Outcome
    call_class: CallClass | None = None
    ddd: str | None = None  # area code of the called party, when geographic
    subscriber: str | None = None  # 8 or 9 digits, when geographic
    csp: str | None = None  # carrier selection code dialed, if any
    rest: str | None = None  # non-geographic or international digits after prefixes


_DDD = r"([1-9][1-9])"
_FIXED = r"([2-5]\d{7})"
_MOBILE = r"(9\d{8})"

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^1\d\d$"), "short"),
    (re.compile(r"^10\d{3}$"), "short"),
    (re.compile(r"^9090([2-5]\d{7}|9\d{8})$"), "collect"),
    (re.compile(r"^90[1-9]\d[1-9][1-9](?:[2-5]\d{7}|9\d{8})$"), "collect"),
    (re.compile(r"^" + _FIXED + r"$"), "local_fixo"),
    (re.compile(r"^" + _MOBILE + r"$"), "local_movel"),
    (re.compile(r"^0([359]00\d{6,7})$"), "0300"),
    (re.compile(r"^0(800\d{6,7})$"), "0800"),
    (re.compile(r"^00([1-9]\d)([1-9]\d{4,})$"), "ldi"),
    (re.compile(r"^0" + _DDD + _FIXED + r"$"), "ldn_fixo"),
    (re.compile(r"^0" + _DDD + _MOBILE + r"$"), "ldn_movel"),
    (re.compile(r"^0([1-9]\d)" + _DDD + _FIXED + r"$"), "ldn_fixo_csp"),
    (re.compile(r"^0([1-9]\d)" + _DDD + _MOBILE + r"$"), "ldn_movel_csp"),
    (re.compile(r"^" + _DDD + _FIXED + r"$"), "ddd_fixo"),
    (re.compile(r"^" + _DDD + _MOBILE + r"$"), "ddd_movel"),
]


EMERGENCY_DEFAULT = frozenset(str(n) for n in range(190, 200))


def classify(
    dialed: str,
    *,
    own_ddd: str | None = None,
    emergency: frozenset[str] = EMERGENCY_DEFAULT,
    accept_ddd_without_zero: bool = True,
) -> Dialed:
    """What the digits an extension dialed mean.

    `own_ddd` (the DDD of the caller's number) makes DDD+number without the 0 and E.164 numbers
    of the same DDD local; 0+DDD is LDN by the form dialed (the Brazilian habit).
    """
    if dialed.startswith("+"):
        return _classify_e164(dialed[1:], own_ddd)
    for pattern, kind in _RULES:
        m = pattern.match(dialed)
        if not m:
            continue
        if kind == "short":
            if dialed in emergency:
                return Dialed(Outcome.EMERGENCY, CallClass.SERVICOS, rest=dialed)
            return Dialed(Outcome.OUTBOUND, CallClass.SERVICOS, rest=dialed)
        if kind == "collect":
            return Dialed(Outcome.COLLECT, rest=dialed)
        if kind == "local_fixo":
            return Dialed(Outcome.OUTBOUND, CallClass.LOCAL_FIXO, ddd=own_ddd, subscriber=m.group(1))
        if kind == "local_movel":
            return Dialed(Outcome.OUTBOUND, CallClass.LOCAL_MOVEL, ddd=own_ddd, subscriber=m.group(1))
        if kind == "0300":
            return Dialed(Outcome.OUTBOUND, CallClass.C0300, rest=m.group(1))
        if kind == "0800":
            return Dialed(Outcome.OUTBOUND, CallClass.C0800, rest=m.group(1))
        if kind == "ldi":
            return Dialed(Outcome.OUTBOUND, CallClass.LDI, csp=m.group(1), rest=m.group(2))
        if kind in ("ldn_fixo", "ldn_movel"):
            cls = CallClass.LDN_FIXO if kind == "ldn_fixo" else CallClass.LDN_MOVEL
            return Dialed(Outcome.OUTBOUND, cls, ddd=m.group(1), subscriber=m.group(2))
        if kind in ("ldn_fixo_csp", "ldn_movel_csp"):
            cls = CallClass.LDN_FIXO if kind == "ldn_fixo_csp" else CallClass.LDN_MOVEL
            return Dialed(Outcome.OUTBOUND, cls, csp=m.group(1), ddd=m.group(2), subscriber=m.group(3))
        if kind in ("ddd_fixo", "ddd_movel") and accept_ddd_without_zero:
            return _geographic(m.group(1), m.group(2), own_ddd)
    return Dialed(Outcome.UNKNOWN)


def _geographic(ddd: str, subscriber: str, own_ddd: str | None) -> Dialed:
    mobile = subscriber.startswith("9")
    if ddd == own_ddd:
        cls = CallClass.LOCAL_MOVEL if mobile else CallClass.LOCAL_FIXO
    else:
        cls = CallClass.LDN_MOVEL if mobile else CallClass.LDN_FIXO
    return Dialed(Outcome.OUTBOUND, cls, ddd=ddd, subscriber=subscriber)


def _classify_e164(digits: str, own_ddd: str | None) -> Dialed:
    if not digits.isdigit():
        return Dialed(Outcome.UNKNOWN)
    if digits.startswith("55"):
        m = re.fullmatch(_DDD + r"([2-5]\d{7}|9\d{8})", digits[2:])
        if m:
            return _geographic(m.group(1), m.group(2), own_ddd)
        return Dialed(Outcome.UNKNOWN)
    if re.fullmatch(r"[1-9]\d{6,14}", digits):
        return Dialed(Outcome.OUTBOUND, CallClass.LDI, rest=digits)
    return Dialed(Outcome.UNKNOWN)


def short_pattern_matches(pattern: str, number: str) -> bool:
    """Asterisk-style short pattern (X, Z, N and digits) against a whole number."""
    if len(pattern) != len(number):
        return False
    for p, d in zip(pattern, number, strict=True):
        if p == "X":
            ok = d.isdigit()
        elif p == "Z":
            ok = d in "123456789"
        elif p == "N":
            ok = d in "23456789"
        else:
            ok = p == d
        if not ok:
            return False
    return True
