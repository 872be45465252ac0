"""Helpers for the report tests: the hand-written sample datasets, a site built from them,
and what a tree of HTML pages links to."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from pabx.loader import load_valid_repository
from pabx.render.secrets import Secrets
from pabx.report import Period, Provenance, Registrations, SiteResult, build_site

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "report"
SAMPLE = json.loads((FIXTURES / "datasets.json").read_text(encoding="utf-8"))
SAMPLE_TODAY = dt.date(2026, 5, 14)
SAMPLE_FROM = dt.date(2026, 5, 12)
KEY = b"test-throwaway-key"


def sample_source(sample: Mapping[str, Any] = SAMPLE) -> Any:
    """A DatasetSource over the sample: the platform's, a listed tenant's, or an empty one."""

    def source(tenant: str | None) -> Mapping[str, Any]:
        if tenant is None:
            return sample["platform"]
        if tenant in sample["tenants"]:
            return sample["tenants"][tenant]
        empty = copy.deepcopy(sample["platform"])
        empty["scope"]["tenant"] = tenant
        empty["counters"] = dict.fromkeys(empty["counters"], 0)
        for key in ("daily", "concurrency", "by_uf", "extrato", "missed"):
            empty[key] = []
        return empty

    return source


def build_sample_site(
    repo_root: Path,
    out: Path,
    *,
    sample: Mapping[str, Any] = SAMPLE,
    registrations: Registrations | None = None,
    key: bytes | None = KEY,
) -> SiteResult:
    repo, _ = load_valid_repository(repo_root)
    return build_site(
        repo,
        out,
        sample_source(sample),
        secrets=Secrets(key),
        period=Period.resolve(today=SAMPLE_TODAY, date_from=SAMPLE_FROM),
        registrations=registrations or Registrations(),
        provenance=Provenance(
            "0123456789abcdef0123456789abcdef01234567",
            "https://git.example.com/pabx/commit/0123456789abcdef0123456789abcdef01234567",
            dt.datetime(2026, 5, 14, 18, 30, tzinfo=dt.UTC),
        ),
    )


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src", "action") and value:
                self.urls.append(value)


def links_of(page: Path) -> list[str]:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.urls


def local_targets(page: Path) -> Iterator[Path]:
    """Files a page links to or loads (mailto:, fragments and absolute web links left out)."""
    for url in links_of(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", url) or url.startswith("#"):
            continue
        yield (page.parent / url.split("#")[0]).resolve()


def visible_text(html: str) -> str:
    """What a reader sees and what the page embeds for scripts (tags removed, entities kept)."""
    return re.sub(r"<[^>]+>", " ", html)
