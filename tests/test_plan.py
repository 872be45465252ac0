"""Plan: semantic changes, per-server files and reloads, gates, checksum, against real git repos.

Every test builds a git repository (GitPython) from a private copy of the demo data, commits it,
edits the working tree and plans it against HEAD (or against what the deploy records say).
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

import git
import pytest

from pabx.errors import UserError
from pabx.loader import load_valid_repository
from pabx.plan import Action, Plan
from pabx.plan import compute_plan as _compute_plan
from pabx.plan.cache import Placement, server_repository
from pabx.plan.files import RELOADS, reloads_for
from pabx.plan.records import NOTES_REF
from pabx.render import render_servers
from pabx.render.secrets import Secrets

ALLOWED_RELOADS = set(RELOADS.values())


def compute_plan(root: Path, base: str = "HEAD", **options: Any) -> Plan:
    """compute_plan, with the validation problems in the failure message when the edit broke the data."""
    try:
        return _compute_plan(root, base, **options)
    except UserError as exc:
        if not exc.problems:
            raise
        problems = "\n".join(p.format_text() for p in exc.problems)
        raise AssertionError(f"{exc.message}\n{problems}") from exc


def make_repo(path: Path) -> git.Repo:
    """Turn a folder of data into a git repository with one commit."""
    repo = git.Repo.init(path)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Plan Test")
        config.set_value("user", "email", "plan-test@example.com")
    repo.git.add(A=True)
    repo.index.commit("base")
    return repo


def commit_all(repo: git.Repo, message: str) -> str:
    repo.git.add(A=True)
    return repo.index.commit(message).hexsha


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def ids(plan: Plan, kind: str | None = None) -> dict[str, tuple[str, str]]:
    """change id -> (action, event), for one kind or all."""
    return {c.id: (str(c.action), c.event) for c in plan.changes if kind is None or c.kind == kind}


def fields(plan: Plan, change_id: str) -> dict[str, tuple[object, object]]:
    change = next(c for c in plan.changes if c.id == change_id)
    return {f.field: (f.old, f.new) for f in change.fields}


def gate_kinds(plan: Plan) -> set[tuple[str, str]]:
    return {(g.kind, g.id) for g in plan.gates}


def assert_reloads_allowed(plan: Plan) -> None:
    for server in plan.servers.values():
        assert set(server.reloads) <= ALLOWED_RELOADS
        assert "core reload" not in server.reloads


@pytest.fixture
def repo(demo_repo: Path) -> Path:
    make_repo(demo_repo)
    return demo_repo


# --- no-op stability ---------------------------------------------------------------------


def test_unchanged_repository_plans_no_changes_with_a_stable_checksum(repo: Path) -> None:
    first = compute_plan(repo)
    second = compute_plan(repo)
    assert first.is_empty and second.is_empty
    assert first.changes == [] and first.gates == [] and not first.blocked
    assert not any(s.changed or s.reloads or s.restart_required for s in first.servers.values())
    assert set(first.servers) == {"pbx-sp-01", "pbx-rj-01"}
    assert first.checksum == second.checksum
    assert re.fullmatch(r"[0-9a-f]{64}", first.checksum)
    head = git.Repo(repo).head.commit.hexsha
    assert first.head_revision == head
    assert first.base_revisions == {"pbx-rj-01": head, "pbx-sp-01": head}


def test_formatting_only_edit_plans_no_change(repo: Path) -> None:
    unchanged = compute_plan(repo).checksum
    tenant = repo / "tenants" / "acme.yaml"
    text = tenant.read_text(encoding="utf-8")
    lines = text.splitlines()
    # reorder top-level keys (name after email), add comments, change quoting, flow -> block
    name_line = next(line for line in lines if line.startswith("name:"))
    lines.remove(name_line)
    lines.insert(lines.index(next(line for line in lines if line.startswith("email:"))) + 1, name_line)
    text = "\n".join(lines) + "\n"
    text = text.replace("status: ativo", "status: 'ativo'   # still active")
    text = text.replace("plan: empresarial", 'plan: "empresarial"')
    text = text.replace(
        "  - {number: 2005, name: Vendas - Pedro Alves}",
        "  # a comment in the list\n  - number: 2005\n    name: Vendas - Pedro Alves",
    )
    tenant.write_text(text, encoding="utf-8")
    numbers = repo / "numbers" / "11.yaml"
    edit(
        numbers,
        '{number: "1130010030", route: sp-principal, owner: null, reverse_billing: false}',
        "{route: sp-principal, reverse_billing: false, owner: ~, number: '1130010030'}",
    )
    plan = compute_plan(repo)
    assert git.Repo(repo).is_dirty()
    assert plan.is_empty, plan.to_json()
    assert plan.checksum == unchanged


# --- semantic changes --------------------------------------------------------------------


def test_tenant_added_creates_its_files_and_include_lines(repo: Path) -> None:
    source = (repo / "tenants" / "ana-ferreira.yaml").read_text(encoding="utf-8")
    new = source.replace("id: ", "id: 9", 1).replace("Ana Ferreira", "Nova Empresa")
    new = re.sub(r"service_code: \S+", "service_code: NOV-0001", new)
    new = re.sub(r"caller_id: \"\d+\"\n", "", new)
    new = re.sub(r"document: .*\n", "document: 529.982.247-25\n", new)
    (repo / "tenants" / "nova-empresa.yaml").write_text(new, encoding="utf-8")
    users = repo / "inventory" / "users.yaml"
    if users.is_file():  # every tenant needs a manager (tenant-manager rule)
        edit(users, "    tenants: [", "    tenants: [nova-empresa, ")
    plan = compute_plan(repo)
    assert ids(plan, "tenant") == {"tenant:nova-empresa": ("create", "created")}
    server = plan.servers["pbx-sp-01"]
    assert server.files["tenants/nova-empresa/pjsip.conf"].action is Action.CREATE
    assert server.files["pjsip.conf"].action is Action.UPDATE
    assert '+#include "pabx/tenants/nova-empresa/pjsip.conf"' in server.files["pjsip.conf"].diff
    assert "module reload res_pjsip.so" in server.reloads and "dialplan reload" in server.reloads
    assert not plan.servers["pbx-rj-01"].changed
    assert plan.gates == []


def test_tenant_removed_status_plan_and_moved(repo: Path) -> None:
    edit(repo / "tenants" / "studio-luz.yaml", "status: inativo", "status: removido")
    edit(repo / "tenants" / "studio-luz.yaml", 'caller_id: "1930040010"\n', "")
    edit(
        repo / "numbers" / "19.yaml",
        'owner: studio-luz, reverse_billing: false, destination: "extension:2001"',
        "owner: null, reverse_billing: false",
    )
    edit(repo / "tenants" / "ana-ferreira.yaml", "plan: basico", "plan: empresarial")
    edit(repo / "tenants" / "clinica-sorriso.yaml", "status: ativo", "status: pendente")
    plan = compute_plan(repo)
    tenants = ids(plan, "tenant")
    assert tenants["tenant:studio-luz"] == ("delete", "status")
    assert fields(plan, "tenant:studio-luz") == {
        "caller_id": ("1930040010", None),
        "status": ("inativo", "removido"),
    }
    assert tenants["tenant:ana-ferreira"] == ("update", "plan")
    assert fields(plan, "tenant:ana-ferreira") == {"plan": ("basico", "empresarial")}
    assert tenants["tenant:clinica-sorriso"] == ("update", "status")
    sp = plan.servers["pbx-sp-01"]
    assert sp.files["tenants/studio-luz/extensions.conf"].action is Action.DELETE
    assert sp.files["tenants/studio-luz/pjsip.conf"].action is Action.DELETE
    assert "tenants/ana-ferreira/extensions.conf" in sp.files
    assert ("tenant-removed", "tenant:studio-luz") in gate_kinds(plan)
    assert plan.blocked
    assert_reloads_allowed(plan)


def test_tenant_moved_between_servers(repo: Path) -> None:
    edit(repo / "tenants" / "ana-ferreira.yaml", "server: pbx-sp-01", "server: pbx-rj-01")
    plan = compute_plan(repo)
    assert ids(plan, "tenant") == {"tenant:ana-ferreira": ("update", "moved")}
    assert fields(plan, "tenant:ana-ferreira") == {"server": ("pbx-sp-01", "pbx-rj-01")}
    change = next(c for c in plan.changes if c.id == "tenant:ana-ferreira")
    assert change.servers == ("pbx-rj-01", "pbx-sp-01")
    assert plan.servers["pbx-sp-01"].files["tenants/ana-ferreira/pjsip.conf"].action is Action.DELETE
    assert plan.servers["pbx-rj-01"].files["tenants/ana-ferreira/pjsip.conf"].action is Action.CREATE


def test_tenant_fields_not_rendered_change_no_file(repo: Path) -> None:
    edit(repo / "tenants" / "acme.yaml", "contact: Maria Souza", "contact: Maria S. Souza")
    edit(repo / "tenants" / "acme.yaml", "city: São Paulo", "city: Osasco")
    plan = compute_plan(repo)
    assert ids(plan) == {"tenant:acme": ("update", "fields")}
    assert fields(plan, "tenant:acme") == {
        "contact": ("Maria Souza", "Maria S. Souza"),
        "contact_details.city": ("São Paulo", "Osasco"),
    }
    assert not plan.is_empty
    assert plan.changed_servers == []


def test_extensions_added_removed_changed_by_number(repo: Path) -> None:
    acme = repo / "tenants" / "acme.yaml"
    edit(
        acme,
        "  - {number: 2009, name: Sala de reunião, outbound: [local_fixo, servicos]}",
        "  - {number: 2010, name: Estoque}",
    )
    edit(
        acme,
        "{number: 2005, name: Vendas - Pedro Alves}",
        "{number: 2005, name: Vendas - Pedro Alves, voicemail: true}",
    )
    edit(acme, "{number: 2004, name: Vendas - Juliana Rocha,", "{number: 2004, name: Vendas - Juliana R.,")
    plan = compute_plan(repo)
    assert ids(plan, "extension") == {
        "extension:acme/2004": ("update", "fields"),
        "extension:acme/2005": ("update", "fields"),
        "extension:acme/2009": ("delete", "deleted"),
        "extension:acme/2010": ("create", "created"),
    }
    assert fields(plan, "extension:acme/2005") == {"voicemail": (False, True)}
    assert fields(plan, "extension:acme/2004") == {"name": ("Vendas - Juliana Rocha", "Vendas - Juliana R.")}
    sp = plan.servers["pbx-sp-01"]
    assert sp.reloads == ["module reload res_pjsip.so", "dialplan reload", "module reload app_voicemail.so"]
    assert not sp.restart_required


def test_password_rotation_is_a_change_without_the_password(repo: Path) -> None:
    edit(
        repo / "tenants" / "acme.yaml",
        "{number: 2005, name: Vendas - Pedro Alves}",
        "{number: 2005, name: Vendas - Pedro Alves, sip_rotation: 1}",
    )
    plan = compute_plan(repo)
    assert ids(plan) == {"extension:acme/2005": ("update", "password")}
    assert fields(plan, "extension:acme/2005") == {"sip_rotation": (0, 1)}
    # masked on both sides: the rendered file does not change, only the secret would
    assert plan.changed_servers == []


def test_queue_and_ivr_changes_reload_what_they_need(repo: Path) -> None:
    clinica = repo / "tenants" / "clinica-sorriso.yaml"
    edit(
        clinica,
        "strategy: ringall, members: [2001, 2002], timeout: 20",
        "strategy: leastrecent, members: [2001, 2002, 2004], timeout: 20",
    )
    edit(clinica, "wait_s: 4", "wait_s: 6")
    plan = compute_plan(repo)
    assert ids(plan) == {
        "queue:clinica-sorriso/600": ("update", "fields"),
        "ivr:clinica-sorriso/500": ("update", "fields"),
    }
    assert fields(plan, "queue:clinica-sorriso/600") == {
        "members": (["2001", "2002"], ["2001", "2002", "2004"]),
        "strategy": ("ringall", "leastrecent"),
    }
    assert fields(plan, "ivr:clinica-sorriso/500") == {"wait_s": (4, 6)}
    rj = plan.servers["pbx-rj-01"]
    assert "module reload app_queue.so" in rj.reloads
    assert "dialplan reload" in rj.reloads
    assert "module reload res_pjsip.so" not in rj.reloads
    assert not plan.servers["pbx-sp-01"].changed


def test_queue_and_ivr_added_and_removed(repo: Path) -> None:
    clinica = repo / "tenants" / "clinica-sorriso.yaml"
    clinica.write_text(
        clinica.read_text(encoding="utf-8").split("ivrs:")[0], encoding="utf-8"
    )  # drop the IVR
    numbers = repo / "numbers" / "31.yaml"
    numbers.write_text(
        numbers.read_text(encoding="utf-8").replace('"ivr:500"', '"queue:600"'), encoding="utf-8"
    )
    edit(
        repo / "tenants" / "construtora-horizonte.yaml",
        "ivrs:\n",
        "  - {number: 603, name: Canteiro, members: [2010], timeout: 15}\nivrs:\n",
    )
    plan = compute_plan(repo)
    found = ids(plan)
    assert found["queue:construtora-horizonte/603"] == ("create", "created")
    assert found["ivr:clinica-sorriso/500"] == ("delete", "deleted")
    assert any(c.startswith("number:31") and v == ("update", "destination") for c, v in found.items())


def test_number_added_removed_assigned_released_moved_and_fields(repo: Path) -> None:
    n11 = repo / "numbers" / "11.yaml"
    edit(
        n11,
        '- {number: "1130010030", route: sp-principal, owner: null, reverse_billing: false}',
        '- {number: "1130010030", route: sp-principal, owner: acme, reverse_billing: false, destination: "extension:2001"}',
    )
    edit(n11, '- {number: "1130010031", route: sp-principal, owner: null, reverse_billing: false}\n', "")
    edit(
        n11,
        'owner: acme, reverse_billing: false, destination: "extension:2003"}',
        'owner: acme, reverse_billing: true, destination: "extension:2003"}',
    )
    edit(
        n11,
        '"1130010010", route: sp-principal, owner: ana-ferreira, reverse_billing: false, destination: "extension:2001"',
        '"1130010010", route: sp-principal, owner: conecta-telecom, reverse_billing: false, destination: "extension:2001"',
    )
    edit(repo / "tenants" / "ana-ferreira.yaml", 'caller_id: "1130010010"', 'caller_id: "1130010099"')
    n11.write_text(
        n11.read_text(encoding="utf-8")
        + '- {number: "1130010099", route: sp-principal, owner: ana-ferreira, reverse_billing: false, destination: "extension:2001"}\n'
        + '- {number: "1130010098", route: sp-principal, owner: null}\n',
        encoding="utf-8",
    )
    plan = compute_plan(repo)
    numbers = ids(plan, "number")
    assert numbers["number:1130010030"] == ("update", "assigned")
    assert numbers["number:1130010031"] == ("delete", "removed")
    assert numbers["number:1130010002"] == ("update", "reverse_billing")
    assert fields(plan, "number:1130010002") == {"reverse_billing": (False, True)}
    assert numbers["number:1130010010"] == ("update", "moved")
    assert numbers["number:1130010099"] == ("create", "added")
    assert numbers["number:1130010098"] == ("create", "added")
    kinds = gate_kinds(plan)
    assert ("number-removed", "number:1130010031") in kinds
    assert ("number-moved", "number:1130010010") in kinds
    moved = next(c for c in plan.changes if c.id == "number:1130010010")
    assert moved.tenants == ("ana-ferreira", "conecta-telecom")


def test_number_released_and_route_changed(repo: Path) -> None:
    n21 = repo / "numbers" / "21.yaml"
    edit(
        n21,
        '{number: "2130020011", route: rj-principal, owner: mercadinho-bom-preco, reverse_billing: false, destination: "extension:2004"}',
        '{number: "2130020011", route: rj-principal, owner: null, reverse_billing: false}',
    )
    edit(n21, '{number: "2130020020", route: rj-principal,', '{number: "2130020020", route: sp-principal,')
    plan = compute_plan(repo)
    numbers = ids(plan, "number")
    assert numbers["number:2130020011"] == ("update", "released")
    assert numbers["number:2130020020"] == ("update", "route")
    assert fields(plan, "number:2130020011") == {
        "destination": ("extension:2004", None),
        "owner": ("mercadinho-bom-preco", None),
    }
    assert plan.servers["pbx-rj-01"].changed  # the released DID no longer rings mercadinho
    assert plan.gates == []  # releasing is not a gate


def test_route_trunk_changed_per_class(repo: Path) -> None:
    edit(repo / "routes" / "sp-principal.yaml", "  ldi: embratel", "  ldi: vivo-sp")
    plan = compute_plan(repo)
    assert ids(plan) == {"route:sp-principal": ("update", "trunk")}
    assert fields(plan, "route:sp-principal") == {"trunks.ldi": ("embratel", "vivo-sp")}
    assert plan.servers["pbx-sp-01"].reloads == ["dialplan reload"]


def test_plan_tariff_limits_and_classes(repo: Path) -> None:
    empresarial = repo / "plans" / "empresarial.yaml"
    edit(empresarial, "ldi: 1.50}", "ldi: 1.75}")
    edit(empresarial, "concurrent_calls: 10}", "concurrent_calls: 12}")
    plan = compute_plan(repo)
    assert ids(plan) == {"plan:empresarial": ("update", "tariff")}
    assert fields(plan, "plan:empresarial") == {
        "limits.concurrent_calls": (10, 12),
        "tariffs.ldi": ("1.5", "1.75"),
    }
    assert plan.servers["pbx-sp-01"].reloads == ["dialplan reload"]  # the limit is in the dialplan
    assert plan.gates == []


NEW_SERVER = (
    "        pbx-bh-01:\n          ansible_host: pbx-bh-01.pabx.example.com.br\n"
    "          pabx_sip_address: sip-bh.pabx.example.com.br\n"
    "          pabx_capacity: {concurrent_calls: 40, tenants: 4}\n"
)


def test_trunk_changed_and_server_added(repo: Path) -> None:
    edit(repo / "inventory" / "trunks" / "embratel.yaml", "max_channels: ", "max_channels: 1")
    hosts = repo / "inventory" / "hosts.yml"
    hosts.write_text(hosts.read_text(encoding="utf-8") + NEW_SERVER, encoding="utf-8")
    plan = compute_plan(repo)
    found = ids(plan)
    assert found["trunk:embratel"] == ("update", "fields")
    assert found["server:pbx-bh-01"] == ("create", "created")
    new = plan.servers["pbx-bh-01"]
    assert {"pjsip.conf", "extensions.conf", "cdr.conf"} <= set(new.files)
    assert all(f.action is Action.CREATE for f in new.files.values())


def test_server_removed_deletes_its_files(repo: Path) -> None:
    hosts = repo / "inventory" / "hosts.yml"
    before = hosts.read_text(encoding="utf-8")
    hosts.write_text(before + NEW_SERVER, encoding="utf-8")
    commit_all(git.Repo(repo), "a new server")
    hosts.write_text(before, encoding="utf-8")
    plan = compute_plan(repo)
    assert ids(plan) == {"server:pbx-bh-01": ("delete", "deleted")}
    gone = plan.servers["pbx-bh-01"]
    assert gone.files and all(f.action is Action.DELETE for f in gone.files.values())
    assert gone.reloads == [] and gone.head_digest is None


# --- reloads and restarts ----------------------------------------------------------------


def test_transport_change_flags_a_restart(repo: Path) -> None:
    edit(
        repo / "inventory" / "hosts.yml",
        "pabx_sip_address: sip-sp.pabx.example.com.br",
        "pabx_sip_address: sip-sp.pabx.example.com.br\n          pabx_sip_port: 5080",
    )
    plan = compute_plan(repo)
    sp = plan.servers["pbx-sp-01"]
    assert sp.restart_required
    assert any("pabx-udp" in r and "5080" in r for r in sp.restart_reasons)
    assert sp.reloads == ["module reload res_pjsip.so"]
    assert not plan.servers["pbx-rj-01"].restart_required


def test_a_new_transport_needs_no_restart(repo: Path) -> None:
    edit(repo / "inventory" / "trunks" / "claro-rj.yaml", "transport: udp", "transport: tcp")
    plan = compute_plan(repo)
    rj = plan.servers["pbx-rj-01"]
    if "pjsip.conf" not in rj.files or "pabx-tcp" not in rj.files["pjsip.conf"].diff:
        pytest.skip("the RJ server already has a tcp transport in this data")
    assert not rj.restart_required, rj.restart_reasons


def test_reload_allow_list() -> None:
    reloads, unknown = reloads_for(
        ["cdr.conf", "tenants/a/queues.conf", "tenants/a/pjsip.conf", "extensions.conf", "voicemail.conf"]
    )
    assert reloads == [
        "module reload res_pjsip.so",
        "dialplan reload",
        "module reload app_queue.so",
        "module reload app_voicemail.so",
        "module reload cdr_csv.so",
    ]
    assert unknown == []
    assert reloads_for(["musiconhold.conf"]) == ([], ["musiconhold.conf"])


# --- gates ---------------------------------------------------------------------------------


def test_opening_ldi_or_0300_is_gated(repo: Path) -> None:
    edit(repo / "tenants" / "ana-ferreira.yaml", "plan: basico", "plan: corporativo")
    plan = compute_plan(repo)
    gate = next(g for g in plan.gates if g.kind == "class-opened")
    assert gate.id == "tenant:ana-ferreira"
    assert "ldi" in gate.reason and "0300" in gate.reason
    assert plan.blocked
    allowed = compute_plan(repo, allow_destructive=True)
    assert allowed.gates and not allowed.blocked
    assert allowed.checksum == plan.checksum  # the same plan, only allowed


def test_a_plan_that_starts_allowing_ldi_gates_its_tenants(repo: Path) -> None:
    edit(
        repo / "plans" / "empresarial.yaml",
        'ldn_movel, "0800", servicos]',
        'ldn_movel, "0800", servicos, ldi]',
    )
    plan = compute_plan(repo)
    assert ids(plan) == {"plan:empresarial": ("update", "classes")}
    opened = {g.id for g in plan.gates if g.kind == "class-opened"}
    assert opened == {"tenant:acme", "tenant:mercadinho-bom-preco"}


def test_plan_change_without_new_risky_classes_is_not_gated(repo: Path) -> None:
    edit(repo / "tenants" / "ana-ferreira.yaml", "plan: basico", "plan: empresarial")
    assert compute_plan(repo).gates == []


def test_mass_change_gate_follows_the_threshold(repo: Path) -> None:
    for slug in ("acme", "ana-ferreira"):  # 2 of the 4 tenants pbx-sp-01 serves
        edit(
            repo / "tenants" / f"{slug}.yaml",
            "extensions:\n",
            "extensions:\n  - {number: 2999, name: Teste}\n",
        )
    plan = compute_plan(repo, threshold=0.2)
    assert ("mass-change", "server:pbx-sp-01") in gate_kinds(plan)
    assert "2 dos 4 clientes" in next(g.reason for g in plan.gates if g.kind == "mass-change")
    assert compute_plan(repo, threshold=0.5).gates == []
    assert compute_plan(repo, threshold=0.2).checksum != compute_plan(repo, threshold=0.5).checksum


def test_one_tenant_never_trips_the_mass_change_gate(repo: Path) -> None:
    edit(repo / "tenants" / "acme.yaml", "extensions:\n", "extensions:\n  - {number: 2999, name: Teste}\n")
    assert compute_plan(repo, threshold=0.0).gates == []


def test_threshold_must_be_a_fraction(repo: Path) -> None:
    with pytest.raises(UserError, match="between 0 and 1"):
        compute_plan(repo, threshold=1.5)


# --- checksum ------------------------------------------------------------------------------


def test_checksum_is_sensitive_to_any_other_plan(repo: Path) -> None:
    acme = repo / "tenants" / "acme.yaml"
    baseline = compute_plan(repo).checksum
    edit(acme, "{number: 2005, name: Vendas - Pedro Alves}", "{number: 2005, name: Vendas - Pedro}")
    one = compute_plan(repo)
    edit(acme, "{number: 2005, name: Vendas - Pedro}", "{number: 2005, name: Vendas - Pedro A.}")
    other = compute_plan(repo)
    assert len({baseline, one.checksum, other.checksum}) == 3
    assert compute_plan(repo).checksum == other.checksum
    body = json.dumps(other.checksum_body())
    assert other.head_revision not in body  # content, not commit ids


def test_same_content_against_another_commit_has_the_same_checksum(repo: Path) -> None:
    g = git.Repo(repo)
    first = g.head.commit.hexsha
    edit(repo / "tenants" / "acme.yaml", "contact: Maria Souza", "contact: Maria Souza Lima")
    commit_all(g, "contact")
    edit(repo / "tenants" / "acme.yaml", "contact: Maria Souza Lima", "contact: Maria Souza")
    commit_all(g, "contact back")  # HEAD has the same data as `first`
    edit(repo / "routes" / "sp-principal.yaml", "  ldi: embratel", "  ldi: vivo-sp")
    assert compute_plan(repo, "HEAD").checksum == compute_plan(repo, first).checksum


# --- the base: a git revision or what is deployed ---------------------------------------------


def test_base_is_any_git_revision(repo: Path) -> None:
    g = git.Repo(repo)
    first = g.head.commit.hexsha
    edit(repo / "tenants" / "acme.yaml", "contact: Maria Souza", "contact: Maria Souza Lima")
    commit_all(g, "contact")
    assert compute_plan(repo).is_empty
    plan = compute_plan(repo, first)
    assert ids(plan) == {"tenant:acme": ("update", "fields")}
    assert set(plan.base_revisions.values()) == {first}
    with pytest.raises(UserError, match="unknown revision"):
        compute_plan(repo, "no-such-branch")


def _note(g: git.Repo, commit: str, *records: dict[str, str]) -> None:
    existing = ""
    with contextlib.suppress(git.GitCommandError):
        existing = g.git.notes("--ref", NOTES_REF, "show", commit) + "\n"
    body = existing + "\n".join(json.dumps(r) for r in records)
    g.git.notes("--ref", NOTES_REF, "add", "-f", "-m", body, commit)


def _record(server: str, revision: str, time: str, result: str = "ok") -> dict[str, str]:
    return {
        "server": server,
        "revision": revision,
        "checksum": "0" * 64,
        "time": time,
        "result": result,
        "actor": "ci",
        "release": f"/etc/asterisk/pabx-releases/{revision[:12]}",
    }


def test_base_deployed_without_records_is_everything_new(repo: Path) -> None:
    plan = compute_plan(repo, "deployed")
    assert plan.base_revisions == {"pbx-rj-01": None, "pbx-sp-01": None}
    for server in plan.servers.values():
        assert server.changed and all(f.action is Action.CREATE for f in server.files.values())
        assert server.base_revision is None
    assert ids(plan)["tenant:acme"] == ("create", "created")
    assert "tenant:ricardo-almeida" in ids(plan)  # removido: created as a record, renders nothing
    assert plan.gates == [] or all(g.kind != "mass-change" for g in plan.gates)


def test_base_deployed_reads_the_latest_successful_record_per_server(repo: Path) -> None:
    g = git.Repo(repo)
    first = g.head.commit.hexsha
    _note(
        g,
        first,
        _record("pbx-sp-01", first, "2026-05-01T10:00:00Z"),
        _record("pbx-rj-01", first, "2026-05-01T10:00:05Z"),
    )
    edit(
        repo / "tenants" / "acme.yaml",
        "{number: 2005, name: Vendas - Pedro Alves}",
        "{number: 2005, name: Vendas - Pedro}",
    )
    second = commit_all(g, "rename 2005")
    # the apply of `second` succeeded on sp-01 and failed on rj-01: rj-01 still runs `first`
    _note(
        g,
        second,
        _record("pbx-sp-01", second, "2026-05-02T10:00:00Z"),
        _record("pbx-rj-01", second, "2026-05-02T10:00:03Z", "failed"),
    )
    edit(repo / "tenants" / "clinica-sorriso.yaml", "wait_s: 4", "wait_s: 6")
    plan = compute_plan(repo, "deployed")
    assert plan.base_revisions == {"pbx-sp-01": second, "pbx-rj-01": first}
    assert ids(plan) == {"ivr:clinica-sorriso/500": ("update", "fields")}  # sp-01 already has 2005
    assert not plan.servers["pbx-sp-01"].changed
    assert plan.servers["pbx-rj-01"].changed
    against_head = compute_plan(repo, "HEAD")
    assert against_head.checksum == plan.checksum  # both bases have the same content for these servers


def test_deployed_base_with_different_revisions_per_server(repo: Path) -> None:
    g = git.Repo(repo)
    first = g.head.commit.hexsha
    _note(g, first, _record("pbx-rj-01", first, "2026-05-01T10:00:00Z"))
    edit(
        repo / "tenants" / "acme.yaml",
        "{number: 2005, name: Vendas - Pedro Alves}",
        "{number: 2005, name: Vendas - Pedro}",
    )
    edit(repo / "tenants" / "clinica-sorriso.yaml", "wait_s: 4", "wait_s: 6")
    second = commit_all(g, "two tenants")
    _note(g, second, _record("pbx-sp-01", second, "2026-05-02T10:00:00Z"))
    plan = compute_plan(repo, "deployed")
    assert plan.base_revisions == {"pbx-sp-01": second, "pbx-rj-01": first}
    assert ids(plan) == {"ivr:clinica-sorriso/500": ("update", "fields")}
    assert plan.changed_servers == ["pbx-rj-01"]


def test_broken_deploy_record_is_a_user_error(repo: Path) -> None:
    g = git.Repo(repo)
    g.git.notes("--ref", NOTES_REF, "add", "-m", "not json", g.head.commit.hexsha)
    with pytest.raises(UserError, match="not JSON"):
        compute_plan(repo, "deployed")


# --- the render cache and per-server render are faithful -----------------------------------


def test_one_server_render_equals_the_full_render(repo: Path) -> None:
    loaded, _ = load_valid_repository(repo)
    full = render_servers(loaded, Secrets(None))
    placement = Placement.of(loaded)
    for server in loaded.servers:
        alone = render_servers(server_repository(loaded, server, placement), Secrets(None))
        assert alone == {server: full[server]}


def test_cached_render_gives_the_same_plan(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(
        repo / "tenants" / "acme.yaml",
        "{number: 2005, name: Vendas - Pedro Alves}",
        "{number: 2005, name: Vendas - Pedro}",
    )
    cold = compute_plan(repo)
    assert list((tmp_path / "state" / "cache" / "plan-render").glob("*.pickle"))
    warm = compute_plan(repo)
    monkeypatch.setenv("PABX_NO_CACHE", "1")
    uncached = compute_plan(repo)
    assert cold.to_json() == warm.to_json() == uncached.to_json()


@pytest.mark.parametrize(
    "path, old, new",
    [
        (
            "tenants/acme.yaml",
            "{number: 2005, name: Vendas - Pedro Alves}",
            "{number: 2005, name: Vendas - Pedro}",
        ),
        ("tenants/ana-ferreira.yaml", "server: pbx-sp-01", "server: pbx-rj-01"),
        (
            "numbers/11.yaml",
            '"1130010030", route: sp-principal, owner: null, reverse_billing: false',
            '"1130010030", route: sp-principal, owner: acme, reverse_billing: false, destination: "extension:2001"',
        ),
        (
            "numbers/11.yaml",
            'owner: acme, reverse_billing: true, destination: "queue:601"',
            'owner: acme, reverse_billing: false, destination: "queue:601"',
        ),
        ("routes/rj-principal.yaml", "  ldi: embratel", "  ldi: claro-rj"),
        ("inventory/users.yaml", "    tenants: [acme, ", "    tenants: [acme,"),
    ],
)
def test_skipping_untouched_servers_gives_the_full_comparison(
    repo: Path, monkeypatch: pytest.MonkeyPatch, path: str, old: str, new: str
) -> None:
    """The plan only renders servers a changed file can touch; comparing all gives the same plan."""
    if not (repo / path).is_file():
        pytest.skip(f"{path} is not in the demo data")
    edit(repo / path, old, new)
    pruned = compute_plan(repo)
    monkeypatch.setattr("pabx.plan.compute._touched_servers", lambda *_: None)
    monkeypatch.setenv("PABX_NO_CACHE", "1")
    assert compute_plan(repo).to_json() == pruned.to_json()


def test_validation_verdict_is_reused_only_for_the_same_content(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pabx.plan.compute as compute_module

    calls: list[Path] = []
    real = compute_module.load_valid_repository

    def counting(root: Path) -> Any:
        calls.append(root)
        return real(root)

    monkeypatch.setattr(compute_module, "load_valid_repository", counting)
    compute_plan(repo)
    compute_plan(repo)
    assert len(calls) == 1  # the same tree, validated once
    edit(repo / "tenants" / "acme.yaml", "plan: empresarial", "plan: nao-existe")
    with pytest.raises(AssertionError, match="nao-existe"):
        compute_plan(repo)  # new content: validated again, and refused
    assert len(calls) == 2


def test_deployed_server_no_longer_in_the_inventory_is_planned_away(repo: Path) -> None:
    g = git.Repo(repo)
    hosts = repo / "inventory" / "hosts.yml"
    before = hosts.read_text(encoding="utf-8")
    hosts.write_text(before + NEW_SERVER, encoding="utf-8")
    with_bh = commit_all(g, "a new server")
    _note(
        g,
        with_bh,
        *(_record(s, with_bh, "2026-05-01T10:00:00+00:00") for s in ("pbx-sp-01", "pbx-rj-01", "pbx-bh-01")),
    )
    hosts.write_text(before, encoding="utf-8")
    plan = compute_plan(repo, "deployed")
    assert plan.base_revisions["pbx-bh-01"] == with_bh
    assert ids(plan) == {"server:pbx-bh-01": ("delete", "deleted")}
    assert plan.changed_servers == ["pbx-bh-01"]
    assert all(f.action is Action.DELETE for f in plan.servers["pbx-bh-01"].files.values())


def test_mass_change_counts_tenants_whose_rendered_files_change(repo: Path) -> None:
    """A plan's limit is in each of its tenants' dialplan: 2 of pbx-sp-01's 4 tenants change."""
    text = (repo / "plans" / "basico.yaml").read_text(encoding="utf-8")
    limit = re.search(r"concurrent_calls: (\d+)", text)
    assert limit is not None
    edit(repo / "plans" / "basico.yaml", limit.group(0), f"concurrent_calls: {int(limit.group(1)) + 1}")
    plan = compute_plan(repo)
    assert ids(plan) == {"plan:basico": ("update", "limits")}
    assert {(g.kind, g.id) for g in plan.gates} == {("mass-change", "server:pbx-sp-01")}
    assert "2 dos 4 clientes" in plan.gates[0].reason
