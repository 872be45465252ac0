"""cdr.conf: the settings the reports rely on (SPEC 9, CDR contract)."""

from __future__ import annotations

from pabx.render.conf import Section
from pabx.render.generators import RenderContext, generator
from pabx.render.view import ServerView

GENERAL = (("enable", "yes"), ("unanswered", "yes"), ("congestion", "yes"), ("batch", "no"))
CSV = (
    ("usegmtime", "yes"),
    ("loguniqueid", "yes"),
    ("loguserfield", "yes"),
    ("accountlogs", "no"),
    ("newcdrcolumns", "yes"),
)


@generator("cdr.conf")
def generate(view: ServerView, rc: RenderContext) -> dict[str, str]:
    sections = [Section("general", list(GENERAL)), Section("csv", list(CSV))]
    return {"cdr.conf": rc.template("cdr.conf.j2").render(server=view.name, sections=sections)}
