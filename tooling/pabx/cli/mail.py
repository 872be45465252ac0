"""`pabx mail list|show|retry|send`: the e-mail log (the seed's E-mails screen) and its outbox."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from pabx.audit.clock import platform_timezone
from pabx.cli.options import format_option, repo_option
from pabx.errors import UserError
from pabx.mail.model import KIND_LABELS, STATUS_LABELS, MailStatus, Record, utc_now
from pabx.mail.outbox import Outbox, outbox_path
from pabx.mail.sender import SendResult

FAILED_EXIT_CODE = 1


def when(value: object, tz: ZoneInfo) -> str:
    if not isinstance(value, dt.datetime):
        return "—"
    return value.astimezone(tz).strftime("%d/%m/%Y %H:%M")


def _open(repo: Path) -> Outbox:
    return Outbox(outbox_path(repo))


@click.group("mail")
def command() -> None:
    """The e-mail log and outbox (state/mail/outbox.sqlite3): list, show, retry, send.

    Every e-mail the platform sends (Boas-vindas, Nova senha de acesso, "<caller> te ligou") is
    queued here first, with De, Para, Assunto, Data/hora and Status (pendente, enviado, falhou).
    Bodies are kept for viewing with the panel address replaced by "[link de acesso omitido]".

    Example: pabx mail list --status pendente
    """


@command.command("list")
@repo_option
@click.option(
    "--status",
    type=click.Choice([str(s) for s in MailStatus]),
    default=None,
    help="Only messages with this status.",
)
@click.option("--search", default=None, help="Every word somewhere in #, De, Para, Assunto, kind, status.")
@format_option("text", "json")
def list_(repo: Path, status: str | None, search: str | None, fmt: str) -> None:
    """List the e-mails, newest first (Data/hora in the platform's time zone).

    Example: pabx mail list --search acme --format json
    """
    with _open(repo) as outbox:
        records = outbox.records(status=MailStatus(status) if status else None, search=search)
    if fmt == "json":
        click.echo(json.dumps([r.to_json() for r in records], ensure_ascii=False, indent=2))
        return
    tz = platform_timezone(repo)
    header = ("#", "De", "Para", "Assunto", "Data/hora", "Status")
    rows = [
        (
            str(r.id),
            _address(r.sender),
            r.recipient,
            r.subject,
            when(r.created_at, tz),
            STATUS_LABELS[r.status]
            + (f" ({r.attempts} tent.)" if r.status is MailStatus.PENDING and r.attempts else ""),
        )
        for r in records
    ]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(header)]
    widths[3] = min(widths[3], 60)
    for row in (header, *rows):
        cells = [cell if i != 3 else _cut(cell, widths[3]) for i, cell in enumerate(row)]
        click.echo("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    click.echo(f"{len(records)} e-mail(s)")


def _address(value: str) -> str:
    return value.rpartition("<")[2].rstrip(">") if "<" in value else value


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@command.command("show")
@repo_option
@click.argument("ident", metavar="ID", type=int)
@click.option("--html", "as_html", is_flag=True, help="Print the HTML part instead of the text part.")
@format_option("text", "json")
def show(repo: Path, ident: int, as_html: bool, fmt: str) -> None:
    """Show one e-mail: its headers, status, attempts and body (the access link redacted).

    Example: pabx mail show 12
    """
    with _open(repo) as outbox:
        record = outbox.get(ident)
    if record is None:
        raise UserError(f"no e-mail #{ident} in {outbox_path(repo)} (see pabx mail list)")
    if fmt == "json":
        data = record.to_json() | {"body_text": record.body_text, "body_html": record.body_html}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    tz = platform_timezone(repo)
    click.echo("\n".join(show_lines(record, tz)))
    click.echo("")
    click.echo(record.body_html if as_html else record.body_text, nl=False)


def show_lines(record: Record, tz: ZoneInfo) -> list[str]:
    lines = [
        f"#:           {record.id}",
        f"Tipo:        {KIND_LABELS[record.kind]} ({record.kind})",
        f"De:          {record.sender}",
        f"Para:        {record.recipient}",
        f"Assunto:     {record.subject}",
        f"Data/hora:   {when(record.created_at, tz)} ({tz.key})",
        f"Status:      {STATUS_LABELS[record.status]}",
        f"Tentativas:  {record.attempts}",
    ]
    if record.sent_at:
        lines.append(f"Enviado em:  {when(record.sent_at, tz)}")
    if record.status is MailStatus.PENDING and record.next_attempt_at:
        lines.append(f"Próxima:     {when(record.next_attempt_at, tz)}")
    if record.last_error:
        lines.append(f"Último erro: {record.last_error}")
    lines.append(f"Message-ID:  {record.message_id}")
    lines.append(f"Chave:       {record.key}")
    return lines


@command.command("retry")
@repo_option
@click.argument("idents", metavar="[ID]...", type=int, nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every falhou and pendente e-mail.")
def retry(repo: Path, idents: tuple[int, ...], everything: bool) -> None:
    """Make e-mails due now: falhou ones go back to pendente, pendente ones skip their backoff.

    An enviado e-mail is never sent again. The next `pabx mail send` sends them.

    Example: pabx mail retry 12 15 && pabx mail send
    """
    if bool(idents) == everything:
        raise UserError("give message IDs or --all (one or the other)")
    with _open(repo) as outbox:
        if idents:
            unknown = [i for i in idents if outbox.get(i) is None]
            if unknown:
                raise UserError(f"no e-mail {', '.join(f'#{i}' for i in unknown)} (see pabx mail list)")
        changed = outbox.retry(None if everything else list(idents), utc_now())
    skipped = [i for i in idents if i not in changed]
    click.echo(f"{len(changed)} e-mail(s) due now: pabx mail send sends them")
    if skipped:
        click.echo(f"left alone (enviado or being sent): {', '.join(f'#{i}' for i in skipped)}")


@command.command("send")
@repo_option
def send(repo: Path) -> None:
    """Send the due e-mails now through the platform's SMTP server (inventory/platform.yaml smtp:).

    The password comes from the environment variable smtp.password_env names; the panel links
    need PABX_SECRET_KEY. Server down or a 4xx: the e-mails stay pendente and are tried again
    later, with an exponential backoff; a 5xx refusal: falhou (exit 1); an authentication or
    TLS problem: exit 2, the e-mails stay pendente. A message a killed sender left half-sent is
    sent again with the same Message-ID (see README, E-mails).

    Example: PABX_SECRET_KEY=... PABX_SMTP_PASSWORD=... pabx mail send
    """
    from pabx.loader import load_valid_repository
    from pabx.mail.service import send_outbox

    loaded, _ = load_valid_repository(repo)
    result = send_outbox(loaded)
    tz = platform_timezone(repo)
    for line in send_lines(result, tz):
        click.echo(line)
    if result.failed:
        sys.exit(FAILED_EXIT_CODE)


def send_lines(result: SendResult, tz: ZoneInfo) -> list[str]:
    lines = []
    for record in result.interrupted:
        lines.append(
            f"#{record.id} estava 'enviando' (envio anterior interrompido): reenviado com o mesmo Message-ID"
        )
    for record in result.sent:
        lines.append(f"#{record.id} enviado para {record.recipient}: {record.subject}")
    for record, error in result.failed:
        lines.append(f"#{record.id} FALHOU para {record.recipient}: {error}")
    for record, error in result.deferred:
        lines.append(f"#{record.id} pendente (nova tentativa depois): {error}")
    summary = f"{len(result.sent)} enviado(s), {len(result.failed)} falhou, {len(result.deferred)} adiado(s)"
    if result.pending:
        summary += f"; {result.pending} pendente(s), próxima tentativa {when(result.next_attempt, tz)}"
    lines.append(summary)
    return lines


def demo_step(repo: Path) -> None:
    """`pabx demo`'s e-mail step: the welcome e-mails of the demo tenants, sent to a local SMTP."""
    from pabx.loader import load_valid_repository
    from pabx.mail.demo import run_demo
    from pabx.render.secrets import Secrets

    loaded, _ = load_valid_repository(repo)
    tz = platform_timezone(repo)
    click.echo("\n== e-mails: boas-vindas dos clientes (fila em build/demo/mail/, SMTP local)")
    demo = run_demo(loaded, repo / "build" / "demo", Secrets.from_environment())
    new = [q for q in demo.queued if q.id is not None]
    click.echo(
        f"{len(new)} e-mail(s) de boas-vindas na fila; a mesma fila outra vez: {demo.queued_again} novo(s)"
    )
    if demo.sent is None:
        click.echo(f"sem servidor SMTP ({demo.note}): os e-mails ficam pendentes no registro")
    else:
        click.echo(f"servidor SMTP local em 127.0.0.1 (aiosmtpd): {demo.received} mensagem(ns) recebida(s)")
        for line in send_lines(demo.sent, tz):
            click.echo(line)
    for record in demo.records:
        click.echo(
            f"  #{record.id} {STATUS_LABELS[record.status]:<9} {record.recipient:<42} {record.subject}"
        )
    click.echo(f"registro: {demo.outbox} (pabx mail list lê o do diretório de estado)")
    if demo.eml_dir:
        click.echo(f"mensagens recebidas (.eml): {demo.eml_dir}")
