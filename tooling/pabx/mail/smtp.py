"""The platform's SMTP server (inventory/platform.yaml `smtp:`): settings, connection, and what
each SMTP outcome means for a message (sent, try again later, refused for good, a setting wrong).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field

from pabx.errors import UserError
from pabx.loader.layout import PLATFORM_FILE
from pabx.model.platform import Platform, SmtpSecurity

DEFAULT_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: SmtpSecurity
    sender: str  # envelope and From address
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    password_env: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port} ({self.security.value})"


def settings_from(platform: Platform | None, environ: Mapping[str, str] | None = None) -> SmtpSettings:
    """The settings of `inventory/platform.yaml`, with the password from its environment variable."""
    env = os.environ if environ is None else environ
    if platform is None or platform.smtp is None:
        raise UserError(f"{PLATFORM_FILE}: no smtp: section; e-mails stay pendente until one is set")
    smtp = platform.smtp
    password = None
    if smtp.user:
        if not smtp.password_env:
            raise UserError(
                f"{PLATFORM_FILE}: smtp.user is set but smtp.password_env is not: "
                "name the environment variable that holds the SMTP password"
            )
        password = env.get(smtp.password_env)
        if not password:
            raise UserError(
                f"environment variable {smtp.password_env} is not set: it holds the SMTP password of "
                f"{smtp.user} ({PLATFORM_FILE} smtp.password_env); e-mails stay pendente"
            )
    return SmtpSettings(
        host=smtp.host,
        port=smtp.port,
        security=smtp.security,
        sender=str(smtp.sender),
        user=smtp.user,
        password=password,
        password_env=smtp.password_env,
    )


class Temporary(Exception):
    """The server is unreachable or asks to try later (4xx, refused connection, timeout)."""


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An open, secured and authenticated session. Raises Temporary when the server cannot be
    reached now, UserError when a setting is wrong (authentication, TLS, STARTTLS missing)."""
    context = ssl.create_default_context()  # verifies the certificate and the host name
    smtp: smtplib.SMTP | None = None
    try:
        if settings.security is SmtpSecurity.SSL:
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        smtp.ehlo()
        if settings.security is SmtpSecurity.STARTTLS:
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        return smtp
    except smtplib.SMTPAuthenticationError as exc:
        _quit(smtp)
        raise UserError(
            f"SMTP authentication failed at {settings.where} for smtp.user {settings.user!r}: "
            f"{exc.smtp_code} {_text(exc.smtp_error)}; check smtp.user in {PLATFORM_FILE} and the password "
            f"in ${settings.password_env}. The e-mails stay pendente"
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        _quit(smtp)
        what = "STARTTLS" if settings.security is SmtpSecurity.STARTTLS else "authentication (AUTH)"
        raise UserError(
            f"the SMTP server at {settings.where} does not offer {what} ({exc}); check smtp.security "
            f"and smtp.port in {PLATFORM_FILE}. The e-mails stay pendente"
        ) from None
    except ssl.SSLCertVerificationError as exc:
        _quit(smtp)
        raise UserError(
            f"the SMTP server at {settings.where} presented a certificate that is not trusted "
            f"({exc.verify_message}); check smtp.host in {PLATFORM_FILE} (it must match the certificate). "
            "The e-mails stay pendente"
        ) from None
    except ssl.SSLError as exc:
        _quit(smtp)
        raise UserError(
            f"TLS with the SMTP server at {settings.where} failed ({exc.reason or exc}); "
            f"check smtp.security and smtp.port in {PLATFORM_FILE} (ssl is usually 465, starttls 587). "
            "The e-mails stay pendente"
        ) from None
    except smtplib.SMTPResponseException as exc:
        _quit(smtp)
        raise Temporary(f"servidor SMTP {settings.where}: {exc.smtp_code} {_text(exc.smtp_error)}") from None
    except (smtplib.SMTPException, OSError) as exc:  # refused, timeout, DNS, disconnected
        _quit(smtp)
        raise Temporary(f"servidor SMTP {settings.where} indisponível: {_describe(exc)}") from None


def _quit(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def close(smtp: smtplib.SMTP) -> None:
    _quit(smtp)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "tempo esgotado"
    if isinstance(exc, ConnectionRefusedError):
        return "conexão recusada"
    return f"{type(exc).__name__}: {exc}"


def describe(exc: BaseException) -> str:
    """One line for the log: the SMTP code and text, or the network error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return _describe(exc)


def is_permanent(exc: BaseException) -> bool:
    """A 5xx answer about this message (its recipient or its content): retrying will not help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False
