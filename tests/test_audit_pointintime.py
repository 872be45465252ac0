"""Point in time: who owned a number, a tenant's record, and what each server ran at a moment,
from a real git history with deploy records in refs/notes/pabx-deploy."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import git
import pytest
from click.testing import CliRunner

from pabx.audit import deploys
from pabx.audit.pointintime import point_in_time
from pabx.cli import main
from pabx.errors import UserError
from pabx.plan import records as plan_records
from tests.audit_support import MARIA, NUMBER, Timeline, build_scenario, record

SP = dt.timezone(dt.timedelta(hours=-3))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SP)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    shas = build_scenario(tmp_path_factory.mktemp("audit-at") / "repo")
    t = Timeline.__new__(Timeline)
    t.root = Path(shas["path"])
    t.repo = git.Repo(t.root)
    t.note(shas["root"], [record("pbx-rj-01", shas["root"], "2026-01-05T14:00:00Z")])
    t.note(shas["suspend"], [record("pbx-sp-01", shas["suspend"], "2026-01-20T13:00:00Z")])
    t.note(shas["to-conecta"], [record("pbx-sp-01", shas["to-conecta"], "2026-03-01T13:00:00Z", "failed")])
    t.note(shas["back"], [record("pbx-sp-01", shas["back"], "2026-03-10T12:30:00Z")])
    return shas


def test_number_as_of_main_and_live_servers(scenario: dict[str, str]) -> None:
    found = point_in_time(Path(scenario["path"]), at("2026-03-05T12:00"), number=NUMBER)
    assert found.main.sha == scenario["to-conecta"]
    assert found.fields is not None
    assert found.fields["owner"] == "conecta-telecom"
    assert found.fields["destination"] == "queue:600"
    assert found.fields["route"] == "sp-principal"
    assert found.path == "numbers/11.yaml"
    assert found.last_change is not None and found.last_change.sha == scenario["to-conecta"]
    assert found.serving == "pbx-sp-01"
    servers = {s.server: s for s in found.servers}
    sp = servers["pbx-sp-01"]  # the apply of 03-01 failed: the one before stayed live
    assert sp.record.revision == scenario["suspend"]
    assert not sp.same_as_main
    assert sp.behind == 2
    assert sp.differs
    assert sp.fields is not None and sp.fields["owner"] == "acme"
    rj = servers["pbx-rj-01"]
    assert rj.record.revision == scenario["root"]
    assert rj.behind == 3
    assert rj.fields is not None and rj.fields["owner"] == "Disponível"


def test_live_revision_equal_to_main(scenario: dict[str, str]) -> None:
    found = point_in_time(Path(scenario["path"]), at("2026-03-12T08:00"), number=NUMBER)
    assert found.main.sha == scenario["back"]
    sp = next(s for s in found.servers if s.server == "pbx-sp-01")
    assert sp.same_as_main and sp.behind == 0
    assert found.fields is not None and found.fields["owner"] == "acme"


def test_tenant_full_record_then(scenario: dict[str, str]) -> None:
    found = point_in_time(Path(scenario["path"]), at("2026-02-20T12:00"), tenant="acme")
    assert found.main.sha == scenario["merge"]
    assert found.fields is not None
    assert found.fields["status"] == "inativo"
    assert found.fields["plan"] == "corporativo"
    assert found.fields["extensions[2001].name"] == "Recepção"
    assert found.last_change is not None
    assert found.last_change.sha == scenario["plan"]
    assert found.last_change.pull_request == 12


def test_tenant_named_as_it_is_now_or_by_id(scenario: dict[str, str]) -> None:
    then = point_in_time(Path(scenario["path"]), at("2026-02-20T12:00"), tenant="acme-comercio")
    assert then.path == "tenants/acme.yaml"
    assert then.entity.key == "acme"
    later = point_in_time(Path(scenario["path"]), at("2026-06-01T12:00"), tenant="1001")
    assert later.path == "tenants/acme-comercio.yaml"
    by_code = point_in_time(Path(scenario["path"]), at("2026-06-01T12:00"), tenant="ACM-0001")
    assert by_code.fields == later.fields


def test_number_that_did_not_exist_then(scenario: dict[str, str]) -> None:
    found = point_in_time(Path(scenario["path"]), at("2026-06-15T12:00"), number="1130010033")
    assert found.fields is None
    assert any("did not exist" in note for note in found.notes)
    back = point_in_time(Path(scenario["path"]), at("2026-07-02T12:00"), number="1130010033")
    assert back.fields is not None and back.fields["reverse_billing"] == "true"


def test_before_the_history(scenario: dict[str, str]) -> None:
    with pytest.raises(UserError, match="had no commit yet"):
        point_in_time(Path(scenario["path"]), at("2025-12-01T12:00"), number=NUMBER)


def test_cli_text_and_json(scenario: dict[str, str], runner: CliRunner) -> None:
    args = ["audit", "at", "--when", "2026-03-05T12:00", "--number", NUMBER, "--repo", scenario["path"]]
    text = runner.invoke(main, args)
    assert text.exit_code == 0, text.output
    assert "Número 1130010030 at 05/03/2026 12:00 (America/Sao_Paulo)" in text.output
    assert "Proprietário: conecta-telecom" in text.output
    assert "Destino: queue:600" in text.output
    assert "Rota: sp-principal" in text.output
    assert f"pbx-sp-01 (serves conecta-telecom): {scenario['suspend'][:7]}" in text.output
    assert "differs from main (2 commits behind)" in text.output
    assert "Proprietário: acme" in text.output  # what pbx-sp-01 ran
    data = json.loads(runner.invoke(main, [*args, "--format", "json"]).output)
    assert data["main"]["commit"] == scenario["to-conecta"]
    assert data["record"]["owner"] == "conecta-telecom"
    assert data["serving_server"] == "pbx-sp-01"
    sp = next(s for s in data["servers"] if s["server"] == "pbx-sp-01")
    assert (sp["same_as_main"], sp["behind"], sp["record"]["owner"]) == (False, 2, "acme")
    utc = runner.invoke(main, [*args[:3], "2026-03-05T15:00Z", *args[4:], "--format", "json"])
    assert json.loads(utc.output)["main"]["commit"] == scenario["to-conecta"]


def test_cli_needs_one_thing(scenario: dict[str, str], runner: CliRunner) -> None:
    result = runner.invoke(main, ["audit", "at", "--when", "2026-03-05", "--repo", scenario["path"]])
    assert result.exit_code == 2
    assert "ask about one thing" in result.output


def test_deploy_records_read_as_the_plan_reads_them(scenario: dict[str, str]) -> None:
    repo = git.Repo(scenario["path"])
    ours, bad = deploys.read_records(repo)
    theirs = plan_records.read_records(Path(scenario["path"]))
    assert bad == 0
    assert [(r.server, r.revision, r.time, r.result, r.actor, r.release, r.commit) for r in ours] == [
        (r.server, r.revision, r.time, r.result, r.actor, r.release, r.commit) for r in theirs
    ]
    live = deploys.live_at(ours, at("2026-03-05T12:00"))
    assert {s: r.revision for s, r in live.items()} == {
        "pbx-rj-01": scenario["root"],
        "pbx-sp-01": scenario["suspend"],
    }


def test_without_deploy_records_and_with_a_broken_line(tmp_path: Path) -> None:
    t = Timeline(tmp_path / "repo")
    first = t.commit("início", MARIA, "2026-01-05T10:00:00-03:00")
    found = point_in_time(t.root, at("2026-01-06T12:00"), number=NUMBER)
    assert found.servers == []
    assert any("git fetch origin refs/notes/pabx-deploy:refs/notes/pabx-deploy" in n for n in found.notes)
    line = json.dumps(record("pbx-sp-01", first, "2026-01-05T14:00:00Z"))
    t.repo.git.notes("--ref", "pabx-deploy", "add", "-m", f"not json\n{line}", first)
    found = point_in_time(t.root, at("2026-01-06T12:00"), number=NUMBER)
    assert [s.server for s in found.servers] == ["pbx-sp-01"]
    assert found.servers[0].same_as_main
    assert any("1 line(s) of the deploy records" in n for n in found.notes)
