"""What the commands call: send the outbox of a repository with its platform's settings."""

from __future__ import annotations

from collections.abc import Mapping

from pabx.loader import Repository
from pabx.mail.links import panel_url
from pabx.mail.model import PanelLink, utc_now
from pabx.mail.outbox import Outbox
from pabx.mail.sender import DEFAULT_LOCK_WAIT_S, Clock, LinkMaker, SendResult, send_due
from pabx.mail.smtp import SmtpSettings, settings_from
from pabx.render.secrets import Secrets


def link_maker(repo: Repository, secrets: Secrets) -> LinkMaker | None:
    """Panel-link recipe -> live address; None without PABX_SECRET_KEY."""
    platform = repo.platform
    if secrets.masked or platform is None:
        return None

    def make(link: PanelLink) -> str:
        return panel_url(platform, secrets, link.tenant, link.rotation)

    return make


def send_outbox(
    repo: Repository,
    *,
    settings: SmtpSettings | None = None,
    secrets: Secrets | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Clock = utc_now,
    lock_wait_s: float = DEFAULT_LOCK_WAIT_S,
) -> SendResult:
    """Send what is due in the repository's outbox. The SMTP settings (and their password) are
    needed only when something is due: an empty outbox never fails for want of them."""
    with Outbox.for_repo(repo.root) as outbox:
        if not outbox.due(clock()):
            result = SendResult()
            result.pending, result.next_attempt = outbox.next_attempt()
            return result
        chosen = settings or settings_from(repo.platform, environ)
        live = link_maker(repo, secrets or Secrets.from_environment())
        return send_due(outbox, chosen, live, clock=clock, lock_wait_s=lock_wait_s)
