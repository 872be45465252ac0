"""Messages from templates/email/ (pt-BR): the redacted draft kept in the log, the MIME message sent.

Each kind has three templates: `<name>.subject.j2`, `<name>.txt.j2` and `<name>.html.j2` (the
HTML one autoescaped); a repository may override any of them by path, as the other templates.
A body that carries the tenant's panel address is rendered with REDACTED in its place: that is
what the log keeps and shows. The sender puts the live address back only into the bytes it hands
to the SMTP server.
"""

from __future__ import annotations

import email.policy
import email.utils
import hashlib
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from pabx.errors import InternalError, UserError
from pabx.mail.model import REDACTED, Record
from pabx.render.env import template_dirs

# A stand-in link with only URL-safe characters: proves the redacted body turns into the sent one
# by replacing REDACTED, whatever the template does with the link.
_PROBE = "https://verificacao.invalid/painel/PROBE-0123456789_abc-XYZ/"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def environment(repo_root: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(repo_root)]),
        undefined=jinja2.StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )


def render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> Rendered:
    """The three parts of template set `name` (boas-vindas, redefinicao, te-ligou, te-ligou-resumo)."""
    try:
        subject = " ".join(env.get_template(f"email/{name}.subject.j2").render(**context).split())
        text = env.get_template(f"email/{name}.txt.j2").render(**context)
        html = env.get_template(f"email/{name}.html.j2").render(**context, subject=subject)
    except jinja2.TemplateSyntaxError as exc:
        raise UserError(f"{exc.filename or exc.name}:{exc.lineno}: e-mail template: {exc.message}") from None
    return Rendered(subject, text.rstrip() + "\n", html)


def render_redacted(env: jinja2.Environment, name: str, context: dict[str, Any]) -> Rendered:
    """Render with REDACTED as `access_link`, and check that the live message is exactly this
    with REDACTED replaced (so the log shows what was sent, minus the address)."""
    shown = render(env, name, {**context, "access_link": REDACTED})
    probe = render(env, name, {**context, "access_link": _PROBE})
    text, html = with_link(shown.text, shown.html, _PROBE)
    if (text, html, shown.subject) != (probe.text, probe.html, probe.subject) or REDACTED not in shown.text:
        raise InternalError(
            f"e-mail template {name}: the access link must appear in the bodies (not the subject) "
            f"and the redacted text {REDACTED!r} must not appear otherwise"
        )
    return shown


def with_link(text: str, html: str, link: str) -> tuple[str, str]:
    """The bodies with the live address where the log shows REDACTED."""
    return text.replace(REDACTED, link), html.replace(REDACTED, str(markupsafe.escape(link)))


def sender_address(display_name: str, address: str) -> str:
    """'PABX White Label <nao-responda@…>', quoted as RFC 5322 needs; non-ASCII kept readable here
    (the header is RFC 2047 encoded when the message is built)."""
    user, _, domain = address.partition("@")
    return str(Address(display_name=display_name, username=user, domain=domain))


def mime_message(record: Record, live_link: str | None) -> EmailMessage:
    """The message as sent: multipart/alternative (text, then HTML), UTF-8 in quoted-printable
    (7-bit: no server needs 8BITMIME), with the headers an
    automatic message needs. The same record always gives the same bytes (Date is the queue
    time, Message-ID comes from the idempotency key), so a resend is the same message."""
    text, html = record.body_text, record.body_html
    if record.link is not None:
        if live_link is None:
            raise InternalError(f"message {record.id} carries a panel link but none was given")
        text, html = with_link(text, html, live_link)
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = record.sender
    msg["To"] = record.recipient
    if record.reply_to:
        msg["Reply-To"] = record.reply_to
    msg["Subject"] = record.subject
    msg["Date"] = email.utils.format_datetime(record.created_at)
    msg["Message-ID"] = record.message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["Content-Language"] = "pt-BR"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    # a boundary of its own, not a random one: the same record, the same bytes
    msg.set_boundary("=_pabx_" + hashlib.sha256(record.message_id.encode()).hexdigest()[:40])
    return msg


def envelope_address(header_value: str) -> str:
    """The bare address of a From/To value, for the SMTP envelope."""
    return email.utils.parseaddr(header_value)[1]
