"""Missed-call notices: hand-made CDRs (direct call, ring-all group answered and not, extension
without e-mail), one notice per call ever, the digest, and a simulated month against plain Python."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import re
from collections import defaultdict
from pathlib import Path

from click.testing import CliRunner

from pabx.cdr.ingest import ingest
from pabx.cdr.simulate import simulate, write_csv
from pabx.cli import main
from pabx.loader import load_valid_repository
from pabx.mail import MailStatus, Outbox
from pabx.mail.missed import caller_name, format_number, missed_calls
from tests.mail_support import SmtpServer, leg, use_smtp

DAY = "2026-05-14"
QUEUE = {"dst": "600", "app": "Queue", "data": "t_acme_q600,,,,30", "userfield": "entrada:fila"}


def calls_csv() -> str:
    return (
        # a direct call to 2001 (Recepção, has an e-mail) that nobody answered
        leg("10.1", start=f"{DAY} 12:30:00", end=f"{DAY} 12:30:30", disposition="NO ANSWER",
            dstchannel="PJSIP/acme_2001-00000001", clid='"João da Conceição" <11987654321>')
        # a ring-all group someone answered: not missed, for nobody
        + leg("11.1", start=f"{DAY} 13:00:00", end=f"{DAY} 13:00:12", disposition="NO ANSWER",
              dstchannel="PJSIP/acme_2002-00000011", seq=2, **QUEUE)
        + leg("11.1", start=f"{DAY} 13:00:00", answer=f"{DAY} 13:00:12", end=f"{DAY} 13:01:13",
              disposition="ANSWERED", dstchannel="PJSIP/acme_2004-00000012", seq=3, **QUEUE)
        # a ring-all group nobody answered: 2002 and 2004 have e-mails, 2005 has none
        + leg("12.1", start=f"{DAY} 14:00:00", end=f"{DAY} 14:00:30", disposition="NO ANSWER",
              dstchannel="PJSIP/acme_2002-00000021", src="1133334444", seq=4, **QUEUE)
        + leg("12.1", start=f"{DAY} 14:00:00", end=f"{DAY} 14:00:30", disposition="NO ANSWER",
              dstchannel="PJSIP/acme_2004-00000022", src="1133334444", seq=5, **QUEUE)
        + leg("12.1", start=f"{DAY} 14:00:00", end=f"{DAY} 14:00:30", disposition="NO ANSWER",
              dstchannel="PJSIP/acme_2005-00000023", src="1133334444", seq=6, **QUEUE)
        # an internal call from 2003 to 2001, not answered
        + leg("13.1", start=f"{DAY} 15:00:00", end=f"{DAY} 15:00:20", disposition="NO ANSWER",
              channel="PJSIP/acme_2003-00000030", dstchannel="PJSIP/acme_2001-00000031", src="2003",
              userfield="interna:ramal", dcontext="t_acme_phones")
    )  # fmt: skip


def notify(runner: CliRunner, root: Path, master: Path, *extra: str) -> str:
    result = runner.invoke(
        main, ["notify", "missed", "--cdr", str(master), "--today", DAY, "--repo", str(root), *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_one_notice_per_missed_call_and_rung_extension_ever(demo_repo: Path, runner: CliRunner) -> None:
    master = demo_repo.parent / "Master.csv"
    master.write_text(calls_csv(), encoding="utf-8")
    with SmtpServer() as server:
        use_smtp(demo_repo, server.port)
        out = notify(runner, demo_repo, master)
        again = notify(runner, demo_repo, master)  # the same file, nothing new
        rotated = master.with_name("Master.csv.1.gz")  # a rotated, compressed copy of the same calls
        rotated.write_bytes(gzip.compress(master.read_bytes()))
        overlap = notify(runner, demo_repo, rotated)
    assert "5 (por ramal que tocou); 4 e-mail(s) na fila, 0 já avisada(s), 1 sem e-mail do ramal" in out
    assert "4 enviado(s)" in out
    assert "0 e-mail(s) na fila, 4 já avisada(s), 1 sem e-mail" in again
    assert "0 e-mail(s) na fila, 4 já avisada(s)" in overlap
    received = {(m["To"].addresses[0].addr_spec, m["Subject"]) for m in server.handler.messages}
    assert received == {
        ("recepcao@acmecomercio.com.br", "João da Conceição te ligou"),
        ("carlos.lima@acmecomercio.com.br", "(11) 3333-4444 te ligou"),
        ("juliana.rocha@acmecomercio.com.br", "(11) 3333-4444 te ligou"),
        ("recepcao@acmecomercio.com.br", "Diretoria - Maria Souza te ligou"),
    }
    assert len(server.handler.raw) == 4
    joao = next(m for m in server.handler.messages if m["Subject"].startswith("João"))
    body = joao.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "João da Conceição ((11) 98765-4321)" in text
    assert "14/05/2026 09:30 (horário de Brasília)" in text  # 12:30 UTC in São Paulo
    assert "Ramal: 2001 (Acme Comércio Ltda)" in text and "Olá, Recepção!" in text
    internal = next(m for m in server.handler.messages if "Maria Souza" in m["Subject"])
    body = internal.get_body(("plain",))
    assert body is not None and "Diretoria - Maria Souza (ramal 2003)" in body.get_content()


def test_digest_lists_each_extensions_new_calls_once(demo_repo: Path, runner: CliRunner) -> None:
    master = demo_repo.parent / "Master.csv"
    first = leg("20.1", start=f"{DAY} 12:00:00", end=f"{DAY} 12:00:30", disposition="NO ANSWER",
                dstchannel="PJSIP/acme_2001-00000001")  # fmt: skip
    master.write_text(first, encoding="utf-8")
    with SmtpServer() as server:
        use_smtp(demo_repo, server.port)
        notify(runner, demo_repo, master, "--digest")  # one call: a plain notice
        more = "".join(
            leg(
                f"2{n}.1",
                start=f"{DAY} 1{n}:00:00",
                end=f"{DAY} 1{n}:00:30",
                disposition="NO ANSWER",
                dstchannel=f"PJSIP/acme_2001-0000000{n}",
                src=f"1130010{n}00",
            )
            for n in (3, 4, 5)
        )
        master.write_text(first + more, encoding="utf-8")
        out = notify(runner, demo_repo, master, "--digest")
        again = notify(runner, demo_repo, master)  # without --digest: the calls are covered
    assert "1 e-mail(s) na fila, 1 já avisada(s)" in out and "0 e-mail(s) na fila, 4 já avisada(s)" in again
    subjects = [m["Subject"] for m in server.handler.messages]
    assert subjects == ["(11) 98765-4321 te ligou", "3 chamadas não atendidas no ramal 2001"]
    digest = server.handler.messages[1].get_body(("plain",))
    assert digest is not None
    text = digest.get_content()
    for n in (3, 4, 5):
        assert f"(11) 3001-0{n}00 te ligou" in text
    assert "98765-4321" not in text  # already told
    with Outbox.for_repo(demo_repo) as outbox:
        assert outbox.counts()[str(MailStatus.SENT)] == 2


def test_caller_names_and_numbers() -> None:
    assert caller_name('"Maria Souza" <11987654321>', "11987654321") == "Maria Souza"
    assert caller_name('"11987654321" <11987654321>', "11987654321") is None
    assert caller_name("<11987654321>", "11987654321") is None
    assert caller_name(None, "2001") is None
    assert format_number("+5511987654321") == "(11) 98765-4321"
    assert format_number("01133334444") == "(11) 3333-4444"
    assert format_number("1133334444") == "(11) 3333-4444"
    assert format_number("2001") == "2001" and format_number("anonymous") == "anonymous"


def test_simulated_month_matches_plain_python(demo_repo: Path) -> None:
    repo, _ = load_valid_repository(demo_repo)
    end = dt.date(2026, 5, 14)
    master = demo_repo.parent / "Master.csv"
    write_csv(simulate(repo, days=10, calls_per_day=150, end=end, seed=3), master)
    store = demo_repo.parent / "store"
    ingest([master], store)
    found = missed_calls(repo, store, end - dt.timedelta(days=9), end)
    got = {(c.call_id, c.tenant, c.extension) for c in found}
    assert got == plain_python(master) and len(got) > 10


def plain_python(master: Path) -> set[tuple[str, str, str]]:
    """Missed calls straight from the CSV: no ANSWERED leg in the linkedid, the extensions rung."""
    legs: dict[str, list[list[str]]] = defaultdict(list)
    with master.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            legs[row[19] or row[16]].append(row)
    out = set()
    rung = re.compile(r"^[^/]+/([a-z0-9-]+)_([0-9]+)-[^-]*$")
    for linkedid, rows in legs.items():
        if any(r[14] == "ANSWERED" for r in rows):
            continue
        tenant = next((r[0] for r in rows if r[0]), "")
        for r in rows:
            match = rung.match(r[6])
            if match and not r[6].split("/", 1)[1].startswith("trunk_"):
                out.add((linkedid, tenant, match.group(2)))
    return out
