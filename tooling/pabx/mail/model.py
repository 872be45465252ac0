"""What the outbox holds: a draft to queue, a stored record, their kinds and statuses."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum

# What the stored (viewable) body says where the sent message carries the live panel address.
REDACTED = "[link de acesso omitido]"


class Kind(StrEnum):
    WELCOME = "boas-vindas"
    ACCESS_RESET = "redefinicao"
    MISSED_CALL = "te-ligou"


class MailStatus(StrEnum):
    PENDING = "pendente"  # waiting for its first or next attempt
    SENDING = "enviando"  # claimed by a sender; seen by a later run: that sender died mid-send
    SENT = "enviado"  # the SMTP server accepted it
    FAILED = "falhou"  # refused for good (5xx); `pabx mail retry` queues it again


KIND_LABELS: dict[Kind, str] = {
    Kind.WELCOME: "Boas-vindas",
    Kind.ACCESS_RESET: "Nova senha de acesso",
    Kind.MISSED_CALL: "Te ligou",
}

STATUS_LABELS: dict[MailStatus, str] = {
    MailStatus.PENDING: "Pendente",
    MailStatus.SENDING: "Enviando",
    MailStatus.SENT: "Enviado",
    MailStatus.FAILED: "Falhou",
}


@dataclass(frozen=True)
class PanelLink:
    """The tenant panel address a message carries, as a recipe: never the address itself.

    The sender derives `<portal_url>/painel/<token>/` from PABX_SECRET_KEY at send time.
    """

    tenant: str
    rotation: int


@dataclass(frozen=True)
class Draft:
    """A message to queue. Bodies are redacted: REDACTED stands where the live link goes."""

    key: str  # idempotency key, unique for ever: welcome:acme:<rev>, te-ligou:<linkedid>:acme/2001
    kind: Kind
    sender: str  # From, with display name: "PABX <nao-responda@pabx.example.com.br>"
    recipient: str  # To
    subject: str
    body_text: str
    body_html: str
    tenant: str | None = None
    link: PanelLink | None = None
    reply_to: str | None = None
    covers: tuple[str, ...] = ()  # event keys this message accounts for (a digest: many calls)

    @property
    def message_id(self) -> str:
        return message_id_for(self.key, self.sender)


def message_id_for(key: str, sender: str) -> str:
    """The Message-ID, derived from the idempotency key: a resend carries the same one."""
    domain = sender.rpartition("@")[2].rstrip(">").strip() or "pabx.invalid"
    return f"<pabx.{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"


@dataclass(frozen=True)
class Record:
    """One row of the outbox and log."""

    id: int
    key: str
    kind: Kind
    sender: str
    recipient: str
    subject: str
    created_at: dt.datetime  # UTC; the Date header
    status: MailStatus
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    message_id: str
    body_text: str
    body_html: str
    tenant: str | None
    link: PanelLink | None
    reply_to: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "key": self.key,
            "kind": str(self.kind),
            "from": self.sender,
            "to": self.recipient,
            "subject": self.subject,
            "created_at": iso(self.created_at),
            "status": str(self.status),
            "attempts": self.attempts,
            "last_error": self.last_error,
            "next_attempt_at": iso(self.next_attempt_at) if self.next_attempt_at else None,
            "sent_at": iso(self.sent_at) if self.sent_at else None,
            "message_id": self.message_id,
            "tenant": self.tenant,
        }


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def iso(value: dt.datetime) -> str:
    """UTC, second resolution, sortable as text: 2026-05-14T12:30:00Z."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
