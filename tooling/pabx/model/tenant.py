"""Tenants (`tenants/<slug>.yaml`): registration, contact, finance, extensions, queues, IVRs."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from pabx.model.common import (
    ClassKey,
    Destination,
    Did,
    Email,
    InternalNumber,
    Slug,
    Strict,
    Text,
)


class Status(StrEnum):
    """Ativo = full service; Pendente = no outbound yet; Inativo = suspended; Removido = gone."""

    ATIVO = "ativo"
    INATIVO = "inativo"
    PENDENTE = "pendente"
    REMOVIDO = "removido"


class PersonType(StrEnum):
    JURIDICA = "juridica"
    FISICA = "fisica"


class Permission(StrEnum):
    """Access level on the platform (the seed's Permissão)."""

    CLIENTE = "cliente"
    REVENDA = "revenda"


class QueueStrategy(StrEnum):
    RINGALL = "ringall"
    LEASTRECENT = "leastrecent"
    FEWESTCALLS = "fewestcalls"
    RANDOM = "random"
    RRMEMORY = "rrmemory"
    LINEAR = "linear"
    WRANDOM = "wrandom"


def _service_code(value: str) -> str:
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9-]{2,19}", value):
        raise ValueError(f"{value!r} is not a service code: 3 to 20 of A-Z, 0-9 and '-'")
    return value


def _sound(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}(?:/[a-z0-9][a-z0-9_-]{0,63}){0,3}", value):
        raise ValueError(f"{value!r} is not a sound name (lowercase letters, digits, _ - and /)")
    return value


def _digit(value: str) -> str:
    if not re.fullmatch(r"[0-9*#]", value):
        raise ValueError(f"{value!r} is not an IVR key: one of 0-9, * or #")
    return value


def _digit_key(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9:
        return str(value)
    return value


Sound = Annotated[str, AfterValidator(_sound)]


class ContactDetails(Strict):
    model_config = Strict.model_config | {"title": "Contato"}

    phone: Text | None = Field(None, title="Telefone")
    mobile: Text | None = Field(None, title="Celular")
    address: Text | None = Field(None, title="Endereço")
    city: Text | None = Field(None, title="Cidade")
    state: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = Field(None, title="UF")
    zip: Annotated[str, Field(pattern=r"^\d{5}-?\d{3}$")] | None = Field(None, title="CEP")


class Extension(Strict):
    model_config = Strict.model_config | {"title": "Ramal"}

    number: InternalNumber = Field(title="Ramal")
    name: Text = Field(title="Nome")
    email: Email | None = Field(None, title="E-mail", description="Receives the missed-call notices")
    outbound: list[ClassKey] | None = Field(
        None,
        title="Classes de saída",
        description="Outbound classes this extension may call (also limited by the plan); default: the plan's",
    )
    caller_id: Did | None = Field(
        None, title="Identificador de chamada (Bina)", description="A number the tenant owns"
    )
    voicemail: bool = Field(False, title="Correio de voz")
    sip_rotation: int = Field(
        0, ge=0, title="Rotação da senha SIP", description="Bump to derive a new SIP password for the phone"
    )


class Queue(Strict):
    model_config = Strict.model_config | {"title": "Grupo"}

    number: InternalNumber = Field(title="Número do grupo")
    name: Text = Field(title="Nome")
    strategy: QueueStrategy = Field(QueueStrategy.RINGALL, title="Estratégia")
    members: list[InternalNumber] = Field(title="Membros", description="Extensions of this tenant")
    timeout: int = Field(
        30, ge=1, le=3600, title="Tempo limite (s)", description="Seconds before the overflow"
    )
    overflow: Destination | None = Field(
        None, title="Transbordo", description="Where calls go after the timeout"
    )


class Ivr(Strict):
    model_config = Strict.model_config | {"title": "Pré-atendimento"}

    number: InternalNumber = Field(title="Número do pré-atendimento")
    name: Text = Field(title="Nome")
    greeting: Sound = Field(title="Saudação", description="Sound file played (without extension)")
    options: dict[Annotated[str, BeforeValidator(_digit_key), AfterValidator(_digit)], Destination] = Field(
        title="Opções", description="Key pressed -> destination"
    )
    wait_s: int = Field(
        5, ge=1, le=60, title="Espera (s)", description="Seconds to wait for a key after the greeting"
    )
    timeout: Destination | None = Field(
        None, title="Destino sem digitação", description="When no key is pressed"
    )
    invalid: Destination | None = Field(
        None,
        title="Destino para opção inválida",
        description="When a key with no option is pressed (default: repeat once, then hang up)",
    )


class Tenant(Strict):
    model_config = Strict.model_config | {"title": "Cliente"}

    id: int = Field(ge=1, title="ID", description="Stable numeric id, assigned once and never reused")
    name: Text = Field(title="Cliente", description="Legal or trade name")
    contact: Text = Field(title="Contato", description="Responsible person")
    person_type: PersonType = Field(title="Tipo pessoa")
    document: str = Field(title="Documento", description="CNPJ for juridica, CPF for fisica")
    email: Email = Field(title="E-mail")
    status: Status = Field(title="Status")
    permission: Permission = Field(Permission.CLIENTE, title="Permissão")
    service_code: Annotated[str, AfterValidator(_service_code)] = Field(title="Código de serviço")
    plan: Slug = Field(title="Plano")
    due_date: dt.date | None = Field(None, title="Data de vencimento")
    server: Slug = Field(title="Servidor", description="Asterisk server of the inventory serving this tenant")
    caller_id: Did | None = Field(
        None, title="Identificador de chamada padrão", description="A number the tenant owns"
    )
    access_rotation: int = Field(
        0,
        ge=0,
        title="Senha (rotação do acesso)",
        description="Bump to publish a new Painel do usuário address",
    )
    contact_details: ContactDetails = Field(default_factory=ContactDetails, title="Contato")
    extensions: list[Extension] = Field(default_factory=list, title="Ramais")
    queues: list[Queue] = Field(default_factory=list, title="Grupos")
    ivrs: list[Ivr] = Field(default_factory=list, title="Pré-atendimentos")

    def extension(self, number: str) -> Extension | None:
        return next((e for e in self.extensions if e.number == number), None)

    def queue(self, number: str) -> Queue | None:
        return next((q for q in self.queues if q.number == number), None)

    def ivr(self, number: str) -> Ivr | None:
        return next((i for i in self.ivrs if i.number == number), None)
