"""Secrets at render time: derived from PABX_SECRET_KEY, or read from named environment variables.

Without the key every secret renders as the same masked placeholder, so a pull-request job (which
never sees secrets) renders and plans exactly what the apply will do apart from those values.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from pabx.errors import UserError

KEY_VARIABLE = "PABX_SECRET_KEY"
MASKED = "(masked)"


@dataclass(frozen=True)
class Secrets:
    """Derives every secret from one key; `key=None` means masked mode."""

    key: bytes | None
    environ: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_environment(cls, *, masked: bool = False) -> Secrets:
        value = os.environ.get(KEY_VARIABLE, "")
        if masked or not value:
            return cls(None, dict(os.environ))
        return cls(value.encode("utf-8"), dict(os.environ))

    @property
    def masked(self) -> bool:
        return self.key is None

    def require_key(self, why: str) -> bytes:
        if self.key is None:
            raise UserError(f"{KEY_VARIABLE} is not set: it is needed to {why}")
        return self.key

    def _derive(self, purpose: str) -> bytes:
        assert self.key is not None
        return hmac.new(self.key, purpose.encode("utf-8"), hashlib.sha256).digest()

    def sip_password(self, endpoint: str, rotation: int) -> str:
        """The SIP password of an extension's endpoint; bump `sip_rotation` for a new one."""
        if self.key is None:
            return MASKED
        digest = self._derive(f"sip-password\0{endpoint}\0{rotation}")
        return base64.b32encode(digest).decode("ascii").rstrip("=").lower()[:24]

    def voicemail_pin(self, mailbox: str, rotation: int) -> str:
        if self.key is None:
            return MASKED
        digest = self._derive(f"voicemail-pin\0{mailbox}\0{rotation}")
        return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"

    def panel_token(self, tenant: str, rotation: int) -> str:
        """The unguessable path segment of a tenant's Painel do usuário (its "senha")."""
        key = self.require_key("derive the tenant panel addresses")
        digest = hmac.new(key, f"panel\0{tenant}\0{rotation}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode("ascii")

    def from_env(self, variable: str, what: str) -> str:
        """A credential read from the environment variable a data file names."""
        if self.key is None:
            return MASKED
        value = self.environ.get(variable)
        if not value:
            raise UserError(
                f"environment variable {variable} is not set: it holds the password of {what} "
                f"(render without {KEY_VARIABLE} to get masked placeholders instead)"
            )
        return value
