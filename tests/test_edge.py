"""The edge map: rendered from the same YAML, validated, and leaving the Asterisk render alone."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from pabx.cli import main
from pabx.edge import edge_map, map_changes, set_id
from pabx.edge.render import render_edges
from pabx.loader import load_valid_repository
from pabx.render import render_servers
from pabx.render.secrets import Secrets
from pabx.validate import validate_repository
from tests.edge_support import EDGE, make_fleet, set_edges


def _fleet(repo: Path, tmp_path: Path) -> Path:
    make_fleet(repo, tmp_path)
    return repo


def test_edge_map_routes_every_owned_did_to_its_owners_server(demo_repo: Path, tmp_path: Path) -> None:
    repo, _ = load_valid_repository(_fleet(demo_repo, tmp_path))
    emap = edge_map(repo)
    owned = {n.number: repo.tenants[n.owner].server for n in repo.numbers.values() if n.owner}
    assert emap.dids == dict(sorted(owned.items()))
    assert emap.tenants == {s: t.server for s, t in repo.tenants.items() if t.status != "removido"}
    assert emap.domains["acme.pabx.example.com.br"] == repo.tenants["acme"].server
    assert emap.carrier_hosts["sip-sp.vivo.example.com.br"] == "trunk_vivo-sp"
    assert emap.servers["pbx-sp-01"].uri.startswith("sip:127.0.0.2:")
    unowned = [n.number for n in repo.numbers.values() if not n.owner]
    assert unowned and not set(unowned) & set(emap.dids)


def test_rendered_edge_files_hold_the_tables_kamailio_loads(demo_repo: Path, tmp_path: Path) -> None:
    repo, _ = load_valid_repository(_fleet(demo_repo, tmp_path))
    files = render_edges(repo)[EDGE]
    assert set(files) == {
        "kamailio.cfg", "dispatcher.list",
        "db/did", "db/tenant", "db/domain", "db/peer", "db/carrier", "db/source",
    }  # fmt: skip
    did = files["db/did"].splitlines()
    assert did[0] == "key_name(string) key_type(int) value_type(int) key_value(string)"
    assert "1130010000:0:0:pbx-sp-01" in did
    assert f"pbx-sp-01:0:1:{set_id('pbx-sp-01')}" in files["db/peer"].splitlines()
    assert re.search(
        rf"^{set_id('pbx-rj-01')} sip:127\.0\.0\.3:\d+ 0 0 name=pbx-rj-01$", files["dispatcher.list"], re.M
    )
    # a carrier named by host name is resolved when used, not when the list loads
    assert re.search(
        r"sip:sip\.embratel\.example\.com\.br:5060;transport=tcp 16 0 name=trunk_embratel",
        files["dispatcher.list"],
    )
    cfg = files["kamailio.cfg"]
    assert (
        "listen=udp:127.0.0.1:" in cfg and 'modparam("htable", "htable", "did=>size=16;dbtable=did;")' in cfg
    )
    assert f"text://{demo_repo / 'build' / EDGE}/db" in cfg
    assert render_edges(repo) == {EDGE: files}  # deterministic


def _sections(text: str) -> dict[str, list[str]]:
    """pjsip.conf as {header: option lines} (a name used by several objects keeps them apart)."""
    out: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("["):
            current = []
            key = line
            while key in out:
                key += "'"
            out[key] = current
        elif line and not line.startswith(";") and not line.startswith("#"):
            current.append(line)
    return out


def test_behind_an_edge_only_sip_entry_and_trunk_identity_change(demo_repo: Path) -> None:
    set_edges(demo_repo, None)
    before, _ = load_valid_repository(demo_repo)
    plain = render_servers(before, Secrets(None))
    set_edges(demo_repo, {"edge-01": {"pabx_edge_address": "203.0.113.5"}})
    after, _ = load_valid_repository(demo_repo)
    edged = render_servers(after, Secrets(None))
    assert set(render_edges(after)) == {"edge-01"}
    for server, files in plain.items():
        # the dialplan, queues, voicemail, CDR and every tenant's own files stay byte for byte
        changed = {rel for rel in files if files[rel] != edged[server][rel]}
        assert changed == {"pjsip.conf"}, (server, changed)
        old, new = _sections(files["pjsip.conf"]), _sections(edged[server]["pjsip.conf"])
        assert list(old) == list(new)
        for header, lines in new.items():
            added = [line for line in lines if line not in old[header]]
            dropped = [line for line in old[header] if line not in lines]
            if header == "[pabx-endpoint](!)":
                assert dropped == ["rewrite_contact=yes"]
                assert added == [
                    "rewrite_contact=no",
                    "deny=0.0.0.0/0.0.0.0",
                    "permit=203.0.113.5/255.255.255.255",
                ]
            elif header == "[pabx-aor](!)":
                assert (added, dropped) == (["support_path=yes"], [])
            elif header.endswith("-identify]"):
                endpoint = header[1:].removesuffix("-identify]")
                assert added == [f"match_header=X-Pabx-Trunk: {endpoint}"]
                assert dropped and all(line.startswith("match=") for line in dropped)
            elif header.startswith("[trunk_") and ("type=endpoint" in lines or "type=registration" in lines):
                proxy = next(line for line in added if line.startswith("outbound_proxy="))
                trunk = header[len("[trunk_") :].split("]")[0].removesuffix("-reg")
                tcp = after.trunks[trunk].transport.value == "tcp"
                assert proxy == "outbound_proxy=sip:203.0.113.5:5060\\;lr" + (
                    "\\;transport=tcp" if tcp else ""
                )
                assert dropped == []
                if "type=endpoint" in lines:
                    assert added[1:] == ["deny=0.0.0.0/0.0.0.0", "permit=203.0.113.5/255.255.255.255"]
            else:
                assert (added, dropped) == ([], []), header


def test_a_server_names_its_edge_and_a_host_name_edge_gets_no_acl(demo_repo: Path) -> None:
    edges: dict[str, dict[str, object]] = {
        "edge-01": {"pabx_edge_address": "edge-a.pabx.example.com.br"},
        "edge-02": {"pabx_edge_address": "203.0.113.9", "pabx_edge_port": 5070},
    }
    set_edges(demo_repo, edges, {"pbx-rj-01": {"pabx_edge": "edge-02"}})
    hosts = demo_repo / "inventory" / "hosts.yml"
    repo, _ = load_valid_repository(demo_repo)
    files = render_servers(repo, Secrets(None))
    sp, rj = files["pbx-sp-01"]["pjsip.conf"], files["pbx-rj-01"]["pjsip.conf"]
    assert "outbound_proxy=sip:edge-a.pabx.example.com.br:5060\\;lr" in sp  # the first edge by name
    assert "deny=" not in sp  # an edge known by name cannot be an ACL entry
    assert "outbound_proxy=sip:203.0.113.9:5070\\;lr" in rj and "permit=203.0.113.9/255.255.255.255" in rj
    hosts.write_text(hosts.read_text(encoding="utf-8").replace("pabx_edge: edge-02", "pabx_edge: edge-03"))
    found = [(p.rule, p.message, p.line) for p in validate_repository(demo_repo, use_cache=False)[1].problems]
    assert [(r, m) for r, m, _ in found if r == "server-edge"] == [
        (
            "server-edge",
            "server pbx-rj-01 names edge edge-03 in pabx_edge: the edge hosts are edge-01, edge-02",
        )
    ]


def test_pabx_render_writes_the_edge_beside_the_servers(
    demo_repo: Path, tmp_path: Path, runner: CliRunner
) -> None:
    _fleet(demo_repo, tmp_path)
    result = runner.invoke(main, ["render", "--repo", str(demo_repo), "--masked"])
    assert result.exit_code == 0, result.output
    assert f"{EDGE}: 8 files" in result.output
    assert (demo_repo / "build" / EDGE / "db" / "did").is_file()
    assert (demo_repo / "build" / EDGE / "manifest.json").is_file()
    only = runner.invoke(main, ["render", "--repo", str(demo_repo), "--masked", "--server", EDGE])
    assert only.exit_code == 0 and "pbx-sp-01" not in only.output, only.output


def test_moving_a_tenant_is_a_map_change_of_its_dids(demo_repo: Path, tmp_path: Path) -> None:
    repo, _ = load_valid_repository(_fleet(demo_repo, tmp_path))
    old = edge_map(repo)
    path = demo_repo / "tenants" / "acme.yaml"
    path.write_text(path.read_text().replace("server: pbx-sp-01", "server: pbx-rj-01"), encoding="utf-8")
    moved, _ = load_valid_repository(demo_repo)
    changes = map_changes(old, edge_map(moved))
    assert {(c.kind, c.key) for c in changes if c.kind == "tenant"} == {("tenant", "acme")}
    dids = {c.key for c in changes if c.kind == "did"}
    assert dids == {n.number for n in moved.numbers.values() if n.owner == "acme"}
    assert all(c.old == "pbx-sp-01" and c.new == "pbx-rj-01" for c in changes)
    assert changes[0].describe() == "Cliente acme: pbx-sp-01 → pbx-rj-01"


def _rules(repo: Path) -> list[tuple[str, str]]:
    _, report = validate_repository(repo, use_cache=False)
    return [(p.rule, p.message) for p in report.problems if p.rule.startswith("edge-")]


def test_validation_needs_every_server_reachable_from_the_edge(demo_repo: Path) -> None:
    hosts = demo_repo / "inventory" / "hosts.yml"
    text = hosts.read_text(encoding="utf-8").replace(
        "          pabx_sip_address: sip-rj.pabx.example.com.br\n", ""
    )
    hosts.write_text(text, encoding="utf-8")
    set_edges(demo_repo, {"edge-01": {"pabx_edge_port": 5080}})
    found = _rules(demo_repo)
    ids = [rule for rule, _ in found]
    assert "edge-address" in ids  # the edge has no address of its own
    assert any(r == "edge-server-reachable" and "pbx-rj-01" in m for r, m in found)
    assert any(r == "edge-did-server" and "pbx-rj-01" in m for r, m in found)
    _, report = validate_repository(demo_repo, use_cache=False)
    text_out = "\n".join(p.format_text() for p in report.problems if p.rule == "edge-server-reachable")
    assert text_out.startswith("inventory/hosts.yml:")


def test_validation_refuses_two_servers_on_one_address(demo_repo: Path, tmp_path: Path) -> None:
    _fleet(demo_repo, tmp_path)
    hosts = demo_repo / "inventory" / "hosts.yml"
    hosts.write_text(hosts.read_text(encoding="utf-8").replace("127.0.0.3", "127.0.0.2"), encoding="utf-8")
    text = hosts.read_text(encoding="utf-8")
    port = re.search(r"pabx_sip_port: (\d+)", text)
    assert port
    hosts.write_text(re.sub(r"pabx_sip_port: \d+", f"pabx_sip_port: {port.group(1)}", text), encoding="utf-8")
    assert any(r == "edge-server-reachable" and "share" in m for r, m in _rules(demo_repo))


def test_no_edge_no_edge_rules(demo_repo: Path) -> None:
    set_edges(demo_repo, None)
    assert _rules(demo_repo) == []


def test_pabx_fleet_reports_the_fill(demo_repo: Path, tmp_path: Path, runner: CliRunner) -> None:
    import json

    _fleet(demo_repo, tmp_path)
    result = runner.invoke(main, ["fleet", "--repo", str(demo_repo), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["edges"] == [EDGE]
    repo, _ = load_valid_repository(demo_repo)
    for row in data["servers"]:
        placed = [t for t in repo.tenants.values() if t.server == row["server"] and t.status != "removido"]
        assert row["tenants"] == len(placed)
        assert row["calls"] == sum(repo.plans[t.plan].limits.concurrent_calls for t in placed)
        assert row["used_pct"] == round(100 * row["calls"] / row["capacity"], 1)
    assert sum(r["dids"] for r in data["servers"]) == len(edge_map(repo).dids)
    text = runner.invoke(main, ["fleet", "--repo", str(demo_repo)]).output
    assert "Edge SIP: edge-01" in text and "pbx-sp-01" in text and "%" in text


def test_trace_did_shows_the_edge_hop_first(demo_repo: Path, tmp_path: Path, runner: CliRunner) -> None:
    import json

    set_edges(demo_repo, None)
    plain = runner.invoke(main, ["trace", "--repo", str(demo_repo), "--did", "1130010000"])
    assert plain.exit_code == 0 and not plain.output.startswith("edge"), plain.output
    _fleet(demo_repo, tmp_path)
    result = runner.invoke(main, ["trace", "--repo", str(demo_repo), "--did", "+551130010000"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith(f"edge {EDGE}: DID 1130010000 → pbx-sp-01 (sip:127.0.0.2:")
    data = json.loads(
        runner.invoke(
            main, ["trace", "--repo", str(demo_repo), "--did", "1130010000", "--format", "json"]
        ).output
    )
    assert data["edge"].startswith(f"edge {EDGE}: DID 1130010000 → pbx-sp-01")
