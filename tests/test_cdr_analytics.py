"""Analytics: hand-made calls (multi-leg, unanswered, midnight, hour boundary, fallback) and the
whole dataset against a plain-Python computation from the same simulated file."""

from __future__ import annotations

import csv
import datetime as dt
import zoneinfo
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from pabx.brazil.ddd import uf_of
from pabx.brazil.numbering import classify
from pabx.cdr.analytics import DDD_MACRO
from pabx.cdr.dataset import build_dataset
from pabx.cdr.ingest import ingest
from pabx.cdr.rating import Call, rate
from pabx.cdr.simulate import simulate, write_csv
from pabx.cli import main
from pabx.loader import Repository, load_valid_repository

SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
FIXTURE = Path(__file__).parent / "fixtures" / "asterisk" / "demo" / "Master.csv"


@pytest.fixture(scope="module")
def repo() -> Repository:
    loaded, _ = load_valid_repository(Path(__file__).resolve().parent.parent)
    return loaded


def leg(
    linkedid: str,
    *,
    start: str,
    answer: str | None,
    end: str,
    disposition: str,
    userfield: str,
    channel: str = "PJSIP/acme_2001-00000001",
    dstchannel: str = "PJSIP/trunk_vivo-sp-00000002",
    src: str = "1130010000",
    dst: str = "local_fixo",
    dcontext: str = "pabx-route-sp-principal",
    app: str = "Dial",
    data: str = "PJSIP/33334444@trunk_vivo-sp,120",
    account: str = "acme",
    seq: int = 1,
) -> str:
    def secs(a: str, b: str) -> int:
        return int((dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds())

    fields = [
        f'"{account}"',
        f'"{src}"',
        f'"{dst}"',
        f'"{dcontext}"',
        f'"""{src}"" <{src}>"',
        f'"{channel}"',
        f'"{dstchannel}"',
        f'"{app}"',
        f'"{data}"',
        f'"{start}"',
        f'"{answer}"' if answer else "",
        f'"{end}"',
        str(secs(start, end)),
        str(secs(answer, end) if answer else 0),
        f'"{disposition}"',
        '"DOCUMENTATION"',
        f'"{linkedid}"',
        f'"{userfield}"',
        f'"{account}"',
        f'"{linkedid}"',
        str(seq),
    ]
    return ",".join(fields) + "\n"


def dataset_of(
    repo: Repository, tmp_path: Path, text: str, day: dt.date, *, days: int = 1, tenant: str | None = None
) -> dict[str, Any]:
    master = tmp_path / "Master.csv"
    master.write_text(text, encoding="utf-8")
    result = ingest([master], tmp_path / "store")
    assert result.malformed == 0, [p.format() for p in result.problems]
    first = day - dt.timedelta(days=days - 1)
    return build_dataset(repo, tmp_path / "store", tenant=tenant, date_from=first, date_to=day, today=day)


def test_queue_call_with_many_legs_is_one_call_billed_on_the_answered_leg(
    repo: Repository, tmp_path: Path
) -> None:
    common = {
        "channel": "PJSIP/trunk_vivo-sp-00000010",
        "src": "21987654321",
        "dst": "600",
        "dcontext": "t_acme_internal",
        "app": "Queue",
        "data": "t_acme_q600,,,,30",
        "userfield": "entrada:fila",
    }
    text = (
        leg("100.1", start="2026-03-02 13:00:00", answer=None, end="2026-03-02 13:00:12",
            disposition="NO ANSWER", dstchannel="PJSIP/acme_2004-00000012", seq=1, **common)
        + leg("100.1", start="2026-03-02 13:00:00", answer="2026-03-02 13:00:12", end="2026-03-02 13:01:13",
              disposition="ANSWERED", dstchannel="PJSIP/acme_2002-00000011", seq=2, **common)
        + leg("100.1", start="2026-03-02 13:00:00", answer=None, end="2026-03-02 13:00:12",
              disposition="NO ANSWER", dstchannel="PJSIP/acme_2005-00000013", seq=3, **common)
    )  # fmt: skip
    data = dataset_of(repo, tmp_path, text, dt.date(2026, 3, 2))
    assert data["daily"] == [
        {"date": "2026-03-02", "direction": "entrada", "class": "fila", "calls": 1, "answered": 1,
         "minutes": 1.1, "cost": 0.0}
    ]  # fmt: skip
    assert data["counters"]["entrada_hoje"] == 1
    assert data["by_uf"] == [{"date": "2026-03-02", "uf": "RJ", "calls": 1}]
    assert data["missed"] == []


def test_outbound_cost_and_unanswered_calls(repo: Repository, tmp_path: Path) -> None:
    text = (
        leg("1.1", start="2026-03-02 13:00:00", answer="2026-03-02 13:00:05", end="2026-03-02 13:01:06",
            disposition="ANSWERED", userfield="saida:local_fixo")  # 61 s -> 66 s x 0.08/60 = 0.088
        + leg("2.1", start="2026-03-02 14:00:00", answer="2026-03-02 14:00:05", end="2026-03-02 14:02:10",
              disposition="ANSWERED", userfield="saida:ldn_movel", dst="ldn_movel",
              data="PJSIP/02121987654321@trunk_embratel,120",
              dstchannel="PJSIP/trunk_embratel-00000003")  # 125 s -> 126 s x 0.39/60 = 0.819
        + leg("3.1", start="2026-03-02 15:00:00", answer=None, end="2026-03-02 15:00:30",
              disposition="NO ANSWER", userfield="saida:local_fixo")
        + leg("4.1", start="2026-03-02 15:10:00", answer=None, end="2026-03-02 15:10:02",
              disposition="BUSY", userfield="saida:local_fixo")
    )  # fmt: skip
    data = dataset_of(repo, tmp_path, text, dt.date(2026, 3, 2))
    rows = {(r["direction"], r["class"]): r for r in data["daily"]}
    assert rows[("saida", "local_fixo")] == {
        "date": "2026-03-02", "direction": "saida", "class": "local_fixo", "calls": 3, "answered": 1,
        "minutes": 1.1, "cost": 0.09,
    }  # fmt: skip
    assert rows[("saida", "ldn_movel")]["cost"] == 0.82
    assert {(u["uf"], u["calls"]) for u in data["by_uf"]} == {("SP", 3), ("RJ", 1)}
    assert data["extrato"] == [
        {
            "tenant": "acme",
            "month": "2026-03",
            "class": "ldn_movel",
            "calls": 1,
            "minutes": 2.1,
            "cost": 0.82,
        },
        {
            "tenant": "acme",
            "month": "2026-03",
            "class": "local_fixo",
            "calls": 3,
            "minutes": 1.1,
            "cost": 0.09,
        },
    ]
    assert data["counters"]["saida_hoje"] == 4


def test_call_crossing_midnight_belongs_to_its_local_start_day(repo: Repository, tmp_path: Path) -> None:
    # 02:50 UTC on March 3rd is 23:50 on March 2nd in São Paulo; the call ends 00:10 local.
    text = leg("5.1", start="2026-03-03 02:50:00", answer="2026-03-03 02:50:05", end="2026-03-03 03:10:00",
               disposition="ANSWERED", userfield="saida:local_fixo")  # fmt: skip
    data = dataset_of(repo, tmp_path, text, dt.date(2026, 3, 3), days=2)
    assert [(r["date"], r["calls"]) for r in data["daily"]] == [("2026-03-02", 1)]
    assert data["counters"]["saida_hoje"] == 0
    peaks = {(c["date"], c["hour"]): c["peak"] for c in data["concurrency"]}
    assert peaks[("2026-03-02", 23)] == 1 and peaks[("2026-03-03", 0)] == 1 and peaks[("2026-03-03", 1)] == 0
    assert len(data["concurrency"]) == 48


def test_concurrency_peak_from_intervals_across_an_hour(repo: Repository, tmp_path: Path) -> None:
    # Local times (UTC-3): A 09:50-10:20, B 10:05-10:10, C 10:10-10:15 (starts as B ends), D 11:30-11:31.
    text = (
        leg("a", start="2026-03-02 12:50:00", answer="2026-03-02 12:50:01", end="2026-03-02 13:20:00",
            disposition="ANSWERED", userfield="saida:local_fixo")
        + leg("b", start="2026-03-02 13:05:00", answer="2026-03-02 13:05:01", end="2026-03-02 13:10:00",
              disposition="ANSWERED", userfield="saida:local_fixo")
        + leg("c", start="2026-03-02 13:10:00", answer="2026-03-02 13:10:01", end="2026-03-02 13:15:00",
              disposition="ANSWERED", userfield="saida:local_fixo")
        + leg("d", start="2026-03-02 14:30:00", answer="2026-03-02 14:30:01", end="2026-03-02 14:31:00",
              disposition="ANSWERED", userfield="saida:local_fixo")
    )  # fmt: skip
    data = dataset_of(repo, tmp_path, text, dt.date(2026, 3, 2))
    peaks = [c["peak"] for c in data["concurrency"]]
    assert peaks[9:13] == [1, 2, 1, 0]
    assert data["counters"]["simultaneas"] == 2


def test_missed_call_lists_each_extension_rung(repo: Repository, tmp_path: Path) -> None:
    common = {
        "channel": "PJSIP/trunk_vivo-sp-00000010",
        "src": "11987654321",
        "dst": "600",
        "dcontext": "t_acme_internal",
        "app": "Queue",
        "data": "t_acme_q600,,,,30",
        "userfield": "entrada:fila",
    }
    text = (
        leg("7.1", start="2026-03-02 13:00:00", answer=None, end="2026-03-02 13:00:30", disposition="NO ANSWER",
            dstchannel="PJSIP/acme_2004-00000012", **common)
        + leg("7.1", start="2026-03-02 13:00:00", answer=None, end="2026-03-02 13:00:30", disposition="NO ANSWER",
              dstchannel="PJSIP/acme_2002-00000011", **common)
    )  # fmt: skip
    data = dataset_of(repo, tmp_path, text, dt.date(2026, 3, 2))
    assert data["missed"] == [
        {
            "linkedid": "7.1",
            "tenant": "acme",
            "extension": ext,
            "caller": "11987654321",
            "time": "2026-03-02T13:00:00Z",
        }
        for ext in ("2002", "2004")
    ]
    assert data["daily"][0]["answered"] == 0


def test_fallback_without_userfield(repo: Repository, tmp_path: Path) -> None:
    text = (
        # a carrier's call, no userfield: entrada; ringing an extension: ramal; E.164 caller from MG
        leg("8.1", start="2026-03-02 13:00:00", answer="2026-03-02 13:00:03", end="2026-03-02 13:01:00",
            disposition="ANSWERED", userfield="", channel="PJSIP/trunk_vivo-sp-00000020",
            dstchannel="PJSIP/acme_2003-00000021", src="+5531987654321", dst="2003", data="PJSIP/acme_2003,30")
        # dialed E.164 of the tenant's own DDD: local_movel; another DDD: ldn_fixo; +1: ldi
        + leg("9.1", start="2026-03-02 13:10:00", answer="2026-03-02 13:10:03", end="2026-03-02 13:11:00",
              disposition="ANSWERED", userfield="", dst="+5511987654321", data="PJSIP/+5511987654321@trunk_x,120")
        + leg("9.2", start="2026-03-02 13:20:00", answer="2026-03-02 13:20:03", end="2026-03-02 13:21:00",
              disposition="ANSWERED", userfield="", dst="+552133334444", data="PJSIP/+552133334444@trunk_x,120")
        + leg("9.3", start="2026-03-02 13:30:00", answer="2026-03-02 13:30:03", end="2026-03-02 13:31:00",
              disposition="ANSWERED", userfield="", dst="+12125551234", data="PJSIP/+12125551234@trunk_x,120")
        # a refused attempt: nobody dialed, hung up in pabx-deny
        + leg("9.4", start="2026-03-02 13:40:00", answer=None, end="2026-03-02 13:40:00", disposition="NO ANSWER",
              userfield="", dstchannel="", dst="plan", dcontext="pabx-deny", app="Hangup", data="21")
    )  # fmt: skip
    data = dataset_of(repo, tmp_path, text, dt.date(2026, 3, 2))
    got = {(r["direction"], r["class"]): r["calls"] for r in data["daily"]}
    assert got == {
        ("entrada", "ramal"): 1,
        ("saida", "local_movel"): 1,
        ("saida", "ldn_fixo"): 1,
        ("saida", "ldi"): 1,
    }
    assert {u["uf"] for u in data["by_uf"]} == {"MG", "SP", "RJ"}
    assert data["refused"] == [{"date": "2026-03-02", "tenant": "acme", "reason": "plan", "calls": 1}]


def test_sql_ddd_agrees_with_classify() -> None:
    con = duckdb.connect()
    con.execute(DDD_MACRO)
    numbers = [
        "33334444", "987654321", "02133334444", "021987654321", "0212133334444", "02121987654321",
        "+5521987654321", "+552133334444", "2133334444", "21987654321", "08007778080", "03001234567",
        "190", "10315", "0021121255512", "+12125551234", "909033334444", "5511987654321", "",
    ]  # fmt: skip
    for number in numbers:
        expected = classify(number, own_ddd="11")
        sql = con.execute("SELECT pabx_ddd(?, '11')", [number]).fetchone()
        assert sql is not None
        want = (
            expected.ddd
            if expected.call_class and expected.call_class.value.startswith(("local", "ldn"))
            else None
        )
        assert sql[0] == want, number


def test_dataset_matches_plain_python(repo: Repository, tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    end = dt.date(2026, 3, 31)
    write_csv(simulate(repo, days=4, calls_per_day=300, end=end, seed=11), master)
    assert ingest([master], tmp_path / "store").malformed == 0
    first = end - dt.timedelta(days=3)
    data = build_dataset(repo, tmp_path / "store", tenant=None, date_from=first, date_to=end, today=end)
    want = plain_python(repo, master, first, end)
    assert data["counters"] == want["counters"]
    got_daily = {(r["date"], r["direction"], r["class"]): (r["calls"], r["answered"], r["minutes"], r["cost"])
                 for r in data["daily"]}  # fmt: skip
    assert got_daily == want["daily"]
    assert [c["peak"] for c in data["concurrency"]] == want["peaks"]
    assert len(data["missed"]) == want["missed"]
    in_python = build_dataset(
        repo, tmp_path / "store", tenant=None, date_from=first, date_to=end, today=end,
        rater=lambda call, plan: rate(call, plan),  # not `rate` itself: the per-call Python path
    )  # fmt: skip
    assert (in_python["daily"], in_python["extrato"]) == (data["daily"], data["extrato"])
    acme = build_dataset(repo, tmp_path / "store", tenant="acme", date_from=first, date_to=end, today=end)
    assert {r["tenant"] for r in acme["extrato"]} == {"acme"}
    assert sum(r["calls"] for r in acme["daily"]) == want["per_tenant"]["acme"]


def plain_python(repo: Repository, master: Path, first: dt.date, last: dt.date) -> dict[str, Any]:
    """The same figures with the csv module and plain loops (no DuckDB)."""
    calls: dict[str, list[list[str]]] = defaultdict(list)
    with master.open(newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            calls[row[19]].append(row)
    daily: dict[tuple[str, str, str], list[Any]] = defaultdict(lambda: [0, 0, 0, Decimal(0)])
    counters: Counter[str] = Counter()
    per_tenant: Counter[str] = Counter()
    intervals = []
    missed = 0

    def utc(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)

    for legs in calls.values():
        if all(not r[6] and r[7] == "Hangup" for r in legs):
            continue  # a refused attempt (a suspended tenant's notice), not a call
        direction, cls = next(r[17] for r in legs if r[17]).split(":")
        start = min(utc(r[9]) for r in legs)
        end = max(utc(r[11]) for r in legs)
        local = start.astimezone(SP)
        answered = any(r[14] == "ANSWERED" for r in legs)
        billsec = max([int(r[13]) for r in legs if r[14] == "ANSWERED"], default=0)
        tenant = legs[0][0]
        if local.date() == last:
            counters[direction] += 1
        intervals.append((local.replace(tzinfo=None), end.astimezone(SP).replace(tzinfo=None)))
        if not first <= local.date() <= last:
            continue
        per_tenant[tenant] += 1
        plan = repo.plans[repo.tenants[tenant].plan]
        rating = rate(Call(tenant, direction, cls, local.date(), billsec, answered), plan)
        row = daily[(local.date().isoformat(), direction, cls)]
        row[0] += 1
        row[1] += int(answered)
        row[2] += rating.billed_s
        row[3] += rating.cost
        rung = {r[6].split("_")[-1].split("-")[0] for r in legs if r[6] and "/trunk_" not in r[6]}
        if not answered:
            missed += len(rung)
    peaks = []
    hour = dt.datetime.combine(first, dt.time())
    while hour.date() <= last:
        nxt = hour + dt.timedelta(hours=1)
        points = [hour, *sorted({s for s, _ in intervals if hour <= s < nxt})]
        peaks.append(max(sum(1 for s, e in intervals if s <= p < e) for p in points))
        hour = nxt
    return {
        "counters": {
            "entrada_hoje": counters["entrada"],
            "saida_hoje": counters["saida"],
            "interna_hoje": counters["interna"],
            "simultaneas": max(peaks[-24:]),
        },
        "daily": {k: (v[0], v[1], round(v[2] / 60, 2), float(round(v[3], 2))) for k, v in daily.items()},
        "peaks": peaks,
        "missed": missed,
        "per_tenant": per_tenant,
    }


def test_simulation_follows_the_repository(repo: Repository, tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    write_csv(simulate(repo, days=2, calls_per_day=400, end=dt.date(2026, 3, 3), seed=5), master)
    rows = list(csv.reader(master.open(newline="", encoding="utf-8")))
    assert {len(r) for r in rows} == {21}
    by_linked: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        tenant = repo.tenants[r[0]]
        assert tenant.status.value != "removido"
        direction, _cls = r[17].split(":")
        if direction == "saida":
            assert tenant.status.value == "ativo"
            assert r[3] in (f"t_{r[0]}_phones", f"pabx-route-{repo.numbers[r[1]].route}")
            assert r[1] in {n.number for n in repo.numbers_of(r[0])}
        if r[5].startswith(f"PJSIP/{r[0]}_"):
            assert tenant.extension(r[5].split("_", 1)[1].rsplit("-", 1)[0]) is not None
        if r[14] == "ANSWERED":
            assert r[10] != ""
        if r[10] == "":
            assert r[13] == "0"
        by_linked[r[19]].add(r[14])
        assert r[14] in {"ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"}
    assert any(len(states) > 1 for states in by_linked.values())  # multi-leg calls exist
    assert {r[7] for r in rows} >= {"Dial", "Queue", "VoiceMail"}
    again = tmp_path / "again.csv"
    write_csv(simulate(repo, days=2, calls_per_day=400, end=dt.date(2026, 3, 3), seed=5), again)
    assert again.read_bytes() == master.read_bytes()


def test_cli_simulate_and_dataset(repo: Repository, tmp_path: Path, runner: CliRunner) -> None:
    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "Master.csv.gz"
    result = runner.invoke(
        main,
        ["cdr", "simulate", "--repo", str(root), "--days", "2", "--calls-per-day", "50", "--out", str(out),
         "--end", "2026-03-03"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "100 calls, 2026-03-02 .. 2026-03-03" in result.output
    assert runner.invoke(main, ["cdr", "ingest", "--repo", str(root), str(out)]).exit_code == 0
    shown = runner.invoke(
        main,
        [
            "cdr",
            "dataset",
            "--repo",
            str(root),
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-03",
            "--today",
            "2026-03-03",
        ],
    )
    assert shown.exit_code == 0, shown.output
    assert '"entrada_hoje"' in shown.output
    for args in (
        ["cdr", "--help"],
        ["cdr", "ingest", "--help"],
        ["cdr", "simulate", "--help"],
        ["cdr", "dataset", "--help"],
    ):
        assert "Example:" in runner.invoke(main, args).output


def test_real_asterisk_recording_when_present(repo: Repository, tmp_path: Path) -> None:
    """Rows recorded from a real Asterisk running our render: read cleanly, classified by userfield."""
    if not FIXTURE.exists():
        pytest.skip("no recording under tests/fixtures/asterisk/demo/ yet")
    result = ingest([FIXTURE], tmp_path / "store")
    assert result.malformed == 0 and result.rows_new > 0
    rows = list(csv.reader(FIXTURE.open(newline="", encoding="utf-8")))
    days = sorted(
        {dt.datetime.fromisoformat(r[9]).replace(tzinfo=dt.UTC).astimezone(SP).date() for r in rows}
    )
    data = build_dataset(
        repo, tmp_path / "store", tenant=None, date_from=days[0], date_to=days[-1], today=days[-1]
    )
    tagged = {r[19] for r in rows if ":" in r[17]}
    counted = sum(r["calls"] for r in data["daily"]) + sum(r["calls"] for r in data["refused"])
    assert counted >= len(tagged)
    answered_out = {r[19] for r in rows if r[17].startswith("saida:") and r[14] == "ANSWERED" and r[6]}
    assert sum(r["answered"] for r in data["daily"] if r["direction"] == "saida") == len(answered_out)
    known_ufs = {uf_of(ddd) for ddd in ("11", "21", "31", "19")}
    assert {u["uf"] for u in data["by_uf"]} <= known_ufs | {uf_of(f"{d}") for d in range(11, 100)}


def test_call_split_across_two_ingests_is_still_one_call(repo: Repository, tmp_path: Path) -> None:
    common = {
        "channel": "PJSIP/trunk_vivo-sp-00000010",
        "src": "21987654321",
        "dst": "600",
        "dcontext": "t_acme_internal",
        "app": "Queue",
        "data": "t_acme_q600,,,,30",
        "userfield": "entrada:fila",
    }
    master, store = tmp_path / "Master.csv", tmp_path / "store"
    master.write_text(
        leg("200.1", start="2026-03-02 13:00:00", answer=None, end="2026-03-02 13:00:12",
            disposition="NO ANSWER", dstchannel="PJSIP/acme_2004-00000012", **common),
        encoding="utf-8",
    )  # fmt: skip
    ingest([master], store)
    with master.open("a", encoding="utf-8") as fh:
        fh.write(
            leg("200.1", start="2026-03-02 13:00:00", answer="2026-03-02 13:00:12", end="2026-03-02 13:01:13",
                disposition="ANSWERED", dstchannel="PJSIP/acme_2002-00000011", **common)
        )  # fmt: skip
    assert ingest([master], store).rows_new == 1
    assert list((store / "_pabx" / "calls" / "merge").glob("*.parquet"))
    day = dt.date(2026, 3, 2)
    data = build_dataset(repo, store, tenant=None, date_from=day, date_to=day, today=day)
    assert [(r["calls"], r["answered"], r["minutes"]) for r in data["daily"]] == [(1, 1, 1.1)]
    assert data["missed"] == []
