"""The edge in plans and applies: the map change, and the order new server → edge → old server."""

from __future__ import annotations

import json
from pathlib import Path

import git
from click.testing import CliRunner

from pabx.cli import main
from pabx.edge.model import MapChange
from pabx.edge.plan import EdgePlan, apply_phases
from pabx.plan import compute_plan
from tests.edge_support import EDGE, make_fleet


def _committed_fleet(demo_repo: Path, tmp_path: Path) -> git.Repo:
    make_fleet(demo_repo, tmp_path)
    repo = git.Repo.init(demo_repo)
    repo.index.add(
        [str(p.relative_to(demo_repo)) for p in demo_repo.rglob("*") if p.is_file() and ".git" not in p.parts]
    )
    repo.index.commit(
        "fleet", author=git.Actor("t", "t@example.com"), committer=git.Actor("t", "t@example.com")
    )
    return repo


def test_plan_shows_the_edge_map_change_and_both_servers(
    demo_repo: Path, tmp_path: Path, runner: CliRunner
) -> None:
    _committed_fleet(demo_repo, tmp_path)
    path = demo_repo / "tenants" / "acme.yaml"
    path.write_text(path.read_text().replace("server: pbx-sp-01", "server: pbx-rj-01"), encoding="utf-8")
    plan = compute_plan(demo_repo)
    assert plan.edge is not None and plan.edge.hosts == [EDGE]
    assert plan.edge.counts["tenant"] == 1 and plan.edge.counts["did"] >= 1
    assert set(plan.changed_servers) == {"pbx-sp-01", "pbx-rj-01"}
    assert "edge" in plan.checksum_body()
    result = runner.invoke(main, ["plan", "--repo", str(demo_repo)])
    assert result.exit_code == 0, result.output
    assert "Edge SIP (edge-01): mapa muda (1 cliente, " in result.output
    assert "Cliente acme: pbx-sp-01 → pbx-rj-01" in result.output
    assert (
        "Ordem do apply: servidores novos (pbx-rj-01) → edge (edge-01) → limpeza dos servidores antigos (pbx-sp-01)"
        in result.output
    )
    data = json.loads(runner.invoke(main, ["plan", "--repo", str(demo_repo), "--format", "json"]).output)
    assert {"kind": "tenant", "key": "acme", "old": "pbx-sp-01", "new": "pbx-rj-01"} in data["edge"][
        "changes"
    ]
    markdown = runner.invoke(main, ["plan", "--repo", str(demo_repo), "--format", "markdown"]).output
    assert "Edge SIP" in markdown


def test_a_change_that_moves_nothing_leaves_the_edge_out_of_the_checksum(
    demo_repo: Path, tmp_path: Path
) -> None:
    _committed_fleet(demo_repo, tmp_path)
    path = demo_repo / "tenants" / "acme.yaml"
    path.write_text(path.read_text().replace("contact: ", "contact: Sra. ", 1), encoding="utf-8")
    plan = compute_plan(demo_repo)
    assert plan.edge is not None and not plan.edge.changed
    assert "edge" not in plan.checksum_body()


def test_apply_phases_order_new_server_edge_old_server() -> None:
    edge = EdgePlan(
        ["edge-01"], [MapChange("tenant", "acme", "a", "b"), MapChange("did", "1130010000", "a", "b")]
    )
    assert apply_phases(["a", "b", "c"], edge) == [
        ("servidores novos", ["b", "c"]),
        ("edge", ["edge-01"]),
        ("limpeza dos servidores antigos", ["a"]),
    ]
    assert apply_phases(["a", "b"], None) == [("servidores", ["a", "b"])]
    assert apply_phases(["a", "b"], EdgePlan(["edge-01"])) == [("servidores", ["a", "b"])]
