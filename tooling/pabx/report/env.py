"""The Jinja environment of the report pages: HTML autoescaped, StrictUndefined, pt-BR filters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

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
        json_script=json_script,
    )
    return env


_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"})


def json_script(value: Any) -> markupsafe.Markup:
    """Compact JSON safe inside <script type="application/json">: '<', '>', '&' and "'" never
    appear literally (only inside strings, as \\u escapes), so no text in the data can close the
    element or open a comment; U+2028/2029 are escaped for older parsers."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return markupsafe.Markup(text.translate(_SCRIPT_SAFE))
