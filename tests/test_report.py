"""The report site builder (no browser): trees, links, panels, escaping, Extrato, formats."""

from __future__ import annotations

import copy
import datetime as dt
import html
import json
import re
from pathlib import Path

import markupsafe
import pytest
from click.testing import CliRunner

from pabx.cli import main
from pabx.errors import UserError
from pabx.loader import load_valid_repository
from pabx.model import Status
from pabx.render.secrets import Secrets
from pabx.report import Period, fmt, load_registrations
from pabx.report.source import _web_base
from tests.report_support import (
    KEY,
    SAMPLE,
    build_sample_site,
    links_of,
    local_targets,
    visible_text,
)

ADMIN_PAGES = (
    "index.html",
    "clientes.html",
    "numeros.html",
    "ramais.html",
    "rotas.html",
    "grupos.html",
    "pre-atendimentos.html",
    "extrato.html",
    "extrato.csv",
)
PANEL_PAGES = (
    "index.html",
    "numeros.html",
    "ramais.html",
    "grupos.html",
    "pre-atendimentos.html",
    "extrato.html",
    "extrato.csv",
)


# -- formats ------------------------------------------------------------------------------------


def test_money_and_numbers_are_brazilian() -> None:
    assert fmt.money(1234.56) == "R$\u00a01.234,56"
    assert fmt.money(0) == "R$\u00a00,00"
    assert fmt.money(1234567.005) == "R$\u00a01.234.567,01"  # half-up, not banker's
    assert fmt.money(-3.5) == "R$\u00a0-3,50"
    assert fmt.integer_br(1234567) == "1.234.567"
    assert fmt.minutes(12.25) == "12,3"
    assert fmt.date_br(dt.date(2026, 5, 4)) == "04/05/2026"
    assert fmt.date_br("2026-12-31") == "31/12/2026"
    assert fmt.month_br("2026-03") == "março/2026"
    assert fmt.phone("11987654321") == "(11) 98765-4321"
    assert fmt.subscriber("1130001000") == "3000-1000"
    assert (
        fmt.datetime_br(dt.datetime(2026, 5, 14, 2, 30, tzinfo=dt.UTC), "America/Sao_Paulo")
        == "13/05/2026 23:30"
    )


def test_period_defaults_and_mistakes() -> None:
    period = Period.resolve(today=dt.date(2026, 5, 14))
    assert (period.date_from, period.date_to) == (dt.date(2026, 4, 15), dt.date(2026, 5, 14))
    with pytest.raises(UserError, match="after"):
        Period.resolve(today=dt.date(2026, 5, 14), date_from=dt.date(2026, 5, 15))
    with pytest.raises(UserError, match="longer than a year"):
        Period.resolve(today=dt.date(2026, 5, 14), date_from=dt.date(2024, 1, 1))


@pytest.mark.parametrize(
    ("remote", "base"),
    [
        ("git@github.com:acme/pabx.git", "https://github.com/acme/pabx"),
        ("https://github.com/acme/pabx.git", "https://github.com/acme/pabx"),
        ("https://user:s3cr3t@git.example.com/ops/pabx", "https://git.example.com/ops/pabx"),
        ("ssh://git@git.example.com:2222/ops/pabx.git", "https://git.example.com/ops/pabx"),
        ("/srv/git/pabx.git", None),
        (None, None),
    ],
)
def test_revision_link_never_carries_credentials(remote: str | None, base: str | None) -> None:
    assert _web_base(remote) == base


# -- the two trees ------------------------------------------------------------------------------


@pytest.fixture
def site(demo_repo: Path, tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    result = build_sample_site(demo_repo, tmp_path / "site")
    return result.out, result.panels


def test_admin_tree_and_one_panel_per_tenant_not_removido(
    demo_repo: Path, site: tuple[Path, dict[str, Path]]
) -> None:
    out, panels = site
    for page in ADMIN_PAGES:
        assert (out / "admin" / page).is_file(), page
    repo, _ = load_valid_repository(demo_repo)
    expected = {slug for slug, t in repo.tenants.items() if t.status is not Status.REMOVIDO}
    assert set(panels) == expected
    secrets = Secrets(KEY)
    for slug, index in panels.items():
        token = secrets.panel_token(slug, repo.tenants[slug].access_rotation)
        assert index == out / "painel" / token / "index.html"
        assert len(token) >= 24
        for page in PANEL_PAGES:
            assert (index.parent / page).is_file(), (slug, page)
    assert (out / "painel" / "index.html").is_file()  # no listing of the tokens
    removed = [t.name for t in repo.tenants.values() if t.status is Status.REMOVIDO]
    assert removed
    for page in (out / "admin").rglob("*.html"):
        for name in removed:
            assert html.escape(name) not in page.read_text(encoding="utf-8"), page


def test_admin_links_each_panel_and_panels_link_nowhere_else(site: tuple[Path, dict[str, Path]]) -> None:
    out, panels = site
    admin_links = {target for target in local_targets(out / "admin" / "clientes.html")}
    for index in panels.values():
        assert index.resolve() in admin_links
    for page in (out / "admin").rglob("*.html"):
        for target in local_targets(page):
            assert target.exists(), (page, target)
    assets = (out / "painel" / "assets").resolve()
    for slug, index in panels.items():
        folder = index.parent.resolve()
        for page in index.parent.glob("*.html"):
            for target in local_targets(page):
                assert target.exists(), (page, target)
                assert target.is_relative_to(folder) or target.is_relative_to(assets), (slug, page, target)
            for url in links_of(page):
                assert "admin" not in url, (page, url)


def test_panel_tree_names_only_its_tenant(demo_repo: Path, site: tuple[Path, dict[str, Path]]) -> None:
    _, panels = site
    repo, _ = load_valid_repository(demo_repo)
    for slug, index in panels.items():
        text = "\n".join(p.read_text(encoding="utf-8") for p in index.parent.iterdir())
        own = repo.tenants[slug]
        assert html.escape(own.name) in text
        for other_slug, other in repo.tenants.items():
            if other_slug == slug:
                continue
            assert html.escape(other.name) not in text, (slug, other.name)
            assert other.email not in text
            assert other.document not in text
            assert f"{other_slug}_" not in text and f">{other_slug}<" not in text
            for number in repo.numbers_of(other_slug):
                assert fmt.subscriber(number.number) not in text, (slug, number.number)


def test_counters_come_from_the_repository_and_the_dataset(
    demo_repo: Path, site: tuple[Path, dict[str, Path]]
) -> None:
    out, panels = site
    repo, _ = load_valid_repository(demo_repo)
    live = [t for t in repo.tenants.values() if t.status is not Status.REMOVIDO]
    counters = _counters(out / "admin" / "index.html")
    assert counters["ramais"] == sum(len(t.extensions) for t in live)
    assert counters["pre_atendimentos"] == sum(len(t.ivrs) for t in live)
    assert counters["grupos"] == sum(len(t.queues) for t in live)
    assert counters["numeros"] == len(repo.numbers)
    assert counters["clientes"] == len(live)
    today = SAMPLE["platform"]["counters"]
    for key in ("entrada_hoje", "saida_hoje", "interna_hoje", "simultaneas"):
        assert counters[key] == today[key]
    acme = _counters(panels["acme"])
    assert "clientes" not in acme
    assert acme["ramais"] == len(repo.tenants["acme"].extensions)
    assert acme["numeros"] == len(repo.numbers_of("acme"))
    assert acme["saida_hoje"] == SAMPLE["tenants"]["acme"]["counters"]["saida_hoje"]


def _counters(page: Path) -> dict[str, int]:
    text = page.read_text(encoding="utf-8")
    found = re.findall(r'data-counter="([a-z_]+)">\s*<span class="counter-value">([\d.]+)</span>', text)
    return {key: int(value.replace(".", "")) for key, value in found}


def test_lists_have_the_seed_columns(site: tuple[Path, dict[str, Path]]) -> None:
    out, _ = site
    expected = {
        "clientes": ["#", "ID", "Cliente", "E-mail", "Permissão", "Código de serviço", "Plano", "Status"],
        "numeros": ["#", "DDD", "Número", "Rota", "Proprietário"],
        "ramais": ["#", "Conta", "Proprietário", "Ramal", "Nome", "Terminal", "Endereço"],
        "rotas": [
            "#",
            "Nome",
            "Local Fixo",
            "Local Móvel",
            "LDN Fixo",
            "LDN Móvel",
            "0300",
            "0800",
            "Serviços",
            "LDI",
        ],
    }
    for page, columns in expected.items():
        headers = re.findall(r'<th scope="col"[^>]*><button type="button">([^<]+)</button>', _read(out, page))
        assert headers[: len(columns)] == columns, page
    assert "Disponível" in _read(out, "numeros")


def _read(out: Path, page: str) -> str:
    return (out / "admin" / f"{page}.html").read_text(encoding="utf-8")


def test_ramais_show_live_registrations_or_desconhecido(demo_repo: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "status").mkdir(parents=True)
    (state / "status" / "registrations.json").write_text(
        json.dumps(
            {
                "collected_at": "2026-05-14T12:00:00Z",
                "endpoints": {
                    "acme_2001": {
                        "server": "pbx-sp-01",
                        "address": "203.0.113.7",
                        "user_agent": "Yealink T46U",
                        "status": "Avail",
                    }
                },
            }
        )
    )
    result = build_sample_site(demo_repo, tmp_path / "site", registrations=load_registrations(state))
    ramais = (result.out / "admin" / "ramais.html").read_text(encoding="utf-8")
    row = re.search(r"<tr>\s*<td data-sort=\"1\">1</td>.*?</tr>", ramais, re.S)
    assert row is not None
    assert "acme" in row.group(0) and "2001" in row.group(0)
    assert "pbx-sp-01" in row.group(0) and "203.0.113.7" in row.group(0)
    assert ramais.count("203.0.113.7") == 1
    assert "desconhecido" in ramais
    assert "coletados em 14/05/2026 09:00" in ramais  # shown in America/Sao_Paulo
    panel = (result.panels["clinica-sorriso"].parent / "ramais.html").read_text(encoding="utf-8")
    assert "203.0.113.7" not in panel


def test_broken_registrations_file_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "status").mkdir()
    (tmp_path / "status" / "registrations.json").write_text("{not json")
    with pytest.raises(UserError, match=r"registrations\.json"):
        load_registrations(tmp_path)


def test_hostile_names_are_escaped_everywhere(demo_repo: Path, tmp_path: Path) -> None:
    tenant_file = demo_repo / "tenants" / "acme.yaml"
    text = tenant_file.read_text(encoding="utf-8")
    hostile = 'Acme <script>alert("x")</script> & Cia'
    tenant_file.write_text(text.replace("name: Acme Comércio Ltda", f"name: '{hostile}'"), encoding="utf-8")
    sample = copy.deepcopy(SAMPLE)
    sample["platform"]["daily"][1]["class"] = "</script><script>alert(1)</script>"
    result = build_sample_site(demo_repo, tmp_path / "site", sample=sample)
    for page in [*result.out.rglob("*.html")]:
        content = page.read_text(encoding="utf-8")
        assert "<script>alert" not in content, page
    clientes = (result.out / "admin" / "clientes.html").read_text(encoding="utf-8")
    assert str(markupsafe.escape(hostile)) in clientes
    index = (result.out / "admin" / "index.html").read_text(encoding="utf-8")
    embedded = re.search(r'<script type="application/json" id="pabx-data">(.*?)</script>', index, re.S)
    assert embedded is not None
    data = json.loads(embedded.group(1))
    assert any(t["label"] == "</script><script>alert(1)</script>" for t in data["types"])


def test_extrato_page_and_csv_are_brazilian(demo_repo: Path, site: tuple[Path, dict[str, Path]]) -> None:
    out, panels = site
    raw = (out / "admin" / "extrato.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "Cliente;Código de serviço;Mês;Classe;Chamadas;Minutos;Valor (R$);Data de vencimento"
    acme = [line.split(";") for line in lines[1:] if line.startswith("Acme")]
    assert acme == [
        ["Acme Comércio Ltda", "ACM-0001", "05/2026", "Local Fixo", "7", "17,5", "1,40", "10/12/2026"],
        ["Acme Comércio Ltda", "ACM-0001", "05/2026", "LDN Fixo", "2", "12,0", "1,44", "10/12/2026"],
        ["Acme Comércio Ltda", "ACM-0001", "05/2026", "LDN Móvel", "1", "3,5", "1,37", "10/12/2026"],
        ["Acme Comércio Ltda", "ACM-0001", "05/2026", "Total", "10", "33,0", "4,21", "10/12/2026"],
    ]
    assert not any(line.startswith("Ricardo") for line in lines)  # removido: not in the scope
    page = visible_text((out / "admin" / "extrato.html").read_text(encoding="utf-8"))
    assert "maio/2026" in page and "R$\u00a04,21" in page and "10/12/2026" in page
    panel_csv = (panels["clinica-sorriso"].parent / "extrato.csv").read_text(encoding="utf-8-sig")
    assert "Acme" not in panel_csv and "Clínica Sorriso" in panel_csv


def test_access_rotation_retires_the_old_panel(demo_repo: Path, tmp_path: Path) -> None:
    first = build_sample_site(demo_repo, tmp_path / "site")
    old = first.panels["acme"].parent
    assert old.is_dir()
    tenant_file = demo_repo / "tenants" / "acme.yaml"
    text = tenant_file.read_text(encoding="utf-8")
    tenant_file.write_text(text.replace("plan: ", "access_rotation: 1\nplan: ", 1), encoding="utf-8")
    second = build_sample_site(demo_repo, tmp_path / "site")
    assert not old.exists()
    assert second.panels["acme"].is_file() and second.panels["acme"] != first.panels["acme"]
    assert second.panels["clinica-sorriso"] == first.panels["clinica-sorriso"]
    assert not list((tmp_path / "site").glob(".staging-*"))


def test_refuses_a_folder_it_did_not_build(demo_repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match="not built by pabx report"):
        build_sample_site(demo_repo, target)
    assert (target / "notes.txt").read_text() == "keep me"


def test_panels_need_the_secret_key(demo_repo: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="PABX_SECRET_KEY"):
        build_sample_site(demo_repo, tmp_path / "site", key=None)
    assert not (tmp_path / "site").exists()


def test_cli_without_key_exits_2(
    demo_repo: Path, tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PABX_SECRET_KEY")
    result = runner.invoke(main, ["report", "--repo", str(demo_repo), "--out", str(tmp_path / "site")])
    assert result.exit_code == 2
    assert "PABX_SECRET_KEY is not set" in result.output
    assert "Traceback" not in result.output


def test_cli_rejects_a_bad_date(demo_repo: Path, tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["report", "--repo", str(demo_repo), "--out", str(tmp_path / "s"), "--from", "31/02/2026"]
    )
    assert result.exit_code == 2
    assert "is not a date" in result.output


def test_pages_are_pt_br_with_the_revision_link(site: tuple[Path, dict[str, Path]]) -> None:
    out, panels = site
    for page in [out / "admin" / "index.html", panels["acme"]]:
        content = page.read_text(encoding="utf-8")
        assert '<html lang="pt-BR">' in content
        assert 'name="referrer" content="no-referrer"' in content  # a panel address never leaks
        assert "https://git.example.com/pabx/commit/0123456789abcdef" in content
        assert "Gerado em 14/05/2026 15:30 (America/Sao_Paulo)" in content
        assert "12/05/2026 a 14/05/2026" in content


def test_json_for_scripts_cannot_close_the_element() -> None:
    from pabx.report.env import json_script

    value = {"label": "</script><!-- & 'x' \u2028", "n": [1, 2.5]}
    text = str(json_script(value))
    for bad in ("<", ">", "&", "'", "\u2028"):
        assert bad not in text
    assert json.loads(text) == value
