"""Tenant e-mails an apply brings, from the plan and the git history: one welcome per tenant event
(new tenant, first ativo/pendente, back from removido), whatever the base and however often the
apply runs; a new access address after `pabx tenant reset-access`."""

from __future__ import annotations

from pathlib import Path

import git
import pytest
from click.testing import CliRunner

from pabx.cli import main
from pabx.loader import Repository, load_valid_repository
from pabx.mail import REDACTED, Kind, MailStatus, Outbox
from pabx.mail.events import event_revision, queue_drafts, tenant_mail_drafts
from pabx.mail.links import panel_url
from pabx.mail.service import send_outbox
from pabx.plan import compute_plan
from pabx.render.secrets import Secrets
from tests.mail_support import SmtpServer, use_smtp

SERVERS = ("pbx-sp-01", "pbx-rj-01")


@pytest.fixture
def history(demo_repo: Path) -> git.Repo:
    repo = git.Repo.init(demo_repo)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Mail Test")
        config.set_value("user", "email", "mail-test@example.com")
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "platform data")
    return repo


def commit(repo: git.Repo, message: str) -> str:
    repo.git.add("-A")
    repo.git.commit("-q", "-m", message)
    return repo.head.commit.hexsha


def pabx(runner: CliRunner, root: Path, *args: str) -> None:
    result = runner.invoke(main, [*args, "--repo", str(root)])
    assert result.exit_code == 0, result.output


def load(root: Path) -> Repository:
    loaded, _ = load_valid_repository(root)
    return loaded


def mails(root: Path, base: str, servers: tuple[str, ...] = SERVERS) -> list[tuple[str, Kind]]:
    """What an apply of the working tree against `base` queues now: (key, kind) of the new ones."""
    repo = load(root)
    plan = compute_plan(root, base)
    drafts = tenant_mail_drafts(repo, plan, servers, "worktree")
    with Outbox.for_repo(root) as outbox:
        queued = queue_drafts(outbox, drafts)
    return [(q.key, q.kind) for q in queued if q.id is not None]


def test_one_welcome_per_tenant_event_whatever_the_base_and_the_reruns(
    demo_repo: Path, history: git.Repo, runner: CliRunner
) -> None:
    root = demo_repo
    a = history.head.commit.hexsha
    pabx(runner, root, "tenant", "add", "--name", "Padaria Pão Quente Ltda", "--contact", "João Lima",
         "--document", "11.444.777/0001-61", "--email", "ti@paoquente.com.br", "--plan", "basico",
         "--manager", "jucastro", "--server", "pbx-rj-01", "--slug", "pao-quente", "--no-interactive")  # fmt: skip
    pabx(runner, root, "tenant", "set", "studio-luz", "--status", "ativo")  # never active before
    b = commit(history, "pão quente; studio-luz ativo")

    # the tenant's server did not take the apply: no welcome yet
    assert mails(root, a, servers=("pbx-sp-01",)) == [("welcome:studio-luz:" + b, Kind.WELCOME)]
    assert mails(root, a) == [("welcome:pao-quente:" + b, Kind.WELCOME)]
    assert mails(root, a) == []  # the same apply again
    assert mails(root, "HEAD~1") == []  # the same event through another base

    pabx(runner, root, "tenant", "set", "pao-quente", "--status", "ativo")  # pendente -> ativo
    commit(history, "pão quente ativo")
    assert mails(root, "HEAD~1") == []  # welcomed when it became pendente

    pabx(runner, root, "tenant", "set", "studio-luz", "--status", "inativo")
    commit(history, "studio-luz suspenso")
    pabx(runner, root, "tenant", "set", "studio-luz", "--status", "ativo")
    commit(history, "studio-luz de volta")
    assert mails(root, "HEAD~1") == []  # back from a suspension: same episode, welcomed at b

    pabx(runner, root, "tenant", "remove", "pao-quente")
    commit(history, "pão quente removido")
    pabx(runner, root, "tenant", "set", "pao-quente", "--status", "ativo")
    g = commit(history, "pão quente de volta")
    assert mails(root, "HEAD~1") == [("welcome:pao-quente:" + g, Kind.WELCOME)]  # a new episode

    with Outbox.for_repo(root) as outbox:
        welcome = outbox.by_key("welcome:pao-quente:" + b)
    assert welcome is not None and welcome.recipient == "ti@paoquente.com.br"
    assert welcome.status is MailStatus.PENDING and welcome.link is not None
    assert "Padaria Pão Quente Ltda" in welcome.body_text and "pendente" in welcome.body_text
    assert REDACTED in welcome.body_text


def test_event_revision_of_uncommitted_changes_and_outside_git(demo_repo: Path, history: git.Repo) -> None:
    root = demo_repo
    first = history.head.commit.hexsha
    assert event_revision(root, "acme", "fallback") == first  # ativo since the first commit
    assert event_revision(root, "studio-luz", "fallback") == "fallback"  # inativo: no episode
    path = root / "tenants" / "studio-luz.yaml"
    path.write_text(path.read_text().replace("status: inativo", "status: pendente"))
    assert event_revision(root, "studio-luz", "abc-dirty") == "abc-dirty"  # begins in the work tree
    assert event_revision(root, "nobody", "x") == "x"


def test_reset_access_mails_the_new_address_once(
    demo_repo: Path, history: git.Repo, runner: CliRunner
) -> None:
    root = demo_repo
    reset = runner.invoke(main, ["tenant", "reset-access", "acme", "--repo", str(root)])
    assert reset.exit_code == 0 and "mailed to ti@acmecomercio.com.br" in reset.output
    commit(history, "acme: nova senha")
    assert mails(root, "HEAD~1") == [("redefinicao:acme:1", Kind.ACCESS_RESET)]
    assert mails(root, "HEAD~1") == []
    repo = load(root)
    assert repo.platform is not None
    secrets = Secrets(b"test-throwaway-key")
    new, old = (panel_url(repo.platform, secrets, "acme", n) for n in (1, 0))
    with SmtpServer() as server:
        use_smtp(root, server.port)
        sent = send_outbox(load(root))
    assert len(sent.sent) == 1
    (message,) = server.handler.messages
    assert message["Subject"] == "Nova senha de acesso ao Painel do usuário de Acme Comércio Ltda"
    text = message.get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert new in body and old not in body and "deixou de funcionar" in body
