"""queues.conf: one queue per tenant grupo, named t_<slug>_q<number>, members its PJSIP endpoints."""

from __future__ import annotations

from pabx.render import naming
from pabx.render.conf import Section
from pabx.render.escape import token
from pabx.render.generators import RenderContext, generator
from pabx.render.view import ServerView, TenantView

MEMBER_RING_S = 15


@generator("queues.conf")
def generate(view: ServerView, rc: RenderContext) -> dict[str, str]:
    files: dict[str, str] = {}
    tenant_files = []
    for tv in view.tenants:
        if not tv.tenant.queues:
            continue
        rel = naming.tenant_file(tv.slug, "queues.conf")
        files[rel] = rc.template("queues_tenant.conf.j2").render(tenant=tv.slug, sections=tenant_sections(tv))
        tenant_files.append(naming.include_path(rel))
    general = Section("general").add("persistentmembers", "no").add("autofill", "yes")
    general.add("shared_lastcall", "yes").add("log_membername_as_agent", "yes")
    files["queues.conf"] = rc.template("queues.conf.j2").render(
        server=view.name, sections=[general], tenant_files=tenant_files
    )
    return files


def tenant_sections(tv: TenantView) -> list[Section]:
    sections = []
    for queue in tv.tenant.queues:
        s = Section(naming.queue_name(tv.slug, queue.number))
        s.add("strategy", queue.strategy.value).add("timeout", min(MEMBER_RING_S, queue.timeout))
        s.add("retry", 5).add("wrapuptime", 0).add("ringinuse", "no").add("joinempty", "yes")
        s.add("leavewhenempty", "no").add("announce-frequency", 0)
        for member in queue.members:
            s.add("member", f"PJSIP/{token(naming.endpoint(tv.slug, member))}")
        sections.append(s)
    return sections
