"""Carrier trunks (`inventory/trunks/<name>.yaml`)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from pabx.model.common import EnvName, Slug, Strict, Text


class NumberFormat(StrEnum):
    """How the carrier wants the called number: +55..., 0+DDD+number, or 0+CSP+DDD+number."""

    E164 = "e164"
    NATIONAL = "national"
    CSP = "csp"


class Transport(StrEnum):
    UDP = "udp"
    TCP = "tcp"


def _host(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:]+\]", value):
        raise ValueError(f"{value!r} is not a host name or IP address")
    return value


Host = Annotated[str, AfterValidator(_host)]


def _header_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,63}", value):
        raise ValueError(f"{value!r} is not a SIP header name")
    return value


def _header_value(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9 ._=-]{1,64}", value):
        raise ValueError(f"{value!r} is not a safe header value (letters, digits, space . _ = -)")
    return value


class HeaderMatch(Strict):
    model_config = Strict.model_config | {"title": "Cabeçalho SIP"}

    name: Annotated[str, AfterValidator(_header_name)] = Field(title="Cabeçalho")
    value: Annotated[str, AfterValidator(_header_value)] = Field(title="Valor")


def _username(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._+-]{1,64}", value):
        raise ValueError(f"{value!r} is not a safe SIP user name (letters, digits, . _ + -)")
    return value


def _codec(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]{2,16}", value):
        raise ValueError(f"{value!r} is not a codec name")
    return value


def _csp(value: str) -> str:
    if not re.fullmatch(r"[1-9][0-9]", value):
        raise ValueError(f"{value!r} is not a CSP (two digits, not starting with 0)")
    return value


class Trunk(Strict):
    model_config = Strict.model_config | {"title": "Tronco"}

    name: Text | None = Field(None, title="Nome")
    host: Host = Field(title="Host")
    port: int = Field(5060, ge=1, le=65535, title="Porta")
    transport: Transport = Field(Transport.UDP, title="Transporte")
    username: Annotated[str, AfterValidator(_username)] | None = Field(None, title="Usuário")
    password_env: EnvName | None = Field(
        None, title="Senha (variável de ambiente)", description="Environment variable holding the password"
    )
    registration: bool = Field(False, title="Registro", description="Send REGISTER to the carrier")
    match: list[Host] = Field(
        default_factory=list,
        title="Endereços de origem",
        description="Source addresses identifying the carrier (default: host)",
    )
    number_format: NumberFormat = Field(NumberFormat.NATIONAL, title="Formato do número")
    csp: Annotated[str, AfterValidator(_csp)] | None = Field(
        None, title="CSP", description="Carrier selection code", validate_default=True
    )
    codecs: list[Annotated[str, AfterValidator(_codec)]] = Field(
        default_factory=lambda: ["alaw", "ulaw"], title="Codecs"
    )
    max_channels: int | None = Field(None, ge=1, title="Canais máximos")
    collect_call_header: HeaderMatch | None = Field(
        None, title="Cabeçalho de chamada a cobrar", description="Header the carrier sets on collect calls"
    )
    servers: list[Slug] = Field(title="Servidores", description="Asterisk servers that carry this trunk")

    @field_validator("csp")
    @classmethod
    def _csp_when_needed(cls, csp: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("number_format") is NumberFormat.CSP and not csp:
            raise ValueError("number_format csp needs the trunk's csp (two digits)")
        return csp

    @field_validator("registration")
    @classmethod
    def _credentials_to_register(cls, registration: bool, info: ValidationInfo) -> bool:
        if registration and not (info.data.get("username") and info.data.get("password_env")):
            raise ValueError(
                "a registering trunk needs username and password_env (the variable holding its password)"
            )
        return registration
