"""The Jinja environment of the report pages: HTML autoescaped, StrictUndefined, pt-BR filters."""

from __future__ import annotations

from pathlib import Path

import jinja2

from pabx.render.env import template_dirs
from pabx.report import fmt


def make_environment(repo: Path) -> jinja2.Environment:
    """Repository templates first (`templates/report/…` overrides by path), the tool's own after."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(repo)]),
        undefined=jinja2.StrictUndefined,
        autoescape=True,  # every value is escaped; data for scripts goes through |tojson
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        money=fmt.money,
        integer=fmt.integer_br,
        minutes=fmt.minutes,
        date_br=fmt.date_br,
        month_br=fmt.month_br,
        phone=fmt.phone,
    )
    return env
