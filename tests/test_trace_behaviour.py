"""Every behaviour of the rendered dialplan, proven with the tracer on the demo data (issue 3)."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from pabx.cli import main
from pabx.dialplan.repo_trace import ServerCache, TraceReport, TraceRequest, trace
from pabx.errors import UserError
from pabx.loader import Repository, load_valid_repository
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def repo() -> Repository:
    loaded, _ = load_valid_repository(ROOT)
    return loaded


@pytest.fixture(scope="module")
def cache(repo: Repository) -> ServerCache:
    return ServerCache(repo)


def call(repo: Repository, cache: ServerCache, frm: str, dial: str, **kw: Any) -> TraceReport:
    return trace(repo, TraceRequest(dial=dial, from_extension=frm, **kw), cache)


def did(repo: Repository, cache: ServerCache, number: str, **kw: Any) -> TraceReport:
    return trace(repo, TraceRequest(did=number, **kw), cache)


def result(report: TraceReport) -> dict[str, Any]:
    return report.result.to_json()["result"]  # type: ignore[no-any-return]


def dialed(report: TraceReport) -> tuple[str, str | None, str, str]:
    """(endpoint, number sent, caller ID number, caller ID name) of the single Dial target."""
    res = result(report)
    assert res["kind"] == "dial", (res["reason"], report.refusal)
    [target] = res["dial"]["targets"]
    return target["endpoint"], target["number"], target["callerid"]["num"], target["callerid"]["name"]


def refused(report: TraceReport) -> tuple[str | None, int]:
    res = result(report)
    assert res["kind"] == "hangup", res["reason"]
    return report.refusal, res["hangup"]["cause"]


# ---------------------------------------------------------------- internal


def test_extension_to_extension(repo: Repository, cache: ServerCache) -> None:
    report = call(repo, cache, "acme/2001", "2002")
    assert dialed(report)[0] == "acme_2002"
    assert result(report)["cdr"]["userfield"] == "interna:ramal"
    assert result(report)["cdr"]["accountcode"] == "acme"


def test_unanswered_extension_goes_to_its_voicemail(repo: Repository, cache: ServerCache) -> None:
    noanswer = result(call(repo, cache, "acme/2001", "2002", dial_statuses=("NOANSWER",)))
    assert noanswer["kind"] == "voicemail"
    assert noanswer["voicemail"]["mailboxes"][0]["mailbox"] == "2002"
    assert noanswer["voicemail"]["options"] == "u"
    busy = result(call(repo, cache, "acme/2001", "2002", dial_statuses=("BUSY",)))
    assert busy["voicemail"]["options"] == "b"
    no_box = result(call(repo, cache, "acme/2002", "2001", dial_statuses=("NOANSWER",)))
    assert no_box["kind"] == "hangup"


def test_queue_strategy_members_timeout_and_overflow(repo: Repository, cache: ServerCache) -> None:
    queue = result(call(repo, cache, "acme/2001", "600"))
    assert queue["kind"] == "queue"
    assert queue["queue"]["name"] == "t_acme_q600"
    assert queue["queue"]["strategy"] == "ringall"
    assert queue["queue"]["timeout"] == "30"
    assert sorted(queue["queue"]["members"]) == ["PJSIP/acme_2002", "PJSIP/acme_2004", "PJSIP/acme_2005"]
    assert queue["cdr"]["userfield"] == "interna:fila"
    overflow = result(call(repo, cache, "acme/2001", "600", queue_statuses=("TIMEOUT",)))
    assert overflow["kind"] == "voicemail"
    assert overflow["voicemail"]["mailboxes"][0]["mailbox"] == "2002"
    chained = result(
        call(repo, cache, "construtora-horizonte/2002", "601", queue_statuses=("TIMEOUT", "TIMEOUT"))
    )
    assert chained["kind"] == "dial"  # 601 overflows to queue 602, which overflows to extension 2001
    assert chained["dial"]["targets"][0]["endpoint"] == "construtora-horizonte_2001"


def test_ivr_digits_timeout_and_invalid(repo: Repository, cache: ServerCache) -> None:
    greeting = call(repo, cache, "acme/2002", "500", digits="1")
    assert any(s.app == "Background" and s.data == "acme/boas-vindas" for s in greeting.result.steps)
    assert result(greeting)["queue"]["name"] == "t_acme_q600"
    assert result(call(repo, cache, "acme/2002", "500", digits="2"))["queue"]["name"] == "t_acme_q601"
    assert dialed(call(repo, cache, "acme/2002", "500", digits="."))[0] == "acme_2001"  # timeout -> 2001
    invalid_then_3 = call(repo, cache, "acme/2002", "500", digits="93")
    assert dialed(invalid_then_3)[0] == "acme_2008"  # invalid -> back to the menu, then 3
    assert result(invalid_then_3)["cdr"]["userfield"] == "interna:ura"


# ---------------------------------------------------------------- inbound


def test_did_reaches_its_owners_destination(repo: Repository, cache: ServerCache) -> None:
    ivr = did(repo, cache, "1130010000", digits="1")
    assert ivr.endpoint == "trunk_vivo-sp"
    assert result(ivr)["queue"]["name"] == "t_acme_q600"
    assert result(ivr)["cdr"] == {**result(ivr)["cdr"], "accountcode": "acme", "userfield": "entrada:ura"}
    ext = did(repo, cache, "+551130010002")
    assert dialed(ext)[0] == "acme_2003"
    assert result(ext)["cdr"]["userfield"] == "entrada:ramal"
    assert dialed(did(repo, cache, "01130010002"))[0] == "acme_2003"
    box = result(did(repo, cache, "2130020004"))
    assert box["kind"] == "voicemail" and box["cdr"]["userfield"] == "entrada:correio"


def test_unknown_and_available_dids_are_refused(repo: Repository, cache: ServerCache) -> None:
    unknown = did(repo, cache, "1130019999")
    assert refused(unknown) == ("unknown-did", 1)
    assert result(unknown)["cdr"]["userfield"] == "entrada:ramal"
    assert refused(did(repo, cache, "1130010030")) == ("unknown-did", 1)  # Disponível


def test_collect_call_only_where_reverse_billing(repo: Repository, cache: ServerCache) -> None:
    collect = (("X-Call-Type", "collect"),)
    assert refused(did(repo, cache, "1130010001", headers=collect)) == ("collect-in", 21)
    accepted = result(did(repo, cache, "1130010003", headers=collect))
    assert accepted["kind"] == "queue" and accepted["queue"]["name"] == "t_acme_q601"
    assert result(did(repo, cache, "1130010001"))["kind"] == "queue"  # not marked collect
    assert result(did(repo, cache, "1130010001", headers=(("X-Call-Type", "normal"),)))["kind"] == "queue"


# ---------------------------------------------------------------- outbound


@pytest.mark.parametrize(
    ("frm", "dial", "endpoint", "number", "cid", "userfield"),
    [
        ("acme/2002", "33334444", "trunk_vivo-sp", "01133334444", "1130010000", "saida:local_fixo"),
        ("acme/2002", "987654321", "trunk_vivo-sp", "011987654321", "1130010000", "saida:local_movel"),
        ("acme/2002", "02133334444", "trunk_embratel", "0212133334444", "1130010000", "saida:ldn_fixo"),
        ("acme/2002", "021987654321", "trunk_embratel", "02121987654321", "1130010000", "saida:ldn_movel"),
        ("acme/2002", "0152133334444", "trunk_embratel", "0212133334444", "1130010000", "saida:ldn_fixo"),
        ("acme/2002", "+5521987654321", "trunk_embratel", "02121987654321", "1130010000", "saida:ldn_movel"),
        ("acme/2002", "+5511987654321", "trunk_vivo-sp", "011987654321", "1130010000", "saida:local_movel"),
        ("acme/2002", "1133334444", "trunk_vivo-sp", "01133334444", "1130010000", "saida:local_fixo"),
        ("acme/2002", "08007778080", "trunk_vivo-sp", "08007778080", "1130010000", "saida:0800"),
        ("acme/2002", "102", "trunk_vivo-sp", "102", "1130010000", "saida:servicos"),
        ("acme/2006", "33334444", "trunk_vivo-sp", "01133334444", "1130010003", "saida:local_fixo"),
        (
            "conecta-telecom/2007",
            "00211212555123",
            "trunk_embratel",
            "00211212555123",
            "1930040000",
            "saida:ldi",
        ),
        (
            "conecta-telecom/2007",
            "+12125551234",
            "trunk_embratel",
            "002112125551234",
            "1930040000",
            "saida:ldi",
        ),
        (
            "conecta-telecom/2001",
            "1133334444",
            "trunk_embratel",
            "0211133334444",
            "1930040000",
            "saida:ldn_fixo",
        ),
        (
            "conecta-telecom/2005",
            "1133334444",
            "trunk_vivo-sp",
            "01133334444",
            "1130010020",
            "saida:local_fixo",
        ),
        (
            "conecta-telecom/2001",
            "33334444",
            "trunk_vivo-sp",
            "01933334444",
            "1930040000",
            "saida:local_fixo",
        ),
        (
            "conecta-telecom/2001",
            "+551933334444",
            "trunk_vivo-sp",
            "01933334444",
            "1930040000",
            "saida:local_fixo",
        ),
        ("conecta-telecom/2001", "03001234567", "trunk_vivo-sp", "03001234567", "1930040000", "saida:0300"),
        (
            "construtora-horizonte/2002",
            "33334444",
            "trunk_claro-rj",
            "+552133334444",
            "2130020000",
            "saida:local_fixo",
        ),
        (
            "construtora-horizonte/2001",
            "0800123456",
            "trunk_claro-rj",
            "+55800123456",
            "2130020003",
            "saida:0800",
        ),
    ],
)
def test_outbound_class_trunk_format_and_caller_id(
    repo: Repository,
    cache: ServerCache,
    frm: str,
    dial: str,
    endpoint: str,
    number: str,
    cid: str,
    userfield: str,
) -> None:
    report = call(repo, cache, frm, dial)
    assert dialed(report) == (endpoint, number, cid, cid)  # the name is the number, never an internal name
    assert result(report)["cdr"]["userfield"] == userfield
    assert result(report)["cdr"]["accountcode"] == frm.split("/")[0]


@pytest.mark.parametrize(
    ("frm", "dial", "reason", "cause", "userfield"),
    [
        ("acme/2002", "03001234567", "plan", 21, "saida:0300"),  # empresarial has no 0300
        ("acme/2002", "00211212555123", "plan", 21, "saida:ldi"),  # nor LDI
        ("acme/2001", "02133334444", "extension", 21, "saida:ldn_fixo"),  # 2001: local and services only
        ("acme/2002", "909033334444", "collect", 21, "saida:local_fixo"),
        ("acme/2002", "90212133334444", "collect", 21, "saida:ldn_fixo"),
        ("acme/2002", "2999", "invalid", 1, "interna:ramal"),
        ("mercadinho-bom-preco/2001", "33334444", "status", 21, "saida:local_fixo"),  # pendente
        ("studio-luz/2002", "33334444", "suspended", 21, "saida:local_fixo"),  # inativo
        ("studio-luz/2002", "2001", "suspended", 21, "interna:ramal"),
    ],
)
def test_outbound_refusals_are_attributed(
    repo: Repository, cache: ServerCache, frm: str, dial: str, reason: str, cause: int, userfield: str
) -> None:
    report = call(repo, cache, frm, dial)
    assert refused(report) == (reason, cause)
    assert result(report)["cdr"]["userfield"] == userfield
    assert result(report)["cdr"]["accountcode"] == frm.split("/")[0]


def test_outbound_dial_happens_at_the_dialed_number(repo: Repository, cache: ServerCache) -> None:
    """The CDR's dst is the number dialed, its dcontext the phone's context (the lab saw class names)."""
    report = call(repo, cache, "acme/2002", "02133334444")
    [dial] = [s for s in report.result.steps if s.app == "Dial"]
    assert (dial.context, dial.exten) == ("t_acme_phones", "02133334444")
    emergency = call(repo, cache, "acme/2002", "190")
    [dial] = [s for s in emergency.result.steps if s.app == "Dial"]
    assert dial.exten == "190"


def test_carrier_never_learns_who_answered(repo: Repository, cache: ServerCache) -> None:
    """Calls from carriers dial with option I (no connected-line updates) and present the DID."""
    inbound = did(repo, cache, "1130010002")
    assert "I" in result(inbound)["dial"]["options"]
    assert any(s.substituted == "CONNECTEDLINE(num,i)=1130010002" for s in inbound.result.steps)
    assert "I" not in result(call(repo, cache, "acme/2001", "2003"))["dial"]["options"]


def test_emergency_works_from_every_rendered_endpoint(repo: Repository, cache: ServerCache) -> None:
    count = 0
    for slug, tenant in repo.tenants.items():
        if tenant.status.value == "removido":
            continue
        for ext in tenant.extensions:
            for number in ("190", "192", "193"):
                report = call(repo, cache, f"{slug}/{ext.number}", number, calls_up=999)
                endpoint, sent, cid, _ = dialed(report)
                assert endpoint.startswith("trunk_") and sent == number
                assert cid == "anonymous" or repo.numbers[cid].owner == slug
                assert result(report)["cdr"]["userfield"] == "saida:servicos"
                count += 1
    assert count >= 3 * 35


def test_concurrent_call_limit(repo: Repository, cache: ServerCache) -> None:
    assert dialed(call(repo, cache, "acme/2002", "33334444", calls_up=9))[0] == "trunk_vivo-sp"
    assert refused(call(repo, cache, "acme/2002", "33334444", calls_up=10)) == ("limit", 34)
    assert refused(did(repo, cache, "1130010002", calls_up=10)) == ("limit", 34)
    assert result(call(repo, cache, "acme/2001", "2002", calls_up=10))["kind"] == "dial"  # internal: no limit


def test_status_treatment_inbound(repo: Repository, cache: ServerCache) -> None:
    assert refused(did(repo, cache, "1930040010")) == ("suspended", 21)  # inativo: answered, notice, hangup
    suspended = did(repo, cache, "1930040010")
    assert any(s.app == "Playback" and s.data == "pabx/servico-suspenso" for s in suspended.result.steps)
    assert dialed(did(repo, cache, "2130020011"))[0] == "mercadinho-bom-preco_2004"  # pendente: inbound works


def test_removido_has_no_endpoint(repo: Repository, cache: ServerCache) -> None:
    with pytest.raises(UserError, match="removido"):
        call(repo, cache, "ricardo-almeida/2001", "2002")


def test_cli_text_and_json(tmp_path: Any) -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["trace", "--repo", str(ROOT), "--from", "acme/2002", "--dial", "02133334444"])
    assert text.exit_code == 0, text.output
    assert "trunk_embratel number 0212133334444" in text.output
    assert "[pabx-out] s,1" in text.output
    as_json = runner.invoke(
        main,
        [
            "trace",
            "--repo",
            str(ROOT),
            "--did",
            "1130010001",
            "--header",
            "X-Call-Type=collect",
            "--format",
            "json",
        ],
    )
    assert as_json.exit_code == 0, as_json.output
    import json

    body = json.loads(as_json.output)
    assert set(body) >= {"steps", "result", "refusal", "server"}
    assert body["refusal"] == "collect-in"
    bad = runner.invoke(main, ["trace", "--repo", str(ROOT), "--from", "acme/9999", "--dial", "1"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
