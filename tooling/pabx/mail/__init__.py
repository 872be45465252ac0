"""E-mails: the durable outbox and log (SQLite), pt-BR templates, SMTP sending, the events that
queue mails (welcome and new access address after an apply, missed-call notices from CDRs)."""

from pabx.mail.model import REDACTED, Draft, Kind, MailStatus, PanelLink, Record
from pabx.mail.outbox import Outbox, outbox_path

__all__ = [
    "REDACTED",
    "Draft",
    "Kind",
    "MailStatus",
    "Outbox",
    "PanelLink",
    "Record",
    "outbox_path",
]
