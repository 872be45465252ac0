"""E-mail sending against a real SMTP server on loopback (aiosmtpd): content and headers, the
redacted log, idempotency, server down then up, 4xx/5xx refusals, authentication, STARTTLS, and a
sender killed between the server's acceptance and the log update."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from pabx.cli import main
from pabx.errors import UserError
from pabx.loader import Repository, load_valid_repository
from pabx.mail import REDACTED, Draft, Kind, MailStatus, Outbox, outbox_path
from pabx.mail.compose import environment, render
from pabx.mail.events import sender_of, welcome_draft
from pabx.mail.links import panel_url
from pabx.mail.outbox import BACKOFF_CAP_S, backoff
from pabx.mail.service import send_outbox
from pabx.render.secrets import Secrets
from tests.conftest import ROOT
from tests.mail_support import SENDER, SmtpServer, free_port, self_signed, server_tls_context, use_smtp

KEY = "test-throwaway-key"  # conftest sets PABX_SECRET_KEY to it
T0 = dt.datetime(2026, 5, 14, 12, 0, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves: backoff is about time, not about sleeping."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def load(root: Path) -> Repository:
    repo, _ = load_valid_repository(root)
    return repo


def queue_welcome(root: Path, slug: str = "acme", revision: str = "rev1") -> int:
    repo = load(root)
    with Outbox.for_repo(root) as outbox:
        ident = outbox.enqueue(welcome_draft(repo, environment(root), slug, revision), now=T0)
    assert ident is not None
    return ident


def queue_plain(root: Path, key: str, to: str, subject: str = "Aviso de teste") -> int:
    repo = load(root)
    draft = Draft(key, Kind.MISSED_CALL, sender_of(repo), to, subject, "Olá, ação!\n", "<p>Olá, ação!</p>")
    with Outbox.for_repo(root) as outbox:
        ident = outbox.enqueue(draft, now=T0)
    assert ident is not None
    return ident


def record(root: Path, ident: int):  # type: ignore[no-untyped-def]
    with Outbox.for_repo(root) as outbox:
        found = outbox.get(ident)
    assert found is not None
    return found


def parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}


# -- delivery and content ---------------------------------------------------------------------


def test_welcome_is_delivered_with_headers_both_parts_and_the_live_link_only_in_the_sent_message(
    demo_repo: Path, runner: CliRunner
) -> None:
    with SmtpServer() as server:
        use_smtp(demo_repo, server.port)
        ident = queue_welcome(demo_repo, "acme")
        result = send_outbox(load(demo_repo), clock=Clock())
    assert [r.id for r in result.sent] == [ident] and not result.failed and not result.deferred
    (message,) = server.handler.messages
    raw = server.handler.raw[0]
    repo = load(demo_repo)
    acme = repo.tenants["acme"]
    assert repo.platform is not None
    link = panel_url(repo.platform, Secrets(KEY.encode()), "acme", acme.access_rotation)
    assert link.startswith("https://portal.pabx.example.com.br/painel/") and link.endswith("/")

    # headers: From with the platform's name, To, Subject RFC 2047 on the wire, Date, Message-ID
    assert message["From"].addresses[0].display_name == "PABX White Label Demo"
    assert message["From"].addresses[0].addr_spec == SENDER
    assert message["To"].addresses[0].addr_spec == str(acme.email)
    subject = "Boas-vindas à PABX White Label Demo: seu acesso ao Painel do usuário"
    assert message["Subject"] == subject
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    head.decode("ascii")  # every header is 7-bit on the wire
    assert b"=?utf-8?" in head.lower()
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Reply-To"].addresses[0].addr_spec == "suporte@pabx.example.com.br"
    sent = record(demo_repo, ident)
    assert message["Message-ID"] == sent.message_id
    assert message["Date"].datetime == T0
    assert sent.status is MailStatus.SENT and sent.attempts == 1 and sent.sent_at == T0

    # multipart/alternative: text then HTML, both UTF-8, both with the live link and pt-BR text
    assert message.get_content_type() == "multipart/alternative"
    bodies = parts(message)
    assert list(bodies) == ["text/plain", "text/html"]
    for body in bodies.values():
        assert link in body
        assert "Código de serviço" in body and acme.service_code in body
        assert "Acme Comércio Ltda" in body and REDACTED not in body
    assert f'href="{link}"' in bodies["text/html"]

    # the log keeps the redacted body; neither the log nor the commands ever show the link
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert REDACTED in sent.body_text and REDACTED in sent.body_html
    assert token not in sent.body_text + sent.body_html
    with Outbox.for_repo(demo_repo) as outbox:
        stored = outbox_path(demo_repo).read_bytes() + b"".join(
            p.read_bytes() for p in outbox.path.parent.glob("outbox.sqlite3*")
        )
    assert token.encode() not in stored
    for args in (["mail", "list"], ["mail", "show", str(ident)], ["mail", "show", str(ident), "--html"]):
        shown = runner.invoke(main, [*args, "--repo", str(demo_repo)])
        assert shown.exit_code == 0, shown.output
        assert token not in shown.output
    shown = runner.invoke(main, ["mail", "show", str(ident), "--repo", str(demo_repo)])
    assert "Status:      Enviado" in shown.output and REDACTED in shown.output
    assert "Data/hora:   14/05/2026 09:00 (America/Sao_Paulo)" in shown.output  # UTC stored, shown local


def test_non_ascii_subject_and_body_are_encoded_and_decode_back(demo_repo: Path) -> None:
    repo = load(demo_repo)
    env = environment(demo_repo)
    call = {
        "caller_label": "João da Conceição",
        "caller_full": "João da Conceição ((11) 98765-4321)",
        "when": "14/05/2026 09:30",
    }
    context = {
        "platform_name": "PABX White Label Demo",
        "support_email": None,
        "portal_url": "",
        "timezone_label": "horário de Brasília",
        "tenant_name": "Acme Comércio Ltda",
        "extension_number": "2001",
        "extension_name": "Recepção",
        "call": call,
    }
    shown = render(env, "te-ligou", context)
    assert shown.subject == "João da Conceição te ligou"
    draft = Draft("te-ligou:x:acme/2001", Kind.MISSED_CALL, sender_of(repo), "recepcao@acmecomercio.com.br",
                  shown.subject, shown.text, shown.html)  # fmt: skip
    with Outbox.for_repo(demo_repo) as outbox:
        outbox.enqueue(draft, now=T0)
    with SmtpServer() as server:
        use_smtp(demo_repo, server.port)
        send_outbox(load(demo_repo), clock=Clock())
    (message,) = server.handler.messages
    assert message["Subject"] == "João da Conceição te ligou"
    assert b"Concei\xc3\xa7\xc3\xa3o" not in server.handler.raw[0]  # 8-bit never on the wire
    bodies = parts(message)
    assert "João da Conceição ((11) 98765-4321)" in bodies["text/plain"]
    assert "Recepção" in bodies["text/plain"]
    assert "João da Conceição" in bodies["text/html"] and "14/05/2026 09:30" in bodies["text/html"]


def test_html_part_escapes_what_the_data_says(demo_repo: Path) -> None:
    env = environment(demo_repo)
    call = {"caller_label": "<script>x</script>", "caller_full": "<b>&</b>", "when": "14/05/2026 09:30"}
    shown = render(
        env,
        "te-ligou",
        {"platform_name": "P", "support_email": None, "portal_url": "", "timezone_label": "t",
         "tenant_name": "T & Cia", "extension_number": "1", "extension_name": "R", "call": call},
    )  # fmt: skip
    assert "<script>" not in shown.html and "&lt;script&gt;" in shown.html and "T &amp; Cia" in shown.html
    assert "<script>x</script> te ligou" in shown.text  # the text part is text


# -- idempotency --------------------------------------------------------------------------------


def test_the_same_event_is_queued_once_and_sent_once_across_reruns(demo_repo: Path) -> None:
    repo = load(demo_repo)
    draft = welcome_draft(repo, environment(demo_repo), "acme", "rev1")
    with Outbox.for_repo(demo_repo) as outbox:
        first = outbox.enqueue(draft, now=T0)
        assert first is not None
        assert outbox.enqueue(draft, now=T0) is None
        assert outbox.enqueue(welcome_draft(repo, environment(demo_repo), "acme", "rev1")) is None
    clock = Clock()
    with SmtpServer() as server:
        use_smtp(demo_repo, server.port)
        for _ in range(3):
            send_outbox(load(demo_repo), clock=clock)
            clock.advance(hours=3)
    assert len(server.handler.raw) == 1
    with Outbox.for_repo(demo_repo) as outbox:
        assert outbox.counts()["enviado"] == 1 and len(outbox.records()) == 1


def test_nothing_due_needs_no_smtp_settings(demo_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_smtp(demo_repo, free_port(), user="someone")  # password variable unset: would be an error
    monkeypatch.delenv("PABX_SMTP_PASSWORD", raising=False)
    result = send_outbox(load(demo_repo), clock=Clock())
    assert result.handled == 0 and result.pending == 0


# -- server down, refusals -------------------------------------------------------------------


def test_server_down_then_up_backs_off_then_delivers_each_message_once(demo_repo: Path) -> None:
    port = free_port()
    use_smtp(demo_repo, port)
    first = queue_welcome(demo_repo, "acme")
    second = queue_plain(demo_repo, "teste:2", "recepcao@acmecomercio.com.br")
    clock = Clock()
    down = send_outbox(load(demo_repo), clock=clock)  # nothing listens on the port
    assert {r.id for r, _ in down.deferred} == {first, second} and not down.sent
    assert "conexão recusada" in down.deferred[0][1]
    for ident in (first, second):
        pending = record(demo_repo, ident)
        assert pending.status is MailStatus.PENDING and pending.attempts == 1
        assert pending.next_attempt_at == T0 + backoff(1) == T0 + dt.timedelta(minutes=2)
        assert pending.last_error and "indisponível" in pending.last_error
    clock.advance(minutes=1)
    again = send_outbox(load(demo_repo), clock=clock)  # still backing off: not even tried
    assert again.handled == 0 and again.pending == 2 and again.next_attempt == T0 + dt.timedelta(minutes=2)
    clock.advance(minutes=1)
    second_try = send_outbox(load(demo_repo), clock=clock)  # down again: the wait doubles
    assert len(second_try.deferred) == 2
    assert record(demo_repo, first).next_attempt_at == clock.now + dt.timedelta(minutes=4)
    clock.advance(minutes=4)
    server = SmtpServer()
    server.port = port
    with server:
        up = send_outbox(load(demo_repo), clock=clock)
        later = send_outbox(load(demo_repo), clock=clock)
    assert {r.id for r in up.sent} == {first, second} and later.handled == 0
    ids = [m["Message-ID"] for m in server.handler.messages]
    assert sorted(ids) == sorted({record(demo_repo, i).message_id for i in (first, second)})
    assert record(demo_repo, first).attempts == 3


def test_backoff_is_exponential_and_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [120, 240, 480, 960]
    assert backoff(10).total_seconds() == BACKOFF_CAP_S == backoff(500).total_seconds()


def test_a_5xx_recipient_fails_for_good_a_4xx_waits_and_the_rest_goes(
    demo_repo: Path, runner: CliRunner
) -> None:
    refuse = {
        "nao-existe@acmecomercio.com.br": "550 5.1.1 Mailbox unavailable",
        "cheia@acmecomercio.com.br": "452 4.2.2 Mailbox full",
    }
    refused = queue_plain(demo_repo, "teste:1", "nao-existe@acmecomercio.com.br")
    full = queue_plain(demo_repo, "teste:2", "cheia@acmecomercio.com.br")
    good = queue_plain(demo_repo, "teste:3", "recepcao@acmecomercio.com.br")
    with SmtpServer(refuse=refuse) as server:
        use_smtp(demo_repo, server.port)
        result = send_outbox(load(demo_repo), clock=Clock())
        cli = runner.invoke(main, ["mail", "send", "--repo", str(demo_repo)])
    assert [r.id for r in result.sent] == [good]
    assert [r.id for r, _ in result.failed] == [refused] and [r.id for r, _ in result.deferred] == [full]
    failed = record(demo_repo, refused)
    assert failed.status is MailStatus.FAILED and failed.last_error and "550" in failed.last_error
    waiting = record(demo_repo, full)
    assert waiting.status is MailStatus.PENDING and waiting.last_error and "452" in waiting.last_error
    assert len(server.handler.raw) == 1
    assert cli.exit_code == 0 and "0 enviado(s)" in cli.output  # nothing due at the real clock's now
    # retry: falhou back to pendente, due now; the server still refuses: falhou again, exit 1
    with SmtpServer(refuse=refuse) as server:
        use_smtp(demo_repo, server.port)
        retried = runner.invoke(main, ["mail", "retry", str(refused), "--repo", str(demo_repo)])
        assert retried.exit_code == 0 and "1 e-mail(s) due now" in retried.output
        sent = runner.invoke(main, ["mail", "send", "--repo", str(demo_repo)])
    assert sent.exit_code == 1 and f"#{refused} FALHOU" in sent.output
    assert record(demo_repo, refused).attempts == 2
    listed = runner.invoke(main, ["mail", "list", "--status", "falhou", "--repo", str(demo_repo)])
    assert "nao-existe@acmecomercio.com.br" in listed.output and "1 e-mail(s)" in listed.output


# -- authentication and TLS -------------------------------------------------------------------


def test_authentication_failure_is_a_clear_error_and_the_mails_stay_pendente(
    demo_repo: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    ident = queue_welcome(demo_repo)
    with SmtpServer(auth=("nao-responda", "certa")) as server:
        use_smtp(demo_repo, server.port, user="nao-responda")
        monkeypatch.setenv("PABX_SMTP_PASSWORD", "errada")
        with pytest.raises(UserError, match=r"authentication failed.*smtp\.user.*PABX_SMTP_PASSWORD"):
            send_outbox(load(demo_repo), clock=Clock())
        cli = runner.invoke(main, ["mail", "send", "--repo", str(demo_repo)])
        assert cli.exit_code == 2 and "Traceback" not in cli.output
        assert "SMTP authentication failed" in cli.output and "errada" not in cli.output
        pending = record(demo_repo, ident)
        assert pending.status is MailStatus.PENDING and pending.attempts == 0
        monkeypatch.delenv("PABX_SMTP_PASSWORD")
        unset = runner.invoke(main, ["mail", "send", "--repo", str(demo_repo)])
        assert unset.exit_code == 2 and "PABX_SMTP_PASSWORD is not set" in unset.output
        monkeypatch.setenv("PABX_SMTP_PASSWORD", "certa")
        ok = runner.invoke(main, ["mail", "send", "--repo", str(demo_repo)])
        assert ok.exit_code == 0, ok.output
    assert server.handler.logins == ["nao-responda"] and len(server.handler.raw) == 1
    assert record(demo_repo, ident).status is MailStatus.SENT


def test_starttls_with_a_trusted_certificate_and_auth(
    demo_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path / "tls")
    ident = queue_welcome(demo_repo)
    with SmtpServer(auth=("nao-responda", "certa"), tls=server_tls_context(cert, key)) as server:
        use_smtp(demo_repo, server.port, security="starttls", user="nao-responda")
        monkeypatch.setenv("PABX_SMTP_PASSWORD", "certa")
        # not trusted yet: a clear error, nothing sent, nothing counted
        with pytest.raises(UserError, match="not trusted"):
            send_outbox(load(demo_repo), clock=Clock())
        assert record(demo_repo, ident).attempts == 0
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # OpenSSL's trust store for this process
        result = send_outbox(load(demo_repo), clock=Clock())
        # a server without STARTTLS when the settings ask for it: a setting to fix
        use_smtp(demo_repo, free_port(), security="starttls", user="nao-responda")
    assert [r.id for r in result.sent] == [ident]
    assert server.handler.over_tls == [True] and server.handler.logins == ["nao-responda"]
    with SmtpServer() as plain:
        use_smtp(demo_repo, plain.port, security="starttls")
        queue_plain(demo_repo, "teste:tls", "recepcao@acmecomercio.com.br")
        with pytest.raises(UserError, match="does not offer STARTTLS"):
            send_outbox(load(demo_repo), clock=Clock())
    assert plain.handler.raw == []


# -- a sender killed between the server's acceptance and the log update ------------------------


def test_sender_killed_after_the_server_accepted_resends_with_the_same_message_id(demo_repo: Path) -> None:
    first = queue_welcome(demo_repo, "acme")
    second = queue_plain(demo_repo, "teste:2", "recepcao@acmecomercio.com.br")
    with SmtpServer() as server:
        use_smtp(demo_repo, server.port)
        env = {**os.environ, "PABX_SECRET_KEY": KEY, "PABX_STATE_DIR": os.environ["PABX_STATE_DIR"]}
        child = subprocess.Popen(
            [str(Path(sys.executable).parent / "pabx"), "mail", "send", "--repo", str(demo_repo)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        server.handler.kill_at_data = child.pid  # the server stores the message, then kills it
        out, _ = child.communicate(timeout=120)
        assert child.returncode == -9, out.decode()
        assert len(server.handler.raw) == 1  # the server has the first message
        crashed = record(demo_repo, first)
        assert crashed.status is MailStatus.SENDING and crashed.attempts == 1  # claimed, never marked
        assert record(demo_repo, second).status is MailStatus.PENDING
        # the next run: the lock the dead sender held is free; the half-sent message goes again
        result = send_outbox(load(demo_repo), clock=Clock())
        rerun = send_outbox(load(demo_repo), clock=Clock())
    assert [r.id for r in result.interrupted] == [first]
    assert [r.id for r in result.sent] == [first, second] and rerun.handled == 0
    ids = [m["Message-ID"] for m in server.handler.messages]
    assert ids == [crashed.message_id, crashed.message_id, record(demo_repo, second).message_id]
    assert server.handler.raw[0] == server.handler.raw[1]  # byte for byte the same message
    done = record(demo_repo, first)
    assert done.status is MailStatus.SENT and done.attempts == 2
    assert done.last_error and "interrompido" in done.last_error and "mesmo Message-ID" in done.last_error


def test_command_mistakes_exit_2_without_a_traceback(demo_repo: Path, runner: CliRunner) -> None:
    for args, said in (
        (["mail", "show", "99"], "no e-mail #99"),
        (["mail", "retry"], "give message IDs or --all"),
        (["mail", "retry", "1", "--all"], "give message IDs or --all"),
        (["mail", "retry", "7"], "no e-mail #7"),
    ):
        result = runner.invoke(main, [*args, "--repo", str(demo_repo)])
        assert result.exit_code == 2 and said in result.output and "Traceback" not in result.output, args
    ident = queue_welcome(demo_repo)
    retried = runner.invoke(main, ["mail", "retry", "--all", "--repo", str(demo_repo)])
    assert retried.exit_code == 0 and "1 e-mail(s) due now" in retried.output
    listed = runner.invoke(
        main, ["mail", "list", "--format", "json", "--search", "ACME comercio", "--repo", str(demo_repo)]
    )
    assert (
        listed.exit_code == 0
        and f'"id": {ident}' in listed.output
        and '"status": "pendente"' in listed.output
    )
    nothing = runner.invoke(main, ["mail", "list", "--search", "ninguém", "--repo", str(demo_repo)])
    assert "0 e-mail(s)" in nothing.output
