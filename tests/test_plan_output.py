"""Plan outputs (text, markdown, json) and the `pabx plan` command: content, size, secrets."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest
from click.testing import CliRunner

from pabx.cli import main
from pabx.generate import GeneratorSpec, generate_platform
from pabx.loader import load_valid_repository
from pabx.plan import compute_plan
from pabx.plan.output import FORMATS, GITHUB_COMMENT_LIMIT, MARKER, MarkdownFormat, render_plan
from pabx.render.secrets import Secrets
from tests.test_plan import edit, make_repo

TRUNK_ENV = {
    "PABX_TRUNK_VIVO_SP_PASSWORD": "vivo-trunk-Secret-4711",
    "PABX_TRUNK_CLARO_RJ_PASSWORD": "claro-trunk-Secret-4712",
    "PABX_TRUNK_EMBRATEL_PASSWORD": "embratel-trunk-Secret-4713",
}


@pytest.fixture
def repo(demo_repo: Path) -> Path:
    make_repo(demo_repo)
    return demo_repo


def _edits(repo: Path) -> None:
    """studio-luz removed (a gate), an extension of clinica-sorriso renamed."""
    edit(repo / "tenants" / "studio-luz.yaml", "status: inativo", "status: removido")
    edit(repo / "tenants" / "studio-luz.yaml", 'caller_id: "1930040010"\n', "")
    edit(
        repo / "numbers" / "19.yaml",
        'owner: studio-luz, reverse_billing: false, destination: "extension:2001"',
        "owner: null, reverse_billing: false",
    )
    edit(
        repo / "tenants" / "clinica-sorriso.yaml",
        "{number: 2003, name: Consultório 1,",
        "{number: 2003, name: Consultório Um,",
    )


def test_text_lists_gates_first_then_changes_servers_and_checksum(repo: Path) -> None:
    _edits(repo)
    plan = compute_plan(repo)
    text = render_plan(plan, "text")
    assert text.index("BLOQUEIOS") < text.index("Mudanças:") < text.index("Servidores:")
    assert "tenant-removed" in text and "tenant:studio-luz" in text
    assert "extension:clinica-sorriso/2003" in text
    assert '+callerid="Consultorio Um" <2003>' in text
    assert "reloads: module reload res_pjsip.so, dialplan reload" in text
    assert text.rstrip().endswith(f"Checksum: {plan.checksum}")


def test_text_of_an_empty_plan_says_so(repo: Path) -> None:
    text = render_plan(compute_plan(repo), "text")
    assert "Sem mudanças" in text
    assert "pbx-sp-01" in text and "sem mudanças" in text


def test_json_has_the_stable_shape(repo: Path) -> None:
    _edits(repo)
    plan = compute_plan(repo)
    data = json.loads(render_plan(plan, "json"))
    assert data == json.loads(json.dumps(plan.to_json()))
    assert set(data) == {
        "version",
        "checksum",
        "base",
        "head_revision",
        "base_revisions",
        "allow_destructive",
        "blocked",
        "threshold",
        "empty",
        "summary",
        "gates",
        "changes",
        "servers",
        "edge",
    }
    assert data["checksum"] == plan.checksum
    assert data["blocked"] is True
    server = data["servers"]["pbx-sp-01"]
    assert set(server) >= {"changed", "reloads", "restart_required", "files", "base_revision"}
    for change in server["files"].values():
        assert change["action"] in ("create", "update", "delete") and change["diff"].startswith("--- ")
    change = data["changes"][0]
    assert set(change) == {"kind", "action", "id", "file", "event", "summary", "fields", "servers", "tenants"}


def test_markdown_is_one_comment_with_gates_first_and_details_per_server(repo: Path) -> None:
    _edits(repo)
    plan = compute_plan(repo)
    md = render_plan(plan, "markdown")
    assert md.startswith(MARKER)
    assert md.index("[!WARNING]") < md.index("### Clientes") < md.index("### Por servidor")
    assert "`extension:clinica-sorriso/2003` name: Consultório 1 → Consultório Um" in md
    assert md.count("<details>") == len(plan.changed_servers) == md.count("</details>")
    assert "<summary><b>pbx-sp-01</b>" in md
    assert "<code>module reload res_pjsip.so</code>" in md
    assert "```diff" in md
    assert md.rstrip().endswith(f"`{plan.checksum}`")
    assert len(md) < GITHUB_COMMENT_LIMIT


def test_markdown_escapes_what_users_typed(repo: Path) -> None:
    edit(
        repo / "tenants" / "acme.yaml",
        "{number: 2005, name: Vendas - Pedro Alves}",
        '{number: 2005, name: "Vendas </details> *x* | y"}',
    )
    md = render_plan(compute_plan(repo), "markdown")
    assert md.count("<details>") == md.count("</details>") == 1
    assert "&lt;/details&gt;" in md
    assert "\\*x\\*" in md and "\\|" in md


def test_every_format_has_the_same_method() -> None:
    for name, fmt in FORMATS.items():
        assert callable(fmt().render), name


def test_secrets_are_never_printed(repo: Path, monkeypatch: pytest.MonkeyPatch, runner: CliRunner) -> None:
    for name, value in TRUNK_ENV.items():
        monkeypatch.setenv(name, value)
    _edits(repo)
    edit(repo / "inventory" / "trunks" / "vivo-sp.yaml", "max_channels: 60", "max_channels: 61")
    key = "plan-secret-test-key"
    monkeypatch.setenv("PABX_SECRET_KEY", key)
    loaded, _ = load_valid_repository(repo)
    secrets = Secrets(key.encode(), dict(TRUNK_ENV))
    forbidden = set(TRUNK_ENV.values()) | {key}
    for slug, tenant in loaded.tenants.items():
        for ext in tenant.extensions:
            forbidden.add(secrets.sip_password(f"{slug}_{ext.number}", ext.sip_rotation))
            forbidden.add(secrets.sip_password(f"{slug}_{ext.number}", ext.sip_rotation + 1))
    outputs: list[str] = []
    for base in ("HEAD", "deployed"):  # deployed with no record: every file of every server, created
        plan = compute_plan(repo, base)
        assert "password=(masked)" in json.dumps(plan.to_json())
        outputs += [render_plan(plan, fmt) for fmt in FORMATS]
        for fmt in FORMATS:
            result = runner.invoke(main, ["plan", "--repo", str(repo), "--base", base, "--format", fmt])
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
    blob = "\n".join(outputs)
    leaked = sorted(secret for secret in forbidden if secret in blob)
    assert not leaked


def test_markdown_stays_under_the_comment_limit_for_a_500_tenant_change(tmp_path: Path) -> None:
    root = tmp_path / "big"
    generate_platform(GeneratorSpec(tenants=500), root)
    make_repo(root)
    changed = 0
    for path in sorted((root / "tenants").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace('{number: 2001, name: "', '{number: 2001, name: "Novo ', 1), encoding="utf-8"
        )
        changed += 1
    assert changed == 500
    plan = compute_plan(root, threshold=0.5)
    extension_changes = [c for c in plan.changes if c.kind == "extension"]
    assert len(extension_changes) == 500
    md = MarkdownFormat().render(plan)
    assert len(md) < GITHUB_COMMENT_LIMIT
    assert len(md.encode("utf-8")) < GITHUB_COMMENT_LIMIT
    for change in plan.changes:  # the semantic list is kept whole
        assert f"`{change.id}`" in md
    assert "truncados" in md or "omitido" in md  # the diffs did not all fit, and it says so
    assert md.count("<details>") == md.count("</details>") == len(plan.changed_servers)
    assert {g.kind for g in plan.gates} == {"mass-change"}
    assert md.rstrip().endswith(f"`{plan.checksum}`")


def test_markdown_budget_is_respected_even_when_tiny(repo: Path) -> None:
    _edits(repo)
    plan = compute_plan(repo)
    md = MarkdownFormat(budget=6_000).render(plan)
    assert len(md) <= 6_000
    assert "`tenant:studio-luz`" in md and plan.checksum in md


# --- the command -----------------------------------------------------------------------------


def test_cli_prints_the_plan_and_ends_with_the_checksum(repo: Path, runner: CliRunner) -> None:
    _edits(repo)
    result = runner.invoke(main, ["plan", "--repo", str(repo)])
    assert result.exit_code == 0, result.output  # gates do not fail the plan: apply refuses
    plan = compute_plan(repo)
    assert result.output.rstrip().splitlines()[-1] == f"Checksum: {plan.checksum}"
    md = runner.invoke(main, ["plan", "--repo", str(repo), "--format", "markdown"])
    assert md.exit_code == 0 and plan.checksum in md.output.splitlines()[-1]
    data = json.loads(runner.invoke(main, ["plan", "--repo", str(repo), "--format", "json"]).output)
    assert data["checksum"] == plan.checksum


def test_cli_writes_to_a_file(repo: Path, runner: CliRunner, tmp_path: Path) -> None:
    _edits(repo)
    out = tmp_path / "out" / "plan.md"
    result = runner.invoke(main, ["plan", "--repo", str(repo), "--format", "markdown", "--out", str(out)])
    assert result.exit_code == 0, result.output
    plan = compute_plan(repo)
    assert out.read_text(encoding="utf-8") == render_plan(plan, "markdown")
    assert result.output.splitlines()[-1] == f"checksum: {plan.checksum}"


def test_cli_detailed_exitcode(repo: Path, runner: CliRunner) -> None:
    assert runner.invoke(main, ["plan", "--repo", str(repo), "--detailed-exitcode"]).exit_code == 0
    edit(repo / "tenants" / "acme.yaml", "contact: Maria Souza", "contact: Maria Souza Lima")
    assert runner.invoke(main, ["plan", "--repo", str(repo), "--detailed-exitcode"]).exit_code == 3
    assert runner.invoke(main, ["plan", "--repo", str(repo)]).exit_code == 0


def test_cli_allow_destructive_unblocks_without_changing_the_checksum(repo: Path, runner: CliRunner) -> None:
    _edits(repo)
    blocked = json.loads(runner.invoke(main, ["plan", "--repo", str(repo), "--format", "json"]).output)
    allowed = json.loads(
        runner.invoke(main, ["plan", "--repo", str(repo), "--format", "json", "--allow-destructive"]).output
    )
    assert blocked["blocked"] is True and allowed["blocked"] is False
    assert blocked["checksum"] == allowed["checksum"]


def test_cli_user_errors_exit_2_without_traceback(repo: Path, runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["plan", "--repo", str(repo), "--base", "no-such-rev"])
    assert result.exit_code == 2
    assert "unknown revision" in result.output and "Traceback" not in result.output
    plain = tmp_path / "plain"
    plain.mkdir()
    for folder in ("inventory", "tenants", "numbers", "routes", "plans"):
        (plain / folder).symlink_to(repo / folder)
    outside = runner.invoke(main, ["plan", "--repo", str(plain)])
    assert outside.exit_code == 2, outside.output
    broken = repo / "tenants" / "acme.yaml"
    edit(broken, "plan: empresarial", "plan: nao-existe")
    invalid = runner.invoke(main, ["plan", "--repo", str(repo)])
    assert invalid.exit_code == 2 and "tenants/acme.yaml" in invalid.output


def test_cli_help_has_an_example(runner: CliRunner) -> None:
    result = runner.invoke(main, ["plan", "--help"])
    assert result.exit_code == 0
    assert "Example: pabx plan" in result.output
    for option in (
        "--base",
        "--format",
        "--out",
        "--allow-destructive",
        "--detailed-exitcode",
        "--threshold",
    ):
        assert option in result.output


def test_plan_of_a_repository_inside_a_bigger_git_work_tree(tmp_path: Path) -> None:
    """The pabx repository may live in a subfolder of the git work tree (a monorepo)."""
    top = tmp_path / "mono"
    sub = top / "pbx"
    sub.mkdir(parents=True)
    from tests.conftest import ROOT

    for folder in ("inventory", "tenants", "numbers", "routes", "plans", "templates"):
        import shutil

        shutil.copytree(ROOT / folder, sub / folder)
    make_repo(top)
    assert compute_plan(sub).is_empty
    edit(sub / "tenants" / "acme.yaml", "contact: Maria Souza", "contact: Maria Souza Lima")
    assert [c.id for c in compute_plan(sub).changes] == ["tenant:acme"]
    assert git.Repo(top).head.commit.hexsha == compute_plan(sub).base_revisions["pbx-sp-01"]
