"""Platform settings (`inventory/platform.yaml`): identity, portal, time zone, SMTP, dialing."""

from __future__ import annotations

import re
import zoneinfo
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from pabx.model.common import Email, EnvName, Strict, Text
from pabx.model.trunk import Host


class SmtpSecurity(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    SSL = "ssl"


class Smtp(Strict):
    model_config = Strict.model_config | {"title": "SMTP"}

    host: Host = Field(title="Servidor SMTP")
    port: int = Field(587, ge=1, le=65535, title="Porta")
    security: SmtpSecurity = Field(SmtpSecurity.STARTTLS, title="Segurança")
    user: str | None = Field(None, title="Usuário")
    password_env: EnvName | None = Field(None, title="Senha (variável de ambiente)")
    sender: Email = Field(title="Remetente (De)")


def _tz(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known time zone (e.g. America/Sao_Paulo)") from None
    return value


def _pattern(value: str) -> str:
    if not re.fullmatch(r"[0-9XZN]{2,8}", value):
        raise ValueError(f"{value!r} is not a short dial pattern (digits and X, Z, N)")
    return value


def _url(value: str) -> str:
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9._~/-]*)?", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def _feature_code(value: str) -> str:
    if not re.fullmatch(r"\*[0-9]{1,4}", value):
        raise ValueError(f"{value!r} is not a feature code (* then 1 to 4 digits)")
    return value


class Dialing(Strict):
    """Settings of the numbering plan where sources disagree (domain/brazil.md, configurable)."""

    model_config = Strict.model_config | {"title": "Plano de numeração"}

    accept_ddd_without_zero: bool = Field(
        True,
        title="Aceitar DDD sem 0",
        description="Accept DDD + number (10/11 digits) without the leading 0",
    )
    service_patterns: list[Annotated[str, AfterValidator(_pattern)]] = Field(
        default_factory=lambda: ["1XX", "10XXX", "105X", "106X"],
        title="Padrões de serviço",
        description="Short service codes extensions must not collide with",
    )
    emergency_numbers: list[Annotated[str, Field(pattern=r"^1[0-9]{2}$")]] = Field(
        default_factory=lambda: [str(n) for n in range(190, 200)],
        title="Números de emergência",
        description="Always reachable, whatever the tenant's status, plan or limits",
    )
    emergency_route: str | None = Field(
        None,
        title="Rota de emergência",
        description="Route for emergency calls from extensions with no caller ID (no owned number yet)",
    )
    ring_timeout_s: int = Field(
        30, ge=5, le=300, title="Tempo de toque (s)", description="Ringing time of an extension"
    )
    feature_codes: list[Annotated[str, AfterValidator(_feature_code)]] = Field(
        default_factory=lambda: ["*97", "*98"], title="Códigos de recurso"
    )


class Platform(Strict):
    model_config = Strict.model_config | {"title": "Plataforma"}

    name: Text = Field(title="Plataforma")
    domain: Host = Field(title="Domínio SIP")
    portal_url: Annotated[str, AfterValidator(_url)] = Field(title="Endereço do portal")
    timezone: Annotated[str, AfterValidator(_tz)] = Field("America/Sao_Paulo", title="Fuso horário")
    support_email: Email | None = Field(None, title="E-mail do suporte")
    smtp: Smtp | None = Field(None, title="SMTP")
    dialing: Dialing = Field(default_factory=Dialing, title="Plano de numeração")
    releases_kept: int = Field(
        5, ge=1, le=50, title="Versões mantidas", description="Releases kept per server for rollback"
    )
