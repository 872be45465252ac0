"""voicemail.conf: the boxes of extensions with voicemail, one context per tenant (t_<slug>)."""

from __future__ import annotations

from pabx.render import naming
from pabx.render.conf import Section
from pabx.render.escape import text, token
from pabx.render.generators import RenderContext, generator
from pabx.render.view import ServerView, TenantView


@generator("voicemail.conf")
def generate(view: ServerView, rc: RenderContext) -> dict[str, str]:
    if not view.uses_voicemail:
        return {}
    files: dict[str, str] = {}
    tenant_files = []
    for tv in view.tenants:
        if not tv.uses_voicemail:
            continue
        rel = naming.tenant_file(tv.slug, "voicemail.conf")
        context = naming.voicemail_context(tv.slug)
        files[rel] = rc.template("voicemail_tenant.conf.j2").render(
            tenant=tv.slug, context=context, sections=[tenant_section(tv, rc)]
        )
        tenant_files.append(naming.include_path(rel))
    general = Section("general").add("format", "wav49|wav").add("attach", "yes").add("maxmsg", 100)
    general.add("maxsecs", 180).add("minsecs", 2).add("maxlogins", 3).add("review", "no")
    if view.platform.smtp is not None:
        general.add("serveremail", token(view.platform.smtp.sender))
    files["voicemail.conf"] = rc.template("voicemail.conf.j2").render(
        server=view.name, sections=[general], tenant_files=tenant_files
    )
    return files


def tenant_section(tv: TenantView, rc: RenderContext) -> Section:
    section = Section(naming.voicemail_context(tv.slug), arrow=True)
    for ext in tv.tenant.extensions:
        if not ext.voicemail:
            continue
        pin = rc.secrets.voicemail_pin(naming.endpoint(tv.slug, ext.number), ext.sip_rotation)
        name = text(ext.name).replace(",", " ")
        fields = [pin, name] + ([token(ext.email)] if ext.email else [])
        section.options.append((token(ext.number), ",".join(fields)))
    return section
