"""A throwaway SMTP server on 127.0.0.1 (aiosmtpd, in-process) that keeps what it receives.

For `make demo` only: it shows the sending path end to end without a real mail server.
aiosmtpd is a development dependency; without it `available()` is False.
"""

from __future__ import annotations

import importlib.util
import socket
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any


def available() -> bool:
    return importlib.util.find_spec("aiosmtpd") is not None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class _Sink:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


class LocalSmtp:
    """`with LocalSmtp() as server:` a server on 127.0.0.1:server.port; server.received."""

    def __init__(self) -> None:
        self.port = free_port()
        self._sink = _Sink()
        self._controller: Any = None

    @property
    def received(self) -> list[Received]:
        return self._sink.received

    def __enter__(self) -> LocalSmtp:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self._sink, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._controller is not None:
            self._controller.stop()
