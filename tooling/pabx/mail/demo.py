"""The e-mail step of `make demo`: welcome e-mails for the demo tenants, sent to a local SMTP.

The demo keeps its own outbox under build/demo/mail/ (rebuilt each run), so it never marks a real
tenant as welcomed in the state directory's outbox.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pabx.gitinfo import revision
from pabx.loader import Repository
from pabx.mail import compose, localsmtp
from pabx.mail.events import ACTIVE, Queued, event_revision, queue_drafts, welcome_draft
from pabx.mail.model import Record
from pabx.mail.outbox import Outbox
from pabx.mail.sender import SendResult, send_due
from pabx.mail.service import link_maker
from pabx.mail.smtp import SmtpSettings
from pabx.model.platform import SmtpSecurity
from pabx.render.secrets import Secrets

OUTBOX = "outbox.sqlite3"


@dataclass
class DemoMail:
    outbox: Path
    queued: list[Queued]
    queued_again: int  # what a second run queued: 0, sending is idempotent
    sent: SendResult | None  # None: no SMTP server could be started
    received: int = 0
    eml_dir: Path | None = None
    records: list[Record] = field(default_factory=list)
    note: str = ""


def run_demo(repo: Repository, workdir: Path, secrets: Secrets) -> DemoMail:
    folder = workdir / "mail"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = compose.environment(repo.root)
    rev = revision(repo.root)
    slugs = [s for s, t in sorted(repo.tenants.items()) if t.status.value in ACTIVE]
    drafts = [welcome_draft(repo, env, slug, event_revision(repo.root, slug, rev)) for slug in slugs]
    with Outbox(folder / OUTBOX) as outbox:
        queued = queue_drafts(outbox, drafts)
        again = sum(1 for q in queue_drafts(outbox, drafts) if q.id is not None)
        demo = DemoMail(folder / OUTBOX, queued, again, None)
        if not localsmtp.available():
            demo.note = "aiosmtpd is not installed: no local SMTP server"
        else:
            sender = (
                repo.platform.smtp.sender if repo.platform and repo.platform.smtp else "demo@pabx.invalid"
            )
            server = localsmtp.LocalSmtp()
            try:
                server.__enter__()
            except (OSError, RuntimeError) as exc:  # could not listen on loopback
                demo.note = f"the local SMTP server did not start ({exc})"
            else:
                try:
                    settings = SmtpSettings(
                        "127.0.0.1", server.port, SmtpSecurity.NONE, str(sender), timeout=5
                    )
                    demo.sent = send_due(outbox, settings, link_maker(repo, secrets))
                finally:
                    server.__exit__(None, None, None)
                demo.received = len(server.received)
                demo.eml_dir = folder / "received"
                demo.eml_dir.mkdir()
                for n, message in enumerate(server.received, start=1):
                    (demo.eml_dir / f"{n:03d}.eml").write_bytes(message.data)
        demo.records = outbox.records()
    return demo
