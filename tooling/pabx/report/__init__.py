"""The static report site: Dashboard, list screens, Extrato and one Painel do usuário per tenant."""

from pabx.report.registrations import Registrations, load_registrations
from pabx.report.site import DatasetSource, Period, Provenance, SiteResult, build_site, panel_tokens

__all__ = [
    "DatasetSource",
    "Period",
    "Provenance",
    "Registrations",
    "SiteResult",
    "build_site",
    "load_registrations",
    "panel_tokens",
]
