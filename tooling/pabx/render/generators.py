"""The generator registry: one generator per Asterisk file, registered explicitly.

A generator takes a ServerView and the render context and returns the files it owns as
{path relative to build/<server>/: text}. Per-tenant files are separate entries, so changing a
tenant changes only its own files (and the entry files only when the set of tenants changes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2

from pabx.render.secrets import Secrets
from pabx.render.view import ServerView


@dataclass(frozen=True)
class RenderContext:
    repo: Path
    env: jinja2.Environment
    secrets: Secrets

    def template(self, name: str) -> jinja2.Template:
        return self.env.get_template(f"asterisk/{name}")


Generator = Callable[[ServerView, RenderContext], dict[str, str]]

GENERATORS: dict[str, Generator] = {}


def generator(entry_file: str) -> Callable[[Generator], Generator]:
    def register(func: Generator) -> Generator:
        GENERATORS[entry_file] = func
        return func

    return register
