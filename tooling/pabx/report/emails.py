"""The E-mails screen of the admin tree: the log of the outbox (pabx.mail), and a page per message.

Admin only: recipients are personal data. Bodies are the redacted ones the log keeps (the panel
address reads "[link de acesso omitido]"), so the site never carries a live link from a mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pabx.mail.model import KIND_LABELS, STATUS_LABELS, MailStatus, Record, iso
from pabx.mail.outbox import Outbox
from pabx.report import fmt
from pabx.report.lists import Cell, Column, Table

PAGE = "emails"


def load_mail_log(outbox: Path) -> list[Record]:
    """Every message of the outbox at `outbox`, newest first; none when there is no outbox yet."""
    if not outbox.is_file():
        return []
    with Outbox(outbox) as log:
        return log.records()


def message_href(record: Record) -> str:
    return f"{PAGE}/{record.id}.html"


def table(records: Sequence[Record], timezone: str) -> Table:
    columns = (
        Column("#", "number"),
        Column("De"),
        Column("Para"),
        Column("Assunto"),
        Column("Data/hora", "date"),
        Column("Status"),
    )
    rows: list[tuple[Cell, ...]] = []
    for record in sorted(records, key=lambda r: r.id, reverse=True):
        rows.append(
            (
                Cell.number(record.id),
                Cell(record.sender),
                Cell(record.recipient),
                Cell(record.subject, href=message_href(record), title=KIND_LABELS[record.kind]),
                Cell(fmt.datetime_br(record.created_at, timezone), sort=iso(record.created_at)),
                Cell(status_text(record), title=record.last_error or None),
            )
        )
    note = f"Horários em {timezone}. O endereço do Painel do usuário nunca aparece aqui: lê-se [link de acesso omitido]."
    return Table(PAGE, "E-mails", columns, rows, note)


def status_text(record: Record) -> str:
    label = STATUS_LABELS[record.status]
    if record.status is MailStatus.PENDING and record.attempts:
        return f"{label} ({record.attempts} tentativa{'s' if record.attempts != 1 else ''})"
    return label
