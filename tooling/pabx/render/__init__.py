"""Render the Asterisk configuration of every server from the validated repository.

`render_servers` is pure (files as text); `write_release` puts one server's files in
build/<server>/ (only what changed, stale files removed, secrets 0600) with its manifest.
"""

from __future__ import annotations

from pabx.render import cdr, extensions, pjsip, queues, voicemail  # noqa: F401  (register generators)
from pabx.render.generators import GENERATORS, RenderContext
from pabx.render.output import RenderResult, ServerResult, render_repository, render_servers, write_release

__all__ = [
    "GENERATORS",
    "RenderContext",
    "RenderResult",
    "ServerResult",
    "render_repository",
    "render_servers",
    "write_release",
]
