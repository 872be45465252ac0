"""Sending the outbox: at-least-once delivery, duplicates suppressed as far as SMTP allows.

For each due message, in this order, each step committed before the next:
1. claim: status `enviando`, a fresh send token, attempts+1;
2. hand the message to the SMTP server (its Message-ID and Date come from the record, so the
   same record always gives the same message);
3. once the server accepted it (250 after DATA): status `enviado`.

Only one sender runs at a time (an exclusive lock on `<state>/mail/send.lock`, released by the
kernel when the process dies, even by SIGKILL). So a message a run finds `enviando` was claimed
by a sender that died between 1 and 3: the server may or may not have accepted it, and SMTP has
no way to ask. It is sent again, with the same Message-ID (receiving systems and clients that
deduplicate by Message-ID show it once), and the log says so. Nothing is lost; a duplicate is
possible only if the process dies in the instant between the server's acceptance and the
commit of step 3.

Outcomes: accepted -> enviado; a 5xx for the recipient or the content -> falhou (with the error;
`pabx mail retry` queues it again); a 4xx, a refused connection, a timeout, a dropped connection
-> pendente with an exponential backoff (outbox.backoff); an authentication or TLS failure -> a
UserError naming the setting, and the messages stay pendente.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import smtplib
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pabx.errors import UserError
from pabx.loader.layout import PLATFORM_FILE
from pabx.mail import smtp as smtpmod
from pabx.mail.compose import envelope_address, mime_message
from pabx.mail.model import MailStatus, PanelLink, Record, utc_now
from pabx.mail.outbox import Outbox

LOCK_FILE = "send.lock"
DEFAULT_LOCK_WAIT_S = 60.0

LinkMaker = Callable[[PanelLink], str]
Clock = Callable[[], dt.datetime]


@dataclass
class SendResult:
    sent: list[Record] = field(default_factory=list)
    failed: list[tuple[Record, str]] = field(default_factory=list)  # refused for good
    deferred: list[tuple[Record, str]] = field(default_factory=list)  # try again later
    interrupted: list[Record] = field(default_factory=list)  # found enviando: sent again
    pending: int = 0  # pendente after the run
    next_attempt: dt.datetime | None = None

    @property
    def handled(self) -> int:
        return len(self.sent) + len(self.failed) + len(self.deferred)


@contextmanager
def send_lock(folder: Path, wait_s: float = DEFAULT_LOCK_WAIT_S) -> Iterator[None]:
    """Only one sender at a time; waits up to `wait_s` for another run to finish."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    with path.open("a+") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise UserError(
                        f"another `pabx mail send` holds {path} (waited {wait_s:.0f} s); try again later"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def send_due(
    outbox: Outbox,
    settings: smtpmod.SmtpSettings,
    live_link: LinkMaker | None,
    *,
    clock: Clock = utc_now,
    lock_wait_s: float = DEFAULT_LOCK_WAIT_S,
) -> SendResult:
    """Send what is due now (and what a dead sender left `enviando`); see the module docstring.

    `live_link` turns a message's panel-link recipe into the live address (None when
    PABX_SECRET_KEY is absent: a due message that carries a link is then a UserError, and
    nothing is sent).
    """
    result = SendResult()
    with send_lock(outbox.path.parent, lock_wait_s):
        due = outbox.due(clock())
        if due:
            if live_link is None and any(r.link for r in due):
                raise UserError(
                    "PABX_SECRET_KEY is not set: it is needed to put the Painel do usuário address "
                    "into the welcome and new-access e-mails; nothing was sent, the e-mails stay pendente"
                )
            _send(outbox, settings, live_link, due, clock, result)
        result.pending, result.next_attempt = outbox.next_attempt()
    return result


def _send(
    outbox: Outbox,
    settings: smtpmod.SmtpSettings,
    live_link: LinkMaker | None,
    due: list[Record],
    clock: Clock,
    result: SendResult,
) -> None:
    try:
        session = smtpmod.connect(settings)
    except smtpmod.Temporary as exc:
        outbox.defer([r.id for r in due], str(exc), clock())
        result.deferred.extend((r, str(exc)) for r in due)
        return
    sender = envelope_address(settings.sender) or settings.sender
    try:
        for index, record in enumerate(due):
            if record.status is MailStatus.SENDING:
                outbox.note_interrupted(record.id, clock())
                result.interrupted.append(record)
            link = live_link(record.link) if (record.link and live_link) else None
            data = mime_message(record, link).as_bytes()
            token = uuid.uuid4().hex
            if not outbox.claim(record.id, token, clock()):
                continue  # changed under us (a retry command): leave it to the next run
            try:
                session.sendmail(sender, [envelope_address(record.recipient)], data)
            except smtplib.SMTPSenderRefused as exc:
                error = f"remetente {sender} recusado: {smtpmod.describe(exc)}"
                outbox.mark_retry(record.id, error, clock())
                outbox.defer([r.id for r in due[index + 1 :]], error, clock())
                result.deferred.extend((r, error) for r in due[index:])
                if exc.smtp_code >= 500:
                    raise UserError(
                        f"the SMTP server at {settings.where} refuses the sender {sender} "
                        f"({smtpmod.describe(exc)}): check smtp.sender in {PLATFORM_FILE}. "
                        "The e-mails stay pendente"
                    ) from None
                return
            except (
                smtplib.SMTPResponseException,
                smtplib.SMTPRecipientsRefused,
            ) as exc:  # about this message
                error = smtpmod.describe(exc)
                if smtpmod.is_permanent(exc):
                    outbox.mark_failed(record.id, error, clock())
                    result.failed.append((record, error))
                else:
                    outbox.mark_retry(record.id, error, clock())
                    result.deferred.append((record, error))
                continue
            except OSError as exc:  # SMTPServerDisconnected, a reset, a timeout (SMTPException is one)
                # the connection is gone: this message may or may not have been accepted
                error = f"conexão perdida durante o envio: {smtpmod.describe(exc)}"
                outbox.mark_retry(record.id, error, clock())
                outbox.defer([r.id for r in due[index + 1 :]], error, clock())
                result.deferred.extend((r, error) for r in due[index:])
                return
            outbox.mark_sent(record.id, token, clock())
            result.sent.append(record)
    finally:
        smtpmod.close(session)
