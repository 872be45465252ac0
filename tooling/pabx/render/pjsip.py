"""pjsip.conf: transports, templates, carrier trunks; per tenant, one endpoint+aor+auth per extension."""

from __future__ import annotations

from pabx.edge.model import EdgeProxy, is_ip
from pabx.model import Trunk
from pabx.model.trunk import Transport
from pabx.render import naming
from pabx.render.conf import Section
from pabx.render.escape import ascii_text, token
from pabx.render.generators import RenderContext, generator
from pabx.render.view import ServerView, TenantView

ENDPOINT_TEMPLATE = "pabx-endpoint"
AOR_TEMPLATE = "pabx-aor"
AUTH_TEMPLATE = "pabx-auth"
# set by the edge on a carrier's call (Kamailio, from the carrier's source address); the edge
# removes it from anything else, so behind an edge it is what tells a carrier's call apart
TRUNK_HEADER = "X-Pabx-Trunk"


def transport_name(transport: Transport) -> str:
    return f"pabx-{transport.value}"


@generator("pjsip.conf")
def generate(view: ServerView, rc: RenderContext) -> dict[str, str]:
    files: dict[str, str] = {}
    tenant_files = []
    for tv in view.tenants:
        rel = naming.tenant_file(tv.slug, "pjsip.conf")
        files[rel] = rc.template("pjsip_tenant.conf.j2").render(
            tenant=tv.slug, sections=tenant_sections(tv, rc)
        )
        tenant_files.append(naming.include_path(rel))
    files["pjsip.conf"] = rc.template("pjsip.conf.j2").render(
        server=view.name,
        prefix=naming.INCLUDE_PREFIX,
        sections=server_sections(view, rc),
        tenant_files=tenant_files,
    )
    return files


def server_sections(view: ServerView, rc: RenderContext) -> list[Section]:
    sections: list[Section] = []
    address = view.hostvars.pabx_sip_address
    bind_host = address if address and is_ip(address) else "0.0.0.0"
    protocols = {Transport.UDP} | {t.transport for t in view.trunks.values()}
    for protocol in sorted(protocols, key=lambda p: p.value):
        port = view.hostvars.pabx_sip_port
        sections.append(
            Section(transport_name(protocol))
            .add("type", "transport")
            .add("protocol", protocol.value)
            .add("bind", f"{bind_host}:{port}")
        )
    endpoint = Section(ENDPOINT_TEMPLATE, is_template=True).add("type", "endpoint")
    endpoint.add("transport", transport_name(Transport.UDP)).add("disallow", "all")
    for codec in ("alaw", "ulaw"):
        endpoint.add("allow", codec)
    edge = view.edge
    for key, value in (
        ("direct_media", "no"),
        ("rtp_symmetric", "yes"),
        ("force_rport", "yes"),
        # behind an edge a phone's contact is kept as it registered: the edge reaches it (Path)
        ("rewrite_contact", "no" if edge else "yes"),
        ("dtmf_mode", "rfc4733"),
        ("allow_subscribe", "yes"),
        ("send_pai", "no"),
        ("trust_id_inbound", "no"),
    ):
        endpoint.add(key, value)
    _edge_only(endpoint, edge)
    sections.append(endpoint)
    aor = (
        Section(AOR_TEMPLATE, is_template=True)
        .add("type", "aor")
        .add("max_contacts", 1)
        .add("remove_existing", "yes")
        .add("qualify_frequency", 60)
    )
    if edge:
        aor.add("support_path", "yes")  # the edge's Path (with the phone's address) routes calls back
    sections.append(aor)
    sections.append(Section(AUTH_TEMPLATE, is_template=True).add("type", "auth").add("auth_type", "userpass"))
    for name, trunk in view.trunks.items():
        sections.extend(trunk_sections(name, trunk, rc, edge))
    return sections


def _edge_only(endpoint: Section, edge: EdgeProxy | None) -> None:
    """Behind an edge with an IP address, the endpoint takes requests from the edge alone."""
    if edge and edge.is_ip:
        endpoint.add("deny", "0.0.0.0/0.0.0.0").add("permit", f"{token(edge.address)}/255.255.255.255")


def _proxy(edge: EdgeProxy, transport: Transport) -> str:
    """The edge as outbound proxy, `;` escaped for the config file (it starts a comment there)."""
    param = "" if transport is Transport.UDP else f"\\;transport={transport.value}"
    return f"{token(edge.address)}:{edge.port}\\;lr{param}"


def trunk_sections(
    name: str, trunk: Trunk, rc: RenderContext, edge: EdgeProxy | None = None
) -> list[Section]:
    """A carrier trunk; behind an edge its requests go out through the edge (outbound proxy) and
    its calls are told apart by the edge's X-Pabx-Trunk header instead of the carrier's address."""
    ep_name = naming.trunk_endpoint(name)
    uri = f"sip:{token(trunk.host)}:{trunk.port}"
    proxy = "sip:" + _proxy(edge, trunk.transport) if edge else ""
    out: list[Section] = []
    endpoint = Section(ep_name).add("type", "endpoint").add("transport", transport_name(trunk.transport))
    endpoint.add("context", naming.trunk_context(name)).add("disallow", "all")
    for codec in trunk.codecs:
        endpoint.add("allow", token(codec))
    endpoint.add("aors", ep_name)
    if trunk.username:
        endpoint.add("outbound_auth", f"{ep_name}-auth")
        endpoint.add("from_user", token(trunk.username))
    endpoint.add("from_domain", token(trunk.host))
    for key, value in (
        ("direct_media", "no"),
        ("rtp_symmetric", "yes"),
        ("send_pai", "yes"),
        ("trust_id_outbound", "yes"),
        ("trust_id_inbound", "yes"),
        ("send_connected_line", "no"),  # who answered inside a tenant is never told to the carrier
    ):
        endpoint.add(key, value)
    if proxy:
        endpoint.add("outbound_proxy", proxy)
        _edge_only(endpoint, edge)
    out.append(endpoint)
    # no outbound_proxy on the aor: Asterisk 22 adds the endpoint's and the aor's to a qualify
    # OPTIONS, two Routes to the edge, and the edge would relay it to itself (lab, 2026-11-26)
    out.append(Section(ep_name).add("type", "aor").add("contact", uri).add("qualify_frequency", 60))
    if trunk.username:
        password = rc.secrets.from_env(trunk.password_env, f"trunk {name}") if trunk.password_env else ""
        auth = Section(f"{ep_name}-auth").add("type", "auth").add("auth_type", "userpass")
        auth.add("username", token(trunk.username)).add("password", password)
        out.append(auth)
    if trunk.registration and trunk.username:
        registration = (
            Section(f"{ep_name}-reg")
            .add("type", "registration")
            .add("transport", transport_name(trunk.transport))
            .add("outbound_auth", f"{ep_name}-auth")
            .add("server_uri", uri)
            .add("client_uri", f"sip:{token(trunk.username)}@{token(trunk.host)}:{trunk.port}")
            .add("contact_user", token(trunk.username))
            .add("retry_interval", 60)
            .add("forbidden_retry_interval", 600)
            .add("expiration", 3600)
        )
        if proxy:
            registration.add("outbound_proxy", proxy)
        out.append(registration)
    identify = Section(f"{ep_name}-identify").add("type", "identify").add("endpoint", ep_name)
    if edge:
        identify.add("match_header", f"{TRUNK_HEADER}: {ep_name}")
    else:
        for address in trunk.match or [trunk.host]:
            identify.add("match", token(address))
    out.append(identify)
    return out


def tenant_sections(tv: TenantView, rc: RenderContext) -> list[Section]:
    slug = tv.slug
    template = naming.ctx(slug, "endpoint")
    sections = [
        Section(template, templates=(ENDPOINT_TEMPLATE,), is_template=True)
        .add("context", naming.ctx(slug, "phones"))
        .add("accountcode", token(slug))
        .add("set_var", f"PABX_TENANT={token(slug)}")
    ]
    mailbox_ctx = naming.voicemail_context(slug)
    for ev in tv.extensions:
        name = ev.endpoint
        endpoint = Section(name, templates=(template,))
        endpoint.add("aors", name).add("auth", f"{name}-auth")
        endpoint.add("callerid", f'"{ascii_text(ev.ext.name)}" <{token(ev.ext.number)}>')
        if ev.ext.voicemail:
            endpoint.add("mailboxes", f"{ev.ext.number}@{mailbox_ctx}")
        endpoint.add("set_var", f"PABX_EXT={token(ev.ext.number)}")
        for var, value in (("PABX_CID", ev.caller_id), ("PABX_ROUTE", ev.route), ("PABX_DDD", ev.ddd)):
            if value:  # an empty set_var is not worth the doubt; unset reads as empty anyway
                endpoint.add("set_var", f"{var}={token(value)}")
        endpoint.add("set_var", "PABX_EXT_CLASSES=" + class_list(c.value for c in ev.classes))
        sections.append(endpoint)
        sections.append(Section(name, templates=(AOR_TEMPLATE,)))
        sections.append(
            Section(f"{name}-auth", templates=(AUTH_TEMPLATE,))
            .add("username", name)
            .add("password", rc.secrets.sip_password(name, ev.ext.sip_rotation))
        )
    return sections


def class_list(classes: object) -> str:
    """`/local_fixo/ldn_fixo/`: a list the dialplan tests with REGEX("/class/" ...)."""
    items = [token(c) for c in classes]  # type: ignore[attr-defined]
    return "/" + "/".join(items) + "/" if items else "/"
