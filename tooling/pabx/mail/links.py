"""The tenant's Painel do usuário address, as the report site publishes it (pabx.report.site)."""

from __future__ import annotations

from pabx.model.platform import Platform
from pabx.render.secrets import Secrets
from pabx.report.site import PANELS


def panel_url(platform: Platform, secrets: Secrets, tenant: str, rotation: int) -> str:
    """`<portal_url>/painel/<token>/`: the token derives from PABX_SECRET_KEY and the rotation,
    exactly as `pabx report` names the tenant's panel folder. Never printed, never logged."""
    token = secrets.panel_token(tenant, rotation)
    return f"{platform.portal_url.rstrip('/')}/{PANELS}/{token}/"
