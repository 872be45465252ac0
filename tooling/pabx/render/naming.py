"""Names on the wire (SPEC 9) and where rendered files live, in one place."""

from __future__ import annotations

INCLUDE_PREFIX = (
    "pabx"  # /etc/asterisk/pabx -> the live release; Asterisk resolves includes from /etc/asterisk
)
ENTRY_FILES = ("pjsip.conf", "extensions.conf", "queues.conf", "voicemail.conf", "cdr.conf")
MANIFEST = "manifest.json"
SECRET_FILES = ("pjsip.conf", "voicemail.conf")  # files holding passwords/PINs: mode 0600


def endpoint(tenant: str, extension: str) -> str:
    return f"{tenant}_{extension}"


def trunk_endpoint(trunk: str) -> str:
    return f"trunk_{trunk}"


def tenant_file(tenant: str, kind: str) -> str:
    """Per-tenant include file, relative to the server's build directory."""
    return f"tenants/{tenant}/{kind}"


def include_path(rel: str) -> str:
    """An #include path as Asterisk resolves it (relative to its config directory)."""
    return f"{INCLUDE_PREFIX}/{rel}"


def ctx(tenant: str, name: str) -> str:
    return f"t_{tenant}_{name}"


def queue_name(tenant: str, number: str) -> str:
    return f"t_{tenant}_q{number}"


def voicemail_context(tenant: str) -> str:
    return f"t_{tenant}"


def route_context(route: str) -> str:
    return f"pabx-route-{route}"


def trunk_context(trunk: str) -> str:
    return f"pabx-from-{trunk}"


def is_secret_file(rel: str) -> bool:
    return rel.rsplit("/", 1)[-1] in SECRET_FILES
