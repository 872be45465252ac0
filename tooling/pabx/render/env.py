"""The Jinja environment: StrictUndefined, repository templates first, the tool's own after."""

from __future__ import annotations

from pathlib import Path

import jinja2

TOOL_TEMPLATES = Path(__file__).resolve().parents[3] / "templates"


def template_dirs(repo: Path) -> list[Path]:
    """A repository may override any packaged template by putting one at the same path."""
    dirs = [repo / "templates"]
    if TOOL_TEMPLATES.resolve() != (repo / "templates").resolve():
        dirs.append(TOOL_TEMPLATES)
    return [d for d in dirs if d.is_dir()]


def make_environment(repo: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(repo)]),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # config files, not HTML: values are made safe by render.escape
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # one render = one read of each template
    )
