"""Helpers for the mail tests: a real SMTP server on loopback (aiosmtpd) with the behaviours the
tests need (AUTH, STARTTLS with a certificate made here, refused recipients, killing the sender
mid-delivery), the repository's SMTP settings pointed at it, and hand-made CDR legs."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import os
import signal
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

PLATFORM_HEADER = "# yaml-language-server: $schema=../schemas/platform.schema.json\n"
SENDER = "nao-responda@pabx.example.com.br"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Handler:
    """What the server does: refuse some recipients, keep every message, kill a process at DATA."""

    refuse: dict[str, str] = field(default_factory=dict)  # address -> "550 5.1.1 ..." / "451 ..."
    raw: list[bytes] = field(default_factory=list)
    over_tls: list[bool] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    kill_at_data: int | None = None  # pid to SIGKILL once the message is stored, before the 250

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(bytes(envelope.content))
        self.over_tls.append(session.ssl is not None)
        if self.kill_at_data is not None:
            # the server has the message; the sender dies before it hears the 250
            os.kill(self.kill_at_data, signal.SIGKILL)
            self.kill_at_data = None
        return "250 2.0.0 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        out = []
        for data in self.raw:
            message = email.message_from_bytes(data, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            out.append(message)
        return out


class SmtpServer:
    """aiosmtpd on 127.0.0.1:<free port>, optionally with AUTH (user, password) and STARTTLS."""

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
        refuse: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.handler = Handler(refuse=dict(refuse or {}))
        self.auth = auth
        self.tls = tls
        self._controller: Any = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(data, LoginPassword)
            and self.auth is not None
            and (data.login.decode(), data.password.decode()) == self.auth
        )
        if ok:
            self.handler.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        kwargs: dict[str, Any] = {}
        if self.auth:
            kwargs |= {"authenticator": self._authenticate, "auth_require_tls": self.tls is not None}
        if self.tls:
            kwargs |= {"tls_context": self.tls, "require_starttls": True}
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def use_smtp(
    repo: Path,
    port: int,
    *,
    security: str = "none",
    user: str | None = None,
    host: str = "127.0.0.1",
) -> None:
    """Point inventory/platform.yaml's smtp: at a test server (password in PABX_SMTP_PASSWORD)."""
    path = repo / "inventory" / "platform.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    smtp: dict[str, Any] = {"host": host, "port": port, "security": security, "sender": SENDER}
    if user:
        smtp |= {"user": user, "password_env": "PABX_SMTP_PASSWORD"}
    data["smtp"] = smtp
    path.write_text(
        PLATFORM_HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )


def self_signed(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate for `host` (IP and localhost), made here with cryptography; (cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pabx test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def leg(
    linkedid: str,
    *,
    start: str,
    end: str,
    disposition: str,
    dstchannel: str,
    answer: str | None = None,
    src: str = "11987654321",
    clid: str | None = None,
    channel: str = "PJSIP/trunk_vivo-sp-00000010",
    dst: str = "2001",
    dcontext: str = "t_acme_internal",
    app: str = "Dial",
    data: str = "PJSIP/acme_2001,30",
    userfield: str = "entrada:ramal",
    account: str = "acme",
    seq: int = 1,
) -> str:
    """One cdr_csv row (21 columns, times in UTC) as Asterisk writes it."""

    def secs(a: str, b: str) -> int:
        return int((dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds())

    caller_id = clid if clid is not None else f'"{src}" <{src}>'
    fields = [
        account,
        src,
        dst,
        dcontext,
        caller_id,
        channel,
        dstchannel,
        app,
        data,
        start,
        answer or "",
        end,
        str(secs(start, end)),
        str(secs(answer, end) if answer else 0),
        disposition,
        "DOCUMENTATION",
        linkedid,
        userfield,
        account,
        linkedid,
        str(seq),
    ]
    numbers = {12, 13, 20}  # duration, billsec, sequence: unquoted; an empty answer too
    quoted = [f if i in numbers or not f else '"' + f.replace('"', '""') + '"' for i, f in enumerate(fields)]
    return ",".join(quoted) + "\n"
