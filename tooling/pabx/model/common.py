"""Types shared by the file models: call classes, slugs, digits, destinations.

Each type says what it is and its validator explains the rule, so a schema error reads as an
instruction ("quote it") rather than a pydantic internals dump.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema


class Strict(BaseModel):
    """Base of every file model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class CallClass(StrEnum):
    """The eight outbound call classes of the Brazilian numbering plan (domain/brazil.md)."""

    LOCAL_FIXO = "local_fixo"
    LOCAL_MOVEL = "local_movel"
    LDN_FIXO = "ldn_fixo"
    LDN_MOVEL = "ldn_movel"
    C0300 = "0300"
    C0800 = "0800"
    SERVICOS = "servicos"
    LDI = "ldi"


CALL_CLASSES: tuple[CallClass, ...] = tuple(CallClass)

CLASS_LABELS: dict[CallClass, str] = {
    CallClass.LOCAL_FIXO: "Local Fixo",
    CallClass.LOCAL_MOVEL: "Local Móvel",
    CallClass.LDN_FIXO: "LDN Fixo",
    CallClass.LDN_MOVEL: "LDN Móvel",
    CallClass.C0300: "0300",
    CallClass.C0800: "0800",
    CallClass.SERVICOS: "Serviços",
    CallClass.LDI: "LDI",
}


def _class_key(value: Any) -> Any:
    """YAML 1.1 reads an unquoted 0300 as the octal number 192: demand quotes instead."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            f'call class {value!r} must be a quoted string (write "0300" / "0800"; '
            "unquoted, YAML reads 0300 as the octal number 192)"
        )
    return value


ClassKey = Annotated[CallClass, BeforeValidator(_class_key)]

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


def _slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise ValueError(
            f"{value!r} is not a slug: lowercase letters, digits and '-', 1 to 40 characters, "
            "not starting or ending with '-'"
        )
    return value


Slug = Annotated[str, AfterValidator(_slug)]


def _digits_from_int(value: Any) -> Any:
    """Accept an unquoted number where digits are meant (YAML makes 2001 an int)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return value


def _internal_number(value: str) -> str:
    if not re.fullmatch(r"[1-9][0-9]{1,5}", value):
        raise ValueError(f"{value!r} is not an internal number: 2 to 6 digits, not starting with 0")
    return value


InternalNumber = Annotated[
    str,
    BeforeValidator(_digits_from_int),
    AfterValidator(_internal_number),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": "^[1-9][0-9]{1,5}$"}, {"type": "integer", "minimum": 10}]}
    ),
]


def _did(value: str) -> str:
    if not re.fullmatch(r"[1-9][1-9](?:[2-5][0-9]{7}|9[0-9]{8})", value):
        raise ValueError(
            f"{value!r} is not DDD + number: 2-digit DDD then 8 digits starting 2-5 (fixo) "
            "or 9 digits starting with 9 (móvel), digits only"
        )
    return value


Did = Annotated[
    str,
    BeforeValidator(_digits_from_int),
    AfterValidator(_did),
    WithJsonSchema({"type": "string", "pattern": "^[1-9][1-9](?:[2-5][0-9]{7}|9[0-9]{8})$"}),
]

EMAIL_RE = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$"
)


def _email(value: str) -> str:
    if not EMAIL_RE.match(value) or ".." in value:
        raise ValueError(f"{value!r} is not a valid e-mail address")
    return value


Email = Annotated[str, AfterValidator(_email)]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(value: str) -> str:
    """Free text (names, contacts): one line, no control characters."""
    if _CONTROL.search(value):
        raise ValueError("must be a single line without control characters")
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Text = Annotated[str, Field(max_length=120), AfterValidator(_text)]

DEST_RE = re.compile(r"^(extension|queue|ivr|voicemail):([1-9][0-9]{1,5})$|^hangup$")


class DestinationKind(StrEnum):
    EXTENSION = "extension"
    QUEUE = "queue"
    IVR = "ivr"
    VOICEMAIL = "voicemail"
    HANGUP = "hangup"


def _destination(value: Any) -> Any:
    if isinstance(value, str) and not DEST_RE.match(value):
        raise ValueError(
            f"{value!r} is not a destination: write extension:NNNN, queue:NNN, ivr:NNN, "
            "voicemail:NNNN or hangup"
        )
    return value


Destination = Annotated[str, AfterValidator(_destination)]


def split_destination(value: str) -> tuple[DestinationKind, str]:
    """`queue:600` -> (QUEUE, "600"); `hangup` -> (HANGUP, "")."""
    kind, _, target = value.partition(":")
    return DestinationKind(kind), target


def _env_name(value: str) -> str:
    if not re.fullmatch(r"[A-Z][A-Z0-9_]{1,63}", value):
        raise ValueError(f"{value!r} is not an environment variable name (A-Z, 0-9, _)")
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
