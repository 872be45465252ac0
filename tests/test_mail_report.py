"""The E-mails screen of the admin site (list and one page per message, redacted, admin only) and
the e-mail step of `make demo` (welcome e-mails sent to a local aiosmtpd it starts itself)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from pathlib import Path

from click.testing import CliRunner

from pabx.cli import main
from pabx.loader import load_valid_repository
from pabx.mail import REDACTED, MailStatus, Outbox
from pabx.mail.compose import environment
from pabx.mail.demo import run_demo
from pabx.mail.events import welcome_draft
from pabx.mail.links import panel_url
from pabx.mail.model import Draft, Kind
from pabx.render.secrets import Secrets
from pabx.report import Period, Provenance, Registrations, build_site
from pabx.report.emails import load_mail_log
from tests.report_support import SAMPLE_FROM, SAMPLE_TODAY, links_of, sample_source, visible_text

KEY = b"test-throwaway-key"
T0 = dt.datetime(2026, 5, 14, 12, 0, tzinfo=dt.UTC)


def test_emails_page_lists_the_log_and_shows_each_message_redacted(demo_repo: Path, tmp_path: Path) -> None:
    repo, _ = load_valid_repository(demo_repo)
    outbox_file = tmp_path / "mail" / "outbox.sqlite3"
    with Outbox(outbox_file) as outbox:
        welcome = outbox.enqueue(welcome_draft(repo, environment(demo_repo), "acme", "rev1"), now=T0)
        refused = outbox.enqueue(
            Draft("teste:1", Kind.MISSED_CALL, "PABX <nao-responda@pabx.example.com.br>",
                  "nao-existe@acmecomercio.com.br", "João <b>te ligou</b>", "Olá!\n", "<p>Olá!</p>"),
            now=T0 + dt.timedelta(minutes=5),
        )  # fmt: skip
        assert welcome and refused
        outbox.claim(refused, "t", T0)
        outbox.mark_failed(refused, "550 5.1.1 Mailbox unavailable", T0)
    site = build_site(
        repo,
        tmp_path / "site",
        sample_source(),
        secrets=Secrets(KEY),
        period=Period.resolve(today=SAMPLE_TODAY, date_from=SAMPLE_FROM),
        registrations=Registrations(),
        provenance=Provenance("0" * 40, None, T0),
        mail_log=load_mail_log(outbox_file),
    )
    admin = site.out / "admin"
    page = (admin / "emails.html").read_text(encoding="utf-8")
    headers = re.findall(
        r'<th scope="col" data-type="(\w+)"[^>]*><button type="button">([^<]+)</button>', page
    )
    assert headers == [
        ("number", "#"),
        ("text", "De"),
        ("text", "Para"),
        ("text", "Assunto"),
        ("date", "Data/hora"),
        ("text", "Status"),
    ]
    assert "data-table" in page and 'type="search"' in page and "tables.js" in page
    text = visible_text(page)
    assert "ti@acmecomercio.com.br" in text and "Pendente" in text and "Falhou" in text
    assert "14/05/2026 09:00" in text and 'data-sort="2026-05-14T12:00:00Z"' in page  # local shown, UTC sorts
    assert "João &lt;b&gt;te ligou&lt;/b&gt;" in page  # escaped
    assert f"emails/{welcome}.html" in links_of(admin / "emails.html")
    assert "emails.html" in links_of(admin / "index.html")  # in the admin navigation

    message = (admin / "emails" / f"{welcome}.html").read_text(encoding="utf-8")
    assert REDACTED in visible_text(message) and "Código de serviço" in visible_text(message)
    failed = visible_text((admin / "emails" / f"{refused}.html").read_text(encoding="utf-8"))
    assert "550 5.1.1 Mailbox unavailable" in failed and "Falhou" in failed
    assert repo.platform is not None
    token = panel_url(repo.platform, Secrets(KEY), "acme", 0).rstrip("/").rsplit("/", 1)[1]
    assert token not in message
    # the panels never show or link the log (recipients are personal data)
    for index in site.panels.values():
        for html in index.parent.glob("*.html"):
            assert "emails" not in html.read_text(encoding="utf-8"), html
    assert not list((site.out / "painel").rglob("emails*"))


def test_demo_step_sends_the_welcome_e_mails_to_a_local_smtp_once(demo_repo: Path, runner: CliRunner) -> None:
    repo, _ = load_valid_repository(demo_repo)
    active = sorted(s for s, t in repo.tenants.items() if t.status.value in ("ativo", "pendente"))
    workdir = demo_repo / "build" / "demo"
    demo = run_demo(repo, workdir, Secrets(KEY))
    assert demo.sent is not None, demo.note
    assert sorted(q.tenant for q in demo.queued if q.id) == active and demo.queued_again == 0
    assert demo.received == len(active) == len(demo.sent.sent)
    assert {r.status for r in demo.records} == {MailStatus.SENT}
    assert demo.eml_dir is not None
    first = email.message_from_bytes((demo.eml_dir / "001.eml").read_bytes(), policy=email.policy.default)
    assert str(first["Subject"]).startswith("Boas-vindas à PABX White Label Demo")
    # the demo keeps its own outbox: the state directory's log stays empty
    listed = runner.invoke(main, ["mail", "list", "--repo", str(demo_repo)])
    assert listed.exit_code == 0 and "0 e-mail(s)" in listed.output
    again = run_demo(repo, workdir, Secrets(KEY))  # rebuilt each run
    assert again.received == len(active)
    out = runner.invoke(main, ["demo", "--repo", str(demo_repo)], catch_exceptions=False).output
    assert "e-mail(s) de boas-vindas na fila; a mesma fila outra vez: 0 novo(s)" in out
    assert f"{len(active)} enviado(s), 0 falhou" in out
