"""The report site in a real headless Chromium (Debian's, driven by Playwright): every page
loads offline without console errors, charts answer hover and legend clicks, lists search and
sort, the Período filter moves the charts and not the counters, a panel shows one tenant.

Screenshots land in tests/artifacts/report/ (git-ignored).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import http.server
import os
import re
import shutil
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from pabx.cli import main
from pabx.loader import load_valid_repository
from pabx.model import Status
from pabx.render.secrets import Secrets
from pabx.report import fmt
from tests.conftest import ROOT, need
from tests.report_support import SAMPLE, build_sample_site

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts" / "report"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=pt-BR",
]
DATA_FOLDERS = ("inventory", "tenants", "numbers", "routes", "plans", "schemas", "templates")


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium per module, with a fresh profile (--user-data-dir)."""
    need(shutil.which("chromium") is not None, "chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - dev dependency
        need(False, "playwright (pip install -e '.[dev]')")
        raise
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=shutil.which("chromium") or CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            locale="pt-BR",
            timezone_id="America/Sao_Paulo",
            viewport={"width": 1400, "height": 900},
            service_workers="block",
            env={**os.environ, "LANGUAGE": "pt_BR:pt"},  # with chromium-l10n: dates read dd/mm/aaaa
        )
        context.set_default_timeout(10_000)
        yield context
        context.close()


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("repo")
    for folder in DATA_FOLDERS:
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, dest / folder)
    return dest


@pytest.fixture(scope="module")
def site(repo_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return build_sample_site(repo_copy, tmp_path_factory.mktemp("site") / "out")


@dataclass
class Visit:
    """A page opened with every console error, page error and non-file request recorded."""

    page: Any
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.foreign == [], f"requests left the site: {self.foreign}"

    def shot(self, name: str, *, full_page: bool = True) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def visit(context: Any, url: str, *, allowed_prefix: str = "file://") -> Visit:
    """Open `url`; anything not under `allowed_prefix` is blocked and recorded as a failure."""
    page = context.new_page()
    seen = Visit(page)
    page.on("console", lambda msg: seen.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: seen.errors.append(str(exc)))

    def guard(route: Any) -> None:
        if route.request.url.startswith(allowed_prefix):
            route.continue_()
        else:
            seen.foreign.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith(allowed_prefix) or request.url == "about:blank"
            else seen.foreign.append(request.url)
        ),
    )
    page.goto(url)
    page.wait_for_load_state("load")
    return seen


def dashboard_ready(page: Any) -> None:
    """dashboard.js marks the body with the period it drew (no eval: the pages' CSP forbids it)."""
    page.wait_for_load_state("load")
    page.locator("body[data-period]").wait_for(state="attached")


def text_of(locator: Any) -> str:
    return str(locator.inner_text()).replace("\u00a0", " ")


def counters(page: Any) -> dict[str, str]:
    return dict(
        page.eval_on_selector_all(
            "[data-counter]",
            "els => els.map(e => [e.dataset.counter, e.querySelector('.counter-value').textContent])",
        )
    )


# -- every page -----------------------------------------------------------------------------------


def test_every_page_loads_offline_without_console_errors(chromium: Any, site: Any) -> None:
    pages = sorted(site.out.rglob("*.html"))
    assert len(pages) == site.pages
    seen = visit(chromium, "about:blank", allowed_prefix="file://")
    for path in pages:
        seen.page.goto(path.as_uri())
        seen.page.wait_for_load_state("load")
        assert seen.page.title().endswith("PABX White Label Demo"), path
        if path.name == "index.html" and path.parent.name != "painel":
            dashboard_ready(seen.page)
        if path.parent.name == "admin" and path.stem in ("index", "clientes", "ramais", "extrato"):
            seen.shot(f"admin-{path.stem}")
        assert seen.errors == [], (path, seen.errors)
    seen.assert_clean()
    seen.page.close()


def test_pages_work_from_a_static_web_server(chromium: Any, site: Any) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site.out))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        origin = f"http://127.0.0.1:{server.server_address[1]}/"
        panel = site.panels["acme"].relative_to(site.out).as_posix()
        for rel in ("admin/index.html", "admin/clientes.html", panel):
            seen = visit(chromium, origin + rel, allowed_prefix=origin)
            seen.assert_clean()
            if rel.endswith("index.html"):
                dashboard_ready(seen.page)
                assert seen.page.evaluate("pabxDashboard.charts.uf.data.datasets[0].data.length") > 0
            seen.page.close()
    finally:
        server.shutdown()
        server.server_close()


# -- charts -----------------------------------------------------------------------------------------


def point(page: Any, chart: str, dataset: int, index: int) -> tuple[float, float]:
    """Page coordinates of one point (or pie slice) of a chart."""
    x, y = page.evaluate(
        """([chart, dataset, index]) => {
            const c = pabxDashboard.charts[chart];
            c.canvas.scrollIntoView({block: "center"});
            const el = c.getDatasetMeta(dataset).data[index];
            const p = el.tooltipPosition ? el.tooltipPosition(true) : el;
            const box = c.canvas.getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }""",
        [chart, dataset, index],
    )
    return float(x), float(y)


def dataset_index(page: Any, chart: str, label: str) -> int:
    index = page.evaluate(
        "([chart, label]) => pabxDashboard.charts[chart].data.datasets.findIndex(d => d.label === label)",
        [chart, label],
    )
    assert index >= 0, (chart, label)
    return int(index)


def test_hovering_a_point_shows_value_and_date(chromium: Any, site: Any) -> None:
    seen = visit(chromium, site.admin_index.as_uri())
    page = seen.page
    tooltip = page.locator("#grafico-consumo-reais .chart-tooltip")
    assert tooltip.is_hidden()
    local_fixo = dataset_index(page, "consumo-reais", "Local Fixo")
    page.mouse.move(*point(page, "consumo-reais", local_fixo, 2))  # 14/05
    tooltip.wait_for(state="visible")
    text = text_of(tooltip)
    assert "14/05/2026" in text
    assert "Local Fixo: R$ 0,60" in text
    assert "LDN Fixo: R$ 1,44" in text
    seen.shot("tooltip-consumo", full_page=False)

    page.mouse.move(*point(page, "simultaneas", 0, 10))
    tip = page.locator("#grafico-simultaneas .chart-tooltip")
    tip.wait_for(state="visible")
    assert "14/05/2026 10:00 às 10:59" in text_of(tip)
    assert "Chamadas simultâneas: 3" in text_of(tip)

    page.mouse.move(*point(page, "ligacoes", dataset_index(page, "ligacoes", "Entrada"), 0))
    tip = page.locator("#grafico-ligacoes .chart-tooltip")
    tip.wait_for(state="visible")
    assert "12/05/2026" in text_of(tip) and "Entrada: 6" in text_of(tip)

    sp = page.evaluate("pabxDashboard.charts.uf.data.labels.indexOf('SP')")
    page.mouse.move(*point(page, "uf", 0, sp))
    tip = page.locator("#grafico-uf .chart-tooltip")
    tip.wait_for(state="visible")
    sp_calls = sum(row["calls"] for row in SAMPLE["platform"]["by_uf"] if row["uf"] == "SP")
    total = sum(row["calls"] for row in SAMPLE["platform"]["by_uf"])
    share = fmt.decimal_br(100 * sp_calls / total, 1)
    assert f"SP: {sp_calls} chamadas ({share}%)" in text_of(tip)
    assert "12/05/2026 a 14/05/2026" in text_of(tip)
    seen.assert_clean()
    page.close()


def test_clicking_a_legend_entry_hides_that_series(chromium: Any, site: Any) -> None:
    seen = visit(chromium, site.admin_index.as_uri())
    page = seen.page
    chart = "consumo-reais"
    index = dataset_index(page, chart, "Local Fixo")
    button = page.locator(f"#grafico-{chart} .chart-legend button[data-label='Local Fixo']")
    assert button.get_attribute("aria-pressed") == "true"
    button.click()
    assert page.evaluate(f"pabxDashboard.charts['{chart}'].isDatasetVisible({index})") is False
    button = page.locator(f"#grafico-{chart} .chart-legend button[data-label='Local Fixo']")
    assert button.get_attribute("aria-pressed") == "false"
    ldn = dataset_index(page, chart, "LDN Fixo")
    page.mouse.move(*point(page, chart, ldn, 2))
    tooltip = page.locator(f"#grafico-{chart} .chart-tooltip")
    tooltip.wait_for(state="visible")
    assert "LDN Fixo" in text_of(tooltip) and "Local Fixo" not in text_of(tooltip)
    button.click()
    assert page.evaluate(f"pabxDashboard.charts['{chart}'].isDatasetVisible({index})") is True

    pie = page.locator("#grafico-uf .chart-legend button[data-label='SP']")
    pie.click()
    sp = page.evaluate("pabxDashboard.charts.uf.data.labels.indexOf('SP')")
    assert page.evaluate(f"pabxDashboard.charts.uf.getDataVisibility({sp})") is False
    assert (
        page.locator("#grafico-uf .chart-legend button[data-label='SP']").get_attribute("aria-pressed")
        == "false"
    )
    seen.shot("legend-toggled", full_page=False)
    seen.assert_clean()
    page.close()


def test_period_filter_changes_charts_not_counters(chromium: Any, site: Any) -> None:
    seen = visit(chromium, site.admin_index.as_uri())
    page = seen.page
    before = counters(page)
    assert page.evaluate("pabxDashboard.charts.ligacoes.data.labels") == [
        "2026-05-12",
        "2026-05-13",
        "2026-05-14",
    ]
    uf_before = page.evaluate("pabxDashboard.charts.uf.data.datasets[0].data.reduce((a, b) => a + b, 0)")
    assert uf_before == sum(row["calls"] for row in SAMPLE["platform"]["by_uf"])

    page.fill("#periodo-ate", "2026-05-13")
    page.dispatch_event("#periodo-ate", "change")
    assert page.evaluate("pabxDashboard.charts.ligacoes.data.labels") == ["2026-05-12", "2026-05-13"]
    uf_after = page.evaluate("pabxDashboard.charts.uf.data.datasets[0].data.reduce((a, b) => a + b, 0)")
    expected = sum(row["calls"] for row in SAMPLE["platform"]["by_uf"] if row["date"] <= "2026-05-13")
    assert uf_after == expected != uf_before
    peaks = page.evaluate("pabxDashboard.charts.simultaneas.data.datasets[0].data")
    assert peaks[14] == 2 and max(peaks) == 2  # the 24 h of 13/05, the period's last date
    assert "13/05/2026" in text_of(page.locator("#grafico-simultaneas [data-chart-note]"))
    assert text_of(page.locator("#periodo-texto")) == "12/05/2026 a 13/05/2026"
    assert counters(page) == before

    page.fill("#periodo-de", "2026-05-14")
    page.dispatch_event("#periodo-de", "change")
    assert page.locator("#periodo-erro").is_visible()
    assert page.evaluate("pabxDashboard.charts.ligacoes.data.labels.length") == 2  # refused, unchanged

    page.fill("#periodo-de", "2026-05-13")
    page.dispatch_event("#periodo-de", "change")
    assert page.evaluate("pabxDashboard.charts.ligacoes.data.labels") == ["2026-05-13"]
    assert counters(page) == before
    page.click("#refresh")  # Refresh reloads the page and keeps the chosen period
    dashboard_ready(page)
    assert page.evaluate("pabxDashboard.charts.ligacoes.data.labels") == ["2026-05-13"]
    assert counters(page) == before
    seen.assert_clean()
    page.close()


def test_counters_link_to_their_lists_and_expandir_goes_full_screen(chromium: Any, site: Any) -> None:
    seen = visit(chromium, site.admin_index.as_uri())
    page = seen.page
    for key, target in (("ramais", "Ramais"), ("numeros", "Números"), ("clientes", "Clientes")):
        page.click(f"a[data-counter='{key}']")
        assert text_of(page.locator("h1")) == target
        page.go_back()
    page.click("#expandir")
    page.locator("body.fullscreen").wait_for(state="attached")
    assert text_of(page.locator("#expandir")) == "Sair da tela cheia"
    page.click("#expandir")
    page.locator("body:not(.fullscreen)").wait_for(state="attached")
    assert page.evaluate("document.fullscreenElement") is None
    seen.assert_clean()
    page.close()


# -- lists ------------------------------------------------------------------------------------------


def visible_rows(page: Any) -> list[list[str]]:
    rows: list[list[str]] = page.eval_on_selector_all(
        "table.sortable tbody tr:not([hidden])",
        "rows => rows.map(r => Array.from(r.cells, c => c.textContent.trim()))",
    )
    return rows


def test_search_filters_a_list(chromium: Any, site: Any) -> None:
    seen = visit(chromium, (site.out / "admin" / "clientes.html").as_uri())
    page = seen.page
    total = len(visible_rows(page))
    assert total == 7
    page.fill("input[type=search]", "clinica")  # without the accent
    rows = visible_rows(page)
    assert len(rows) == 1 and rows[0][2] == "Clínica Sorriso Odontologia Ltda"
    assert text_of(page.locator("[data-count]")) == "1 de 7 registros"
    page.fill("input[type=search]", "ativo empresarial")  # every word, any column
    assert all("Ativo" in row and "Empresarial" in row for row in visible_rows(page))
    page.fill("input[type=search]", "nada-assim")
    assert visible_rows(page) == []
    assert page.locator("[data-empty]").is_visible()
    seen.shot("search-empty", full_page=False)
    page.fill("input[type=search]", "")
    assert len(visible_rows(page)) == total
    seen.assert_clean()
    page.close()


def test_sorting_is_numeric_and_text_aware(chromium: Any, site: Any) -> None:
    seen = visit(chromium, (site.out / "admin" / "numeros.html").as_uri())
    page = seen.page
    page.click("th:has-text('Número') button")
    numbers = [row[2] for row in visible_rows(page)]
    assert numbers == sorted(numbers, key=lambda n: int(n.replace("-", "")))
    assert page.get_attribute("th:has-text('Número')", "aria-sort") == "ascending"
    page.click("th:has-text('Número') button")
    assert [row[2] for row in visible_rows(page)] == numbers[::-1]
    assert page.get_attribute("th:has-text('Número')", "aria-sort") == "descending"
    page.click("th:has-text('Proprietário') button")
    owners = [row[4] for row in visible_rows(page)]
    assert owners == sorted(owners, key=lambda s: s.casefold().replace("í", "i"))
    page.close()

    seen = visit(chromium, (site.out / "admin" / "ramais.html").as_uri())
    page = seen.page
    page.click("th:has-text('Ramal') button")
    page.click("th:has-text('Ramal') button")
    ramais = [int(row[3]) for row in visible_rows(page)]
    assert ramais == sorted(ramais, reverse=True)
    page.click("th:has-text('#') button")
    assert [int(row[0]) for row in visible_rows(page)] == list(range(1, len(ramais) + 1))
    seen.assert_clean()
    page.close()


# -- tenant panels ----------------------------------------------------------------------------------


def test_a_tenant_panel_shows_only_that_tenant(chromium: Any, site: Any, repo_copy: Path) -> None:
    repo, _ = load_valid_repository(repo_copy)
    slug = "acme"
    own = repo.tenants[slug]
    others = {s: t for s, t in repo.tenants.items() if s != slug}
    folder = site.panels[slug].parent
    for path in sorted(folder.glob("*.html")):
        seen = visit(chromium, path.as_uri())
        page = seen.page
        seen.assert_clean()
        text = page.evaluate("document.documentElement.innerText + document.documentElement.innerHTML")
        assert own.name in page.inner_text("header")
        for other_slug, other in others.items():
            assert other.name not in text, (path.name, other.name)
            assert other.email not in text
            for number in repo.numbers_of(other_slug):
                assert fmt.subscriber(number.number) not in text, (path.name, number.number)
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            if href.startswith("file://"):
                assert href.startswith(folder.as_uri() + "/"), href
        if path.name == "index.html":
            assert counters(page)["ramais"] == str(len(own.extensions))
            assert "clientes" not in counters(page)
            seen.shot("panel-acme-dashboard")
        page.close()
    assert not [t for t in others.values() if t.status is Status.REMOVIDO and t.name in own.name]


def test_a_panel_without_calls_still_draws(chromium: Any, site: Any) -> None:
    seen = visit(chromium, site.panels["studio-luz"].as_uri())
    page = seen.page
    dashboard_ready(page)
    assert re.search("Sem chamadas no período", text_of(page.locator("#grafico-consumo-reais")))
    seen.assert_clean()
    page.close()


# -- the real pipeline: simulated CDRs -> pabx report --cdr -> counters -----------------------------


def plain_counters(master_csv: Path, today: dt.date, tenant: str | None = None) -> dict[str, int]:
    """Today's counters computed with nothing but the csv module: one call per linkedid, its
    direction from CDR(userfield), its day from its first leg's start in São Paulo time, and the
    peak of overlapping [first start, last end) intervals inside today. Refused attempts (no leg
    dialed anyone and every leg ended in Hangup: a plan, status or limit refusal) are not calls
    (README, CDRs)."""
    tz = ZoneInfo("America/Sao_Paulo")
    legs_of: dict[str, list[list[str]]] = defaultdict(list)
    with master_csv.open(newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            assert len(row) == 21, row  # the layout our cdr.conf asks for
            if tenant is None or row[0] == tenant:
                legs_of[row[19]].append(row)

    def utc(text: str) -> dt.datetime:
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)

    counts = {"entrada_hoje": 0, "saida_hoje": 0, "interna_hoje": 0}
    day_start = dt.datetime.combine(today, dt.time(), tz)
    day_end = day_start + dt.timedelta(days=1)
    events: list[tuple[dt.datetime, int]] = []
    for legs in legs_of.values():
        if not any(leg[6] for leg in legs) and all(leg[7] == "Hangup" for leg in legs):
            continue  # a refused attempt (nobody dialed, the dialplan hung up): not a call
        start = min(utc(leg[9]) for leg in legs)
        end = max(utc(leg[11]) for leg in legs)
        direction = next(leg[17] for leg in legs if leg[17]).split(":")[0]
        if start.astimezone(tz).date() == today:
            counts[f"{direction}_hoje"] += 1
        lo, hi = max(start, day_start), min(end, day_end)
        if lo < hi:
            events += [(lo, 1), (hi, -1)]
    current = peak = 0
    for _, step in sorted(events):  # at the same instant an end (-1) comes before a start
        current += step
        peak = max(peak, current)
    return {**counts, "simultaneas": peak}


def test_counters_match_the_cdr_file_computed_independently(
    chromium: Any, demo_repo: Path, tmp_path: Path, runner: CliRunner
) -> None:
    from pabx.cdr.simulate import simulate, write_csv

    today = dt.date(2026, 5, 14)
    repo, _ = load_valid_repository(demo_repo)
    master = tmp_path / "Master.csv"
    rows = write_csv(simulate(repo, days=7, calls_per_day=150, end=today, seed=7), master)
    assert rows > 1000
    out = tmp_path / "site"
    period = ["--from", "2026-05-08", "--to", "2026-05-14", "--today", "14/05/2026"]
    result = runner.invoke(
        main, ["report", "--repo", str(demo_repo), "--cdr", str(master), "--out", str(out), *period]
    )
    assert result.exit_code == 0, result.output
    assert f"{rows} row(s) read, {rows} new, 0 malformed" in result.output
    admin = out / "admin" / "index.html"
    assert str(admin.resolve()) in result.output

    expected = plain_counters(master, today)
    assert expected["entrada_hoje"] and expected["saida_hoje"] and expected["interna_hoje"]
    seen = visit(chromium, admin.as_uri())
    page = seen.page
    dashboard_ready(page)
    shown = counters(page)
    for key, value in expected.items():
        assert shown[key] == fmt.integer_br(value), (key, shown[key], value)
    # the bars of Hoje add up to the three counters
    bars = page.evaluate(
        "pabxDashboard.charts.ligacoes.data.datasets.reduce((sum, d) => sum + d.data[d.data.length - 1], 0)"
    )
    assert bars == expected["entrada_hoje"] + expected["saida_hoje"] + expected["interna_hoje"]
    seen.shot("cdr-admin-dashboard")
    seen.assert_clean()
    page.close()

    secrets = Secrets(b"test-throwaway-key")
    for slug in ("acme", "construtora-horizonte"):
        tenant = repo.tenants[slug]
        panel = out / "painel" / secrets.panel_token(slug, tenant.access_rotation) / "index.html"
        seen = visit(chromium, panel.as_uri())
        dashboard_ready(seen.page)
        mine = plain_counters(master, today, tenant=slug)
        shown = counters(seen.page)
        for key, value in mine.items():
            assert shown[key] == fmt.integer_br(value), (slug, key, shown[key], value)
        seen.assert_clean()
        seen.page.close()
