"""Tenant isolation, proven with the tracer for every ordered pair of a generated 200-tenant
platform: no path from one tenant's phone to another tenant's extensions, queues, IVRs or
voicemail, nor out through a trunk with another tenant's caller ID; and no DID of a tenant
reaches anyone else.

Calls to another tenant's internal numbers are the same calls whichever tenant owns them (the
numbers repeat across tenants), so dialing the union of every tenant's internal numbers from
each tenant covers every ordered pair.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pabx.dialplan.repo_trace import ServerCache, TraceReport, TraceRequest, trace
from pabx.generate import GeneratorSpec, generate_platform
from pabx.loader import Repository, load_valid_repository
from pabx.model import Status

OUTSIDE = [
    "33334444",
    "987654321",
    "02133334444",
    "021987654321",
    "0152133334444",
    "+5521987654321",
    "03001234567",
    "08007778080",
    "102",
    "00211212555123",
    "+12125551234",
    "190",
]
GO_ON = {"dial_statuses": ("NOANSWER",) * 4, "queue_statuses": ("TIMEOUT",) * 4}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> tuple[Repository, ServerCache]:
    root: Path = tmp_path_factory.mktemp("platform200")
    generate_platform(GeneratorSpec(tenants=200, seed=7), root)
    repo, _ = load_valid_repository(root)
    return repo, ServerCache(repo)


def _outcomes(report: TraceReport) -> Iterator[dict[str, Any]]:
    res = report.result.to_json()["result"]
    yield res
    yield from res.get("continued") or []


def _assert_only(report: TraceReport, tenant: str, owned: set[str]) -> int:
    """Every endpoint, queue, mailbox and trunk caller ID the call reached belongs to `tenant`."""
    reached = 0
    for outcome in _outcomes(report):
        if outcome.get("dial"):
            for target in outcome["dial"]["targets"]:
                endpoint = target["endpoint"] or ""
                if endpoint.startswith("trunk_"):
                    cid = target["callerid"]["num"]
                    assert cid in owned or cid == "anonymous", (tenant, report.exten, cid)
                else:
                    assert endpoint.startswith(f"{tenant}_"), (tenant, report.exten, endpoint)
                reached += 1
        if outcome.get("queue"):
            assert outcome["queue"]["name"].startswith(f"t_{tenant}_q"), (tenant, outcome["queue"]["name"])
            for member in outcome["queue"]["members"]:
                assert member.startswith(f"PJSIP/{tenant}_"), (tenant, member)
            reached += 1
        if outcome.get("voicemail"):
            for box in outcome["voicemail"]["mailboxes"]:
                assert box["context"] == f"t_{tenant}", (tenant, box)
            reached += 1
    return reached


def test_no_tenant_reaches_another(platform: tuple[Repository, ServerCache]) -> None:
    repo, cache = platform
    live = {s: t for s, t in repo.tenants.items() if t.status is not Status.REMOVIDO}
    assert len(repo.tenants) == 200
    internal = sorted(
        {e.number for t in live.values() for e in t.extensions}
        | {q.number for t in live.values() for q in t.queues}
        | {i.number for t in live.values() for i in t.ivrs}
    )
    traces = reached = 0
    for slug, tenant in live.items():
        if not tenant.extensions:
            continue
        owned = {n.number for n in repo.numbers_of(slug)}
        phone = f"{slug}/{tenant.extensions[0].number}"
        ivr_numbers = {i.number for i in tenant.ivrs}
        for number in internal + OUTSIDE:
            for digits in ["", "1", "2", "9", "."] if number in ivr_numbers else [""]:
                report = trace(
                    repo, TraceRequest(dial=number, from_extension=phone, digits=digits, **GO_ON), cache
                )
                reached += _assert_only(report, slug, owned)
                traces += 1
    for site in repo.number_sites:
        entry = site.entry
        owner = live.get(entry.owner or "")
        if owner is None:
            continue
        owned = {n.number for n in repo.numbers_of(entry.owner or "")}
        for digits in ("", "1", "2"):
            report = trace(repo, TraceRequest(did=entry.number, digits=digits, **GO_ON), cache)
            reached += _assert_only(report, entry.owner or "", owned)
            traces += 1
    assert traces > 3000 and reached > traces // 2, (traces, reached)


def test_the_check_catches_a_leak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sanity of the proof above: a phones context that includes a neighbour's is caught."""
    from pabx.render import extensions

    generate_platform(GeneratorSpec(tenants=6, seed=3), tmp_path)
    repo, _ = load_valid_repository(tmp_path)
    victim, intruder = sorted(s for s, t in repo.tenants.items() if t.status is Status.ATIVO)[:2]
    original = extensions.phones_context

    def leaky(tv: Any) -> Any:
        context = original(tv)
        if tv.slug == intruder:
            context.includes.insert(1, f"t_{victim}_internal")
        return context

    monkeypatch.setattr(extensions, "phones_context", leaky)
    cache = ServerCache(repo)
    phone = f"{intruder}/{repo.tenants[intruder].extensions[0].number}"
    ext = repo.tenants[victim].extensions[-1].number  # numbers repeat: the victim's include comes first
    report = trace(repo, TraceRequest(dial=ext, from_extension=phone), cache)
    with pytest.raises(AssertionError):
        _assert_only(report, intruder, set())
